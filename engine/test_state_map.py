"""TestState on a Map state: its items, and the item stages AWS's ``inspectionData`` reports.

A Map under TestState answers from its mock, so its iterations never run; what is worked out
is what the Map would hand them, reported as AWS names it: ``afterItemsPath`` (JSONPath, when
the state has ``ItemsPath``), ``afterItemSelector`` (each iteration's input, when the state has
``ItemSelector`` or ``Parameters``), ``afterItemBatcher`` (the batches, when it has
``ItemBatcher``) — each JSON text — and ``maxConcurrency`` (0 when unset),
``toleratedFailureCount`` and ``toleratedFailurePercentage`` (when set) as numbers.

An ``ItemReader``'s items come from ``stateConfiguration.mapItemReaderData``, the data as found
in its source (a JSON array, JSON lines or CSV as ``ReaderConfig.InputType`` says); without it
the reader reads its source as a run does. Items that are not an array fail the state with
``States.Runtime`` (``Reference path "$.x" must point to array.``), as AWS recorded.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any, Protocol

from engine.distributed.readers import read_items, read_items_from_text
from engine.errors import RUNTIME, StatesError, items_not_an_array
from engine.model import MapState
from engine.paths import PathNotFound, evaluate_path
from engine.payload_templates import apply_payload_template
from engine.states.distributed_map_state import batch_units

__all__ = ["MapScope", "inspect_map", "tolerance_exceeded"]

_QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"


class MapScope(Protocol):
    """What TestState's run of one state offers the Map inspection."""

    data: Any
    context: dict[str, Any]
    variables: dict[str, Any]
    jsonata: bool
    rng: random.Random
    inspection: dict[str, Any]

    def note(self, key: str, value: Any) -> None:
        """Record ``value`` as JSON text under ``key`` of the inspection data."""

    def evaluate(self, value: Any, location: str, **states: Any) -> Any:
        """A JSONata field evaluated with ``$states`` (``states`` overriding its members)."""


def _path(scope: MapScope, path: str, data: Any) -> Any:
    try:
        return evaluate_path(path, data, scope.context, scope.variables)
    except PathNotFound as exc:
        raise StatesError(RUNTIME, exc.cause) from None


def _number(scope: MapScope, literal: Any, path: str | None, data: Any, field: str) -> Any:
    """A literal, a JSONata expression or a ``…Path`` field's value (None when unset)."""
    if path is not None:
        return _path(scope, path, data)
    if isinstance(literal, str) and scope.jsonata:
        return scope.evaluate(literal, field)
    return literal


def _reader_items(
    scope: MapScope, reader: Mapping[str, Any], effective: Any, data: str | None
) -> list[Any]:
    config = dict(reader.get("ReaderConfig") or {})
    max_items = _number(scope, config.get("MaxItems"), config.get("MaxItemsPath"), effective, "")
    limit = max_items if isinstance(max_items, int) and not isinstance(max_items, bool) else 0
    resource = str(reader.get("Resource", ""))
    if data is not None:
        return list(read_items_from_text(resource, data, config, limit))
    if scope.jsonata:
        parameters = scope.evaluate(reader.get("Arguments", {}), "ItemReader.Arguments")
    else:
        parameters = apply_payload_template(
            reader.get("Parameters", {}),
            effective,
            scope.context,
            scope.variables,
            field="ItemReader.Parameters",
            rng=scope.rng,
        )
    return list(read_items(resource, parameters, config, limit))


def _items(scope: MapScope, state: MapState, effective: Any, data: str | None) -> list[Any]:
    if state.item_reader is not None:
        return _reader_items(scope, state.item_reader, effective, data)
    if scope.jsonata:
        items = scope.evaluate(state.items, "Items") if state.items is not None else effective
        if not isinstance(items, list):
            shown = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
            raise StatesError(
                _QUERY_EVALUATION_ERROR, f"Map state input must be an array but was: {shown}"
            )
        return items
    path = state.items_path
    items = effective if path is None or path == "$" else _path(scope, path, effective)
    if not isinstance(items, list):
        raise items_not_an_array(path)
    if path is not None:
        scope.note("afterItemsPath", items)
    return items


