"""JSONPath reference paths and literals as JSONata expressions (for :mod:`saga.jsonata`).

``$.a.b[0]`` reads ``($states.input).`a`.`b`[0]``, ``$$.x`` reads ``$states.context.`x```,
and a ``[*]`` step maps over an array (JSONata does that by itself), the whole expression
then wrapped in ``[...]`` so that it is an array for any number of matches, as in JSONPath.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from engine.paths import normalized_path
from saga.errors import SagaDefinitionError

__all__ = ["INPUT", "STEP", "literal", "path_expression", "wrap"]

INPUT: Final = "$states.input"
STEP: Final = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[(-?\d+)\]|\[(\*)\]")
"""One step of a normalized path: a field name, an index, or ``[*]``."""


def wrap(expression: str) -> str:
    """``expression`` as a JSONata field value (``{% ... %}``)."""
    return "{% " + expression + " %}"


def literal(value: Any) -> str:
    """A JSON value as a JSONata literal."""
    return json.dumps(value, ensure_ascii=False)


def path_expression(path: str, data: str, where: str) -> str:
    """The JSONata expression reading the JSONPath reference path ``path`` from ``data``
    (``$$`` from ``$states.context``, a ``$name`` variable as itself)."""
    first, *mapped_parts = path.split("[*]")
    text = normalized_path(first) + "".join(
        "[*]" + normalized_path("$" + part)[1:] for part in mapped_parts
    )
    if text.startswith("$$"):
        root, rest = "$states.context", text[2:]
    else:
        match = re.match(r"\$[^\[]*", text)
        assert match is not None
        name = match.group(0)
        root, rest = (f"({data})" if name == "$" else name), text[len(name) :]
    expression = root
    position = 0
    mapped = False
    for step in STEP.finditer(rest):
        if step.start() != position:
            break
        position = step.end()
        if step.group(3) is not None:
            mapped = True  # a JSONata path step maps over an array by itself
            continue
        if step.group(2) is not None:
            if mapped:
                break  # an index after [*] picks from each match: no plain JSONata form
            expression += f"[{step.group(2)}]"
            continue
        name = step.group(1).replace("\\'", "'")
        if "`" in name:
            raise SagaDefinitionError(f"{where}: the path {path!r} has a name with a backtick")
        expression += f".`{name}`"
    if position != len(rest):
        raise SagaDefinitionError(
            f"{where}: the path {path!r} is not a reference path JSONata mode can translate"
        )
    return f"[{expression}]" if mapped else expression
