"""Payload templates: Parameters, ResultSelector, ItemSelector and Assign in JSONPath states.

A template copies its literal values and fills each ``key.$`` entry from a path or an intrinsic
function, so it sits above both :mod:`engine.paths` and :mod:`engine.intrinsics`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from engine.errors import RUNTIME, StatesError
from engine.intrinsics import evaluate_intrinsic, is_intrinsic
from engine.paths import PathNotFound, compact_json, evaluate_path, field_path_not_found


def _dynamic_value(
    key: str,
    *,
    expression: Any,
    data: Any,
    context: Any,
    variables: Mapping[str, Any] | None,
    field: str,
    rng: random.Random | None,
) -> Any:
    """The value of a ``key.$`` entry: a path or an intrinsic function."""
    if not isinstance(expression, str):
        raise StatesError(
            RUNTIME,
            f"The value of the field '{key}' in {field} must be a JSONPath or an intrinsic "
            f"function, not {compact_json(expression)}",
        )
    if expression.startswith("$"):
        try:
            return evaluate_path(expression, data, context, variables)
        except PathNotFound:
            raise field_path_not_found(expression, key, data) from None
        except ValueError as exc:
            raise StatesError(RUNTIME, f"Invalid JSONPath in the field '{key}': {exc}") from None
    if not is_intrinsic(expression):
        raise StatesError(
            RUNTIME,
            f"The value of the field '{key}' in {field} must be a JSONPath or an intrinsic "
            f"function, not '{expression}'",
        )
    try:
        return evaluate_intrinsic(expression, data, context, variables, rng)
    except PathNotFound as exc:
        raise field_path_not_found(exc.path, key, data) from None


def apply_payload_template(
    template: Any,
    data: Any,
    context: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    field: str = "Parameters",
    rng: random.Random | None = None,
) -> Any:
    """Evaluate a payload template (Parameters, ResultSelector, ItemSelector, Assign).

    Keys ending ``.$`` (at any depth, also inside arrays) lose the suffix and take the value of
    their path or intrinsic function; everything else is copied literally. A path that finds
    nothing raises ``States.Runtime`` with AWS's cause (``field`` names the template in other
    errors).
    """
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = _dynamic_value(
                    key,
                    expression=value,
                    data=data,
                    context=context,
                    variables=variables,
                    field=field,
                    rng=rng,
                )
            else:
                out[key] = apply_payload_template(
                    value, data, context, variables, field=field, rng=rng
                )
        return out
    if isinstance(template, list):
        return [
            apply_payload_template(item, data, context, variables, field=field, rng=rng)
            for item in template
        ]
    return template