def _selected(scope: MapScope, state: MapState, effective: Any, items: list[Any]) -> list[Any]:
    selector = state.item_selector if state.item_selector is not None else state.parameters
    if selector is None:
        return items
    selected: list[Any] = []
    for index, value in enumerate(items):
        context = {**scope.context, "Map": {"Item": {"Index": index, "Value": value}}}
        if scope.jsonata:
            selected.append(scope.evaluate(selector, "ItemSelector", context=context))
        else:
            selected.append(
                apply_payload_template(
                    selector,
                    effective,
                    context,
                    scope.variables,
                    field="ItemSelector",
                    rng=scope.rng,
                )
            )
    scope.note("afterItemSelector", selected)
    return selected


def _non_negative(value: Any, field: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StatesError(RUNTIME, f"field {field} must be positive")
    return value


def _batches(scope: MapScope, batcher: Mapping[str, Any], effective: Any, items: list[Any]) -> None:
    def field(name: str) -> int:
        value = _number(scope, batcher.get(name), batcher.get(f"{name}Path"), effective, name)
        return _non_negative(value, name)

    base: dict[str, Any] = {}
    if batcher.get("BatchInput") is not None:
        if scope.jsonata:
            base["BatchInput"] = scope.evaluate(batcher["BatchInput"], "ItemBatcher.BatchInput")
        else:
            base["BatchInput"] = apply_payload_template(
                batcher["BatchInput"],
                effective,
                scope.context,
                scope.variables,
                field="ItemBatcher.BatchInput",
                rng=scope.rng,
            )
    units = batch_units(
        iter(items), base, field("MaxItemsPerBatch"), field("MaxInputBytesPerBatch")
    )
    scope.note("afterItemBatcher", [unit for unit, _ in units])


def _limits(scope: MapScope, state: MapState, effective: Any) -> None:
    concurrency = _number(
        scope, state.max_concurrency, state.max_concurrency_path, effective, "MaxConcurrency"
    )
    scope.inspection["maxConcurrency"] = _non_negative(concurrency, "MaxConcurrency")
    count = _number(
        scope,
        state.tolerated_failure_count,
        state.tolerated_failure_count_path,
        effective,
        "ToleratedFailureCount",
    )
    if count is not None:
        scope.inspection["toleratedFailureCount"] = _non_negative(count, "ToleratedFailureCount")
    share = _number(
        scope,
        state.tolerated_failure_percentage,
        state.tolerated_failure_percentage_path,
        effective,
        "ToleratedFailurePercentage",
    )
    if share is not None:
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 100:
            raise StatesError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
        scope.inspection["toleratedFailurePercentage"] = share


def inspect_map(
    scope: MapScope, state: MapState, effective: Any, reader_data: str | None
) -> list[Any]:
    """The Map's items (before selection); its item stages and limits noted in ``scope``.

    ``effective`` is the state's input after ``InputPath`` (its raw input for JSONata).
    Raises :class:`StatesError` where the Map itself would fail on them.
    """
    items = _items(scope, state, effective, reader_data)
    selected = _selected(scope, state, effective, items)
    if state.item_batcher is not None:
        _batches(scope, state.item_batcher, effective, selected)
    _limits(scope, state, effective)
    return items


def tolerance_exceeded(inspection: Mapping[str, Any], failures: int, total: int) -> bool:
    """Whether ``failures`` of ``total`` iterations exceed the tolerance noted in ``inspection``.

    Either threshold exceeded is enough, as in a run. A Map without
    ``ToleratedFailureCount``/``…Percentage`` is not checked against
    ``mapIterationFailureCount`` at all (AWS answered SUCCEEDED for one, as recorded).
    """
    count = inspection.get("toleratedFailureCount")
    share = inspection.get("toleratedFailurePercentage")
    over_count = count is not None and failures > count
    over_share = share is not None and failures * 100 > share * total
    return over_count or over_share
