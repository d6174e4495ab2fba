"""JSONPath as the States Language uses it: Paths, Reference Paths and ResultPath.

A path is parsed once and cached. Reference-style paths (``$``, ``$.a.b``, ``$.a[0]``,
``$['x y']``) are walked by a small accessor; everything else (wildcards, slices, filters,
unions, deep scan) goes through jsonpath-ng, its results gathered into an array as AWS does.
``$$`` paths read the context object and ``$name`` paths read workflow variables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from jsonpath_ng.ext.parser import parse as _jsonpath_parse

from engine.errors import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesError

__all__ = [
    "InvalidPathError",
    "PathNotFound",
    "apply_result_path",
    "compact_json",
    "evaluate_path",
    "field_path_not_found",
    "in_state",
    "is_valid_path",
    "is_valid_reference_path",
    "is_valid_result_path",
    "normalized_path",
    "path_exists",
    "path_root",
]

Step = str | int
"""One step of a reference path: an object member name or an array index."""

_MISSING: Final = object()

_VARIABLE_NAME = re.compile(r"[^\W\d]\w*")
_DOT_NAME = re.compile(r"""[^.\[\]()\s'"*?@,:|&+`~=!<>/]+""")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]", re.ASCII)


class PathNotFound(StatesError):
    """A Path selected nothing; ``States.Runtime``, cause as AWS reports it for InputPath.

    ``path`` is the path as written and ``detail`` the part after ``Invalid path '...' :``.
    """

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(RUNTIME, f"Invalid path '{path}' : {detail}")


class InvalidPathError(StatesError, ValueError):
    """Text that is not a JSONPath ASL accepts; ``States.Runtime`` when met while running.

    Also a ``ValueError``, so validators can treat it as a syntax error.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(RUNTIME, f"invalid path '{path}': {reason}")


@dataclass(frozen=True, slots=True)
class _Path:
    """A parsed path: where it starts and how to walk from there."""

    text: str
    root: str  # "$" (state data), "$$" (context object) or a variable name
    steps: tuple[Step, ...] | None  # set for single-node (reference) paths
    expression: Any  # jsonpath-ng expression for multi-valued paths, else None

    @property
    def is_reference(self) -> bool:
        """Whether the path names a single node (no wildcard, slice, filter, union or scan)."""
        return self.steps is not None


def compact_json(value: Any) -> str:
    """JSON text without whitespace, the way Step Functions prints values in error causes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def in_state(error: StatesError, state_name: str, entered_event_id: int) -> StatesError:
    """The error with AWS's prefix naming the state where it happened (for ``States.Runtime``)."""
    prefix = (
        f"An error occurred while executing the state '{state_name}' "
        f"(entered at the event id #{entered_event_id}). "
    )
    return StatesError(error.error, prefix + (error.cause or ""))


def field_path_not_found(path: str, field: str, data: Any) -> StatesError:
    """``States.Runtime`` for a path in a ``.$`` field (or ErrorPath...) that found nothing."""
    return StatesError(
        RUNTIME,
        f"The JSONPath '{path}' specified for the field '{field}' could not be found "
        f"in the input '{compact_json(data)}'",
    )


# ---------------------------------------------------------------------------------------------
# Parsing


def _split_root(text: str) -> tuple[str, str]:
    """Split a path into its root (``$``, ``$$`` or a variable name) and the rest."""
    if not text.startswith("$"):
        raise InvalidPathError(text, "a path must start with '$'")
    if text.startswith("$$"):
        return "$$", text[2:]
    match = _VARIABLE_NAME.match(text, 1)
    if match is None:
        return "$", text[1:]
    return match.group(), text[match.end() :]


def _read_quoted(rest: str, start: int) -> tuple[str, int] | None:
    """Read a quoted member name at ``start`` (after ``[``); return it and the index after it."""
    quote = rest[start]
    chars: list[str] = []
    i = start + 1
    while i < len(rest):
        char = rest[i]
        if char == "\\" and i + 1 < len(rest) and rest[i + 1] in (quote, "\\"):
            chars.append(rest[i + 1])
            i += 2
            continue
        if char == quote:
            return "".join(chars), i + 1
        chars.append(char)
        i += 1
    return None


def _reference_steps(rest: str) -> tuple[Step, ...] | None:
    """The steps of a single-node path suffix, or ``None`` if it needs the full JSONPath engine."""
    steps: list[Step] = []
    i = 0
    while i < len(rest):
        char = rest[i]
        if char == "." and rest.startswith(".[", i):
            i += 1  # "$.a.['b c']" is accepted as "$.a['b c']"
            continue
        if char == ".":
            match = _DOT_NAME.match(rest, i + 1)
            if match is None:
                return None
            steps.append(match.group())
            i = match.end()
            continue
        if char != "[":
            return None
        j = i + 1
        while j < len(rest) and rest[j] == " ":
            j += 1
        if j < len(rest) and rest[j] in "'\"":
            read = _read_quoted(rest, j)
            if read is None:
                return None
            name, j = read
            while j < len(rest) and rest[j] == " ":
                j += 1
            if j >= len(rest) or rest[j] != "]":
                return None
            steps.append(name)
            i = j + 1
            continue
        index = _INDEX.match(rest, i)
        if index is None:
            return None
        steps.append(int(index.group(1)))
        i = index.end()
    return tuple(steps)


def _brackets(rest: str) -> tuple[str, list[str]] | None:
    """Split a path suffix into the text outside brackets and the bracket contents."""
    outside: list[str] = []
    inside: list[str] = []
    i = 0
    while i < len(rest):
        if rest[i] != "[":
            outside.append(rest[i])
            i += 1
            continue
        depth, j, quote = 0, i, ""
        while j < len(rest):
            char = rest[j]
            if quote:
                if char == "\\":
                    j += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= len(rest):
            return None
        inside.append(rest[i + 1 : j].strip())
        i = j + 1
    return "".join(outside), inside


_OUTSIDE = re.compile(r"""(?:\.\.?(?:[^.\[\]()\s'"?@,:|&+`~=!<>/]+|\*)?)*""")
_QUOTED = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_BRACKET = re.compile(
    rf"""\*|-?\d+(?:\s*,\s*-?\d+)*|-?\d*\s*:\s*-?\d*(?:\s*:\s*-?\d*)?"""
    rf"""|{_QUOTED}(?:\s*,\s*{_QUOTED})*|\?\s*\(.*\)""",
    re.ASCII,
)


def _unsupported_syntax(rest: str) -> str | None:
    """Why a multi-valued path suffix goes beyond ASL's JSONPath, or ``None`` if it does not."""
    split = _brackets(rest)
    if split is None:
        return "unbalanced brackets"
    outside, inside = split
    if _OUTSIDE.fullmatch(outside) is None:
        return "unsupported syntax outside brackets"
    for content in inside:
        if _BRACKET.fullmatch(content) is None or "`" in content:
            return f"unsupported bracket expression [{content}]"
    return None


@lru_cache(maxsize=4096)
def _parse(text: str) -> _Path:
    """Parse and cache a path; :class:`InvalidPathError` when it is not a JSONPath ASL accepts."""
    root, rest = _split_root(text)
    if rest and rest[0] not in ".[":
        raise InvalidPathError(text, "expected '.' or '[' after the root")
    steps = _reference_steps(rest)
    if steps is not None:
        return _Path(text, root, steps, None)
    problem = _unsupported_syntax(rest)
    if problem is not None:
        raise InvalidPathError(text, problem)
    try:
        expression = _jsonpath_parse("$" + rest)
    except Exception as exc:  # jsonpath-ng raises lexer, parser and plain errors
        raise InvalidPathError(text, str(exc)) from None
    return _Path(text, root, None, expression)


def is_valid_path(text: object) -> bool:
    """Whether ``text`` is a Path (``$…``, ``$$…`` or ``$var…``) as InputPath/OutputPath allow."""
    if not isinstance(text, str):
        return False
    try:
        _parse(text)
    except ValueError:
        return False
    return True


def is_valid_reference_path(text: object) -> bool:
    """Whether ``text`` is a Reference Path: a single node, no ``@ , : ? *`` or deep scan."""
    if not isinstance(text, str):
        return False
    try:
        return _parse(text).is_reference
    except ValueError:
        return False


def is_valid_result_path(text: object) -> bool:
    """Whether ``text`` can be a ResultPath: a data Reference Path, not ``$$``/``$var``."""
    if not isinstance(text, str):
        return False
    try:
        parsed = _parse(text)
    except ValueError:
        return False
    return parsed.is_reference and parsed.root == "$"


def path_root(text: str) -> str:
    """What a path starts from: ``"$"`` (state data), ``"$$"`` (context) or a variable name."""
    return _parse(text).root


def _step_text(step: Step) -> str:
    if isinstance(step, int):
        return f"[{step}]"
    escaped = step.replace("\\", "\\\\").replace("'", "\\'")
    return f"['{escaped}']"


def _normalized(root: str, steps: tuple[Step, ...]) -> str:
    head = root if root in ("$", "$$") else f"${root}"
    return head + "".join(_step_text(step) for step in steps)


def normalized_path(text: str) -> str:
    """A reference path in bracket notation, as AWS prints it in causes: ``$['a'][0]``."""
    parsed = _parse(text)
    if parsed.steps is None:
        return text
    return _normalized(parsed.root, parsed.steps)


# ---------------------------------------------------------------------------------------------
# Evaluation


def _root_value(parsed: _Path, data: Any, context: Any, variables: Mapping[str, Any] | None) -> Any:
    if parsed.root == "$":
        return data
    if parsed.root == "$$":
        return context
    if variables is None or parsed.root not in variables:
        return _MISSING
    return variables[parsed.root]


def _child(node: Any, step: Step) -> Any:
    """The member or element ``step`` of ``node``, or ``_MISSING``."""
    if isinstance(step, str):
        if isinstance(node, dict):
            return node.get(step, _MISSING)
        return _MISSING
    if isinstance(node, list):
        index = step + len(node) if step < 0 else step
        if 0 <= index < len(node):
            return node[index]
    return _MISSING


def _walk(parsed: _Path, data: Any, context: Any, variables: Mapping[str, Any] | None) -> Any:
    """The value a path selects, or ``_MISSING`` (a multi-valued path always yields a list)."""
    node = _root_value(parsed, data, context, variables)
    if node is _MISSING:
        return _MISSING
    steps = parsed.steps
    if steps is None:
        return [match.value for match in parsed.expression.find(node)]
    for step in steps:
        node = _child(node, step)
        if node is _MISSING:
            return _MISSING
    return node


def _not_found(
    parsed: _Path, data: Any, context: Any, variables: Mapping[str, Any] | None
) -> PathNotFound:
    """The PathNotFound for a reference path that selected nothing, with Jayway-style detail."""
    steps = parsed.steps or ()
    node = _root_value(parsed, data, context, variables)
    if node is not _MISSING:
        for depth, step in enumerate(steps):
            child = _child(node, step)
            if child is _MISSING:
                is_leaf = depth == len(steps) - 1
                if isinstance(step, str) and isinstance(node, dict) and not is_leaf:
                    where = _normalized(parsed.root, steps[: depth + 1])
                    return PathNotFound(parsed.text, f"Missing property in path {where}")
                break
            node = child
    return PathNotFound(parsed.text, f"No results for path: {_normalized(parsed.root, steps)}")


def evaluate_path(
    path: str, data: Any, context: Any, variables: Mapping[str, Any] | None = None
) -> Any:
    """The value ``path`` selects: ``$…`` in data, ``$$…`` in context, ``$name…`` in variables.

    A single-node path yields the node itself and raises :class:`PathNotFound` when absent; a
    multi-valued path (wildcard, slice, filter, union, deep scan) yields a list, maybe empty.
    Text that is not a path raises :class:`InvalidPathError`.
    """
    parsed = _parse(path)
    value = _walk(parsed, data, context, variables)
    if value is _MISSING:
        raise _not_found(parsed, data, context, variables)
    return value


def path_exists(
    path: str, data: Any, context: Any, variables: Mapping[str, Any] | None = None
) -> bool:
    """Whether ``path`` selects something (a ``null`` value counts); for Choice ``IsPresent``.

    A multi-valued path exists when it selects at least one node.
    """
    parsed = _parse(path)
    value = _walk(parsed, data, context, variables)
    if value is _MISSING:
        return False
    return parsed.steps is not None or bool(value)


# ---------------------------------------------------------------------------------------------
# ResultPath


def _result_path_failure(result_path: str, raw_input: Any) -> StatesError:
    return StatesError(
        RESULT_PATH_MATCH_FAILURE,
        f"Unable to apply ReferencePath {result_path} to input '{compact_json(raw_input)}'",
    )


def _placed(node: Any, steps: tuple[Step, ...], result: Any) -> Any:
    """``node`` with ``result`` placed at ``steps`` (copies along the way), or ``_MISSING``."""
    if not steps:
        return result
    step, rest = steps[0], steps[1:]
    if isinstance(step, str):
        if not isinstance(node, dict):
            return _MISSING
        child = node.get(step, _MISSING)
        if child is _MISSING:
            if rest and not isinstance(rest[0], str):
                return _MISSING
            child = {}
        placed = _placed(child, rest, result)
        if placed is _MISSING:
            return _MISSING
        updated = dict(node)
        updated[step] = placed
        return updated
    if not isinstance(node, list):
        return _MISSING
    index = step + len(node) if step < 0 else step
    if not 0 <= index < len(node):
        return _MISSING
    placed = _placed(node[index], rest, result)
    if placed is _MISSING:
        return _MISSING
    updated_list = list(node)
    updated_list[index] = placed
    return updated_list


def apply_result_path(raw_input: Any, result: Any, result_path: str | None) -> Any:
    """Place ``result`` in ``raw_input`` at ResultPath (``None``: keep input; ``"$"``: replace it).

    Missing objects on the way are created; the arguments are never mutated (the output shares
    untouched subtrees with them). Input that cannot hold the result raises
    ``States.ResultPathMatchFailure``.
    """
    if result_path is None:
        return raw_input
    if result_path == "$":
        return result
    try:
        parsed = _parse(result_path)
    except ValueError:
        raise StatesError(RUNTIME, f"Invalid ResultPath '{result_path}'") from None
    if parsed.steps is None or parsed.root != "$":
        raise StatesError(
            RUNTIME, f"Invalid ResultPath '{result_path}': it must be a Reference Path on '$'"
        )
    placed = _placed(raw_input, parsed.steps, result)
    if placed is _MISSING:
        raise _result_path_failure(result_path, raw_input)
    return placed
