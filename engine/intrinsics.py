"""Intrinsic functions (``States.Format(...)`` and friends) for JSONPath payload templates.

Text is parsed once into a small tree (cached) and evaluated against the state data, the
context object and variables. Arguments are ``'strings'`` (escapes ``\\'`` ``\\{`` ``\\}``
``\\\\``), numbers, ``true``/``false``/``null``, paths (``$.x``, ``$$.x``, ``$var``) and nested
calls, up to 10 deep.

Bad arguments at run time raise ``StatesError("States.Runtime", ...)``: the spec names
``States.IntrinsicFailure``, but AWS surfaces failing intrinsics as ``States.Runtime`` in the
runs recorded so far, so the engine follows AWS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from engine.errors import RUNTIME, StatesError
from engine.paths import compact_json, evaluate_path, is_valid_path

__all__ = [
    "FUNCTION_ARITY",
    "IntrinsicCall",
    "IntrinsicLiteral",
    "IntrinsicPath",
    "MAX_NESTING",
    "evaluate_intrinsic",
    "intrinsic_syntax_error",
    "is_intrinsic",
    "java_round",
    "parse_intrinsic",
    "render_format_value",
]

MAX_NESTING: Final = 10
MAX_ARRAY_RANGE: Final = 1000
MAX_STRING_INPUT: Final = 10_000
_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1

FUNCTION_ARITY: Final[dict[str, tuple[int, int | None]]] = {
    "States.Format": (1, None),
    "States.StringToJson": (1, 1),
    "States.JsonToString": (1, 1),
    "States.Array": (0, None),
    "States.ArrayPartition": (2, 2),
    "States.ArrayContains": (2, 2),
    "States.ArrayRange": (3, 3),
    "States.ArrayGetItem": (2, 2),
    "States.ArrayLength": (1, 1),
    "States.ArrayUnique": (1, 1),
    "States.Base64Encode": (1, 1),
    "States.Base64Decode": (1, 1),
    "States.Hash": (2, 2),
    "States.JsonMerge": (3, 3),
    "States.MathRandom": (2, 3),
    "States.MathAdd": (2, 2),
    "States.StringSplit": (2, 2),
    "States.UUID": (0, 0),
}
"""Each intrinsic function with its (minimum, maximum) argument count; ``None`` = unbounded."""

_HASHES: Final = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}

_START = re.compile(r"States\.[A-Za-z0-9]+\s*\(")
_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?", re.ASCII)
_KEYWORD = re.compile(r"(true|false|null)\b")


@dataclass(frozen=True, slots=True)
class IntrinsicLiteral:
    """A literal argument; ``pieces`` is a string literal split at its unescaped ``{}``."""

    value: Any
    pieces: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class IntrinsicPath:
    """A path argument (``$.x``, ``$$.x``, ``$var.x``)."""

    path: str


@dataclass(frozen=True, slots=True)
class IntrinsicCall:
    """A call of an intrinsic function such as ``States.Format``."""

    name: str
    args: tuple[IntrinsicLiteral | IntrinsicPath | IntrinsicCall, ...]


_Arg = IntrinsicLiteral | IntrinsicPath | IntrinsicCall


# ---------------------------------------------------------------------------------------------
# Parsing


class _Parser:
    """Recursive-descent parser over one intrinsic function text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> ValueError:
        return ValueError(f"{message} at position {self.pos} in {self.text!r}")

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def call(self, depth: int) -> IntrinsicCall:
        if depth > MAX_NESTING:
            raise self.fail(f"intrinsic functions nest deeper than {MAX_NESTING} levels")
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected an intrinsic function name 'States.<Name>'")
        name = match.group()
        if name not in FUNCTION_ARITY:
            raise self.fail(f"unknown intrinsic function {name}")
        self.pos = match.end()
        self.skip_spaces()
        if not self.text.startswith("(", self.pos):
            raise self.fail(f"expected '(' after {name}")
        self.pos += 1
        args: list[_Arg] = []
        self.skip_spaces()
        if self.text.startswith(")", self.pos):
            self.pos += 1
        else:
            while True:
                args.append(self.argument(depth))
                self.skip_spaces()
                if self.text.startswith(",", self.pos):
                    self.pos += 1
                    continue
                if self.text.startswith(")", self.pos):
                    self.pos += 1
                    break
                raise self.fail("expected ',' or ')'")
        low, high = FUNCTION_ARITY[name]
        if len(args) < low or (high is not None and len(args) > high):
            expected = str(low) if low == high else f"{low}+" if high is None else f"{low}-{high}"
            raise ValueError(
                f"{name} takes {expected} argument(s), got {len(args)} in {self.text!r}"
            )
        return IntrinsicCall(name, tuple(args))

    def argument(self, depth: int) -> _Arg:
        self.skip_spaces()
        if self.pos >= len(self.text):
            raise self.fail("expected an argument")
        char = self.text[self.pos]
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call(depth + 1)
        keyword = _KEYWORD.match(self.text, self.pos)
        if keyword is not None:
            self.pos = keyword.end()
            return IntrinsicLiteral({"true": True, "false": False, "null": None}[keyword.group()])
        number = _NUMBER.match(self.text, self.pos)
        if number is not None:
            self.pos = number.end()
            text = number.group()
            is_float = number.group(1) is not None or number.group(2) is not None
            return IntrinsicLiteral(float(text) if is_float else int(text))
        raise self.fail(f"unexpected {char!r}")

    def string(self) -> IntrinsicLiteral:
        self.pos += 1
        pieces: list[str] = []
        current: list[str] = []
        value: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if escaped not in ("'", "{", "}", "\\"):
                    raise self.fail("a backslash must escape one of ' { } \\")
                current.append(escaped)
                value.append(escaped)
                self.pos += 2
                continue
            if char == "'":
                self.pos += 1
                pieces.append("".join(current))
                return IntrinsicLiteral("".join(value), tuple(pieces))
            if char == "{" and self.text.startswith("{}", self.pos):
                pieces.append("".join(current))
                current = []
                value.append("{}")
                self.pos += 2
                continue
            current.append(char)
            value.append(char)
            self.pos += 1
        raise self.fail("unterminated string literal")

    def path(self) -> IntrinsicPath:
        start = self.pos
        depth = 0
        quote = ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"" and depth > 0:
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (char == "," or char in " \t\r\n"):
                break
            self.pos += 1
        path = self.text[start : self.pos]
        if not is_valid_path(path):
            raise ValueError(f"invalid path {path!r} in {self.text!r}")
        return IntrinsicPath(path)


def is_intrinsic(text: object) -> bool:
    """Whether ``text`` looks like an intrinsic function call (``States.Name(``...)."""
    return isinstance(text, str) and _START.match(text) is not None


@lru_cache(maxsize=2048)
def parse_intrinsic(text: str) -> IntrinsicCall:
    """Parse an intrinsic function call (cached); ``ValueError`` with a message on bad syntax."""
    parser = _Parser(text)
    call = parser.call(1)
    if parser.pos != len(text):
        raise parser.fail("unexpected text after the closing ')'")
    return call


def intrinsic_syntax_error(text: str) -> str | None:
    """Why ``text`` is not a valid intrinsic function call, or ``None`` when it is."""
    try:
        parse_intrinsic(text)
    except ValueError as exc:
        return str(exc)
    return None


# ---------------------------------------------------------------------------------------------
# Argument checks and value rendering


def _fail(name: str, message: str) -> StatesError:
    return StatesError(RUNTIME, f"Invalid arguments in {name}: {message}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def java_round(value: float) -> int:
    """Round half up, as Java's ``Math.round``: 0.5 → 1, 2.5 → 3, -0.5 → 0, -2.5 → -2."""
    if isinstance(value, int):
        return value
    return math.floor(value + 0.5)


def _integer(name: str, what: str, value: Any) -> int:
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise _fail(name, f"the {what} must be a number, got {compact_json(value)}")
    return java_round(value)


def _array(name: str, what: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(name, f"the {what} must be an array, got {compact_json(value)}")
    return value


def _string(name: str, what: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(name, f"the {what} must be a string, got {compact_json(value)}")
    return value


def _object(name: str, what: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(name, f"the {what} must be an object, got {compact_json(value)}")
    return value


def _limited(name: str, value: str) -> str:
    if len(value) > MAX_STRING_INPUT:
        raise _fail(name, f"the input must be at most {MAX_STRING_INPUT} characters")
    return value


def _identity(value: Any) -> str:
    """A key equal for equal JSON values (booleans differ from numbers, as in Jackson)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def render_format_value(value: Any) -> str:
    """How ``States.Format`` prints a value: strings raw, JSON scalars, Java-style containers."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(render_format_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{key}={render_format_value(item)}" for key, item in value.items())
            + "}"
        )
    return json.dumps(value)


# ---------------------------------------------------------------------------------------------
# The functions


def _format(call: IntrinsicCall, args: list[Any]) -> str:
    template, values = args[0], args[1:]
    first = call.args[0]
    if isinstance(first, IntrinsicLiteral) and first.pieces is not None:
        pieces: Sequence[str] = first.pieces
    else:
        pieces = _string(call.name, "format string", template).split("{}")
    if len(pieces) - 1 != len(values):
        raise _fail(
            call.name,
            f"the format string has {len(pieces) - 1} placeholder(s) "
            f"but {len(values)} argument(s) were given",
        )
    out = [pieces[0]]
    for value, piece in zip(values, pieces[1:], strict=True):
        out.append(render_format_value(value))
        out.append(piece)
    return "".join(out)


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


def _string_to_json(name: str, args: list[Any]) -> Any:
    text = _string(name, "argument", args[0])
    if not text.strip():
        return None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise _fail(name, f"the string is not valid JSON: {exc}") from None


def _array_partition(name: str, args: list[Any]) -> list[list[Any]]:
    items = _array(name, "first argument", args[0])
    size = _integer(name, "chunk size", args[1])
    if size <= 0:
        raise _fail(name, f"the chunk size must be positive, got {size}")
    return [items[i : i + size] for i in range(0, len(items), size)]


def _array_contains(name: str, args: list[Any]) -> bool:
    items = _array(name, "first argument", args[0])
    wanted = _identity(args[1])
    return any(_identity(item) == wanted for item in items)


def _array_range(name: str, args: list[Any]) -> list[int]:
    first = _integer(name, "start", args[0])
    last = _integer(name, "end", args[1])
    step = _integer(name, "step", args[2])
    if step == 0:
        raise _fail(name, "the step must not be 0")
    count = max(0, (last - first) // step + 1)
    if count > MAX_ARRAY_RANGE:
        raise _fail(name, f"the range has {count} items, more than {MAX_ARRAY_RANGE}")
    return [first + i * step for i in range(count)]


def _array_get_item(name: str, args: list[Any]) -> Any:
    items = _array(name, "first argument", args[0])
    index = _integer(name, "index", args[1])
    if not 0 <= index < len(items):
        raise _fail(name, f"the index {index} is out of bounds for an array of {len(items)}")
    return items[index]


def _array_unique(name: str, args: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out: list[Any] = []
    for item in _array(name, "argument", args[0]):
        key = _identity(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _base64_encode(name: str, args: list[Any]) -> str:
    text = _limited(name, _string(name, "argument", args[0]))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _base64_decode(name: str, args: list[Any]) -> str:
    text = _limited(name, _string(name, "argument", args[0]))
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _fail(name, f"the argument is not base64-encoded UTF-8 text: {exc}") from None


def _hash(name: str, args: list[Any]) -> str:
    data = args[0] if isinstance(args[0], str) else compact_json(args[0])
    algorithm = _string(name, "algorithm", args[1])
    if algorithm not in _HASHES:
        raise _fail(name, f"the algorithm must be one of {', '.join(_HASHES)}, got '{algorithm}'")
    return hashlib.new(_HASHES[algorithm], _limited(name, data).encode("utf-8")).hexdigest()


def _json_merge(name: str, args: list[Any]) -> dict[str, Any]:
    left = _object(name, "first argument", args[0])
    right = _object(name, "second argument", args[1])
    deep = args[2]
    if not isinstance(deep, bool):
        raise _fail(name, f"the third argument must be a boolean, got {compact_json(deep)}")
    if deep:
        raise _fail(name, "deep merging is not supported; pass false")
    return {**left, **right}


def _math_random(name: str, args: list[Any], rng: random.Random | None) -> int:
    start = _integer(name, "start", args[0])
    end = _integer(name, "end", args[1])
    if start >= end:
        raise _fail(name, f"the start ({start}) must be less than the end ({end})")
    if len(args) == 3:
        source = random.Random(_integer(name, "seed", args[2]))
    else:
        source = rng if rng is not None else random.Random()
    return source.randrange(start, end)


def _math_add(name: str, args: list[Any]) -> int:
    total = 0
    for what, value in zip(("first argument", "second argument"), args, strict=True):
        if not _is_number(value) or not _INT_MIN <= value <= _INT_MAX:
            raise _fail(
                name, f"the {what} must be a number in [{_INT_MIN}, {_INT_MAX}], got {value}"
            )
        total += java_round(value)
    return total


def _string_split(name: str, args: list[Any]) -> list[str]:
    text = _string(name, "first argument", args[0])
    delimiters = _string(name, "delimiter", args[1])
    if not delimiters:
        return [text] if text else []
    pattern = "[" + "".join(re.escape(char) for char in dict.fromkeys(delimiters)) + "]"
    return [token for token in re.split(pattern, text) if token]


def _uuid(rng: random.Random | None) -> str:
    if rng is None:
        return str(uuid.uuid4())
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_SIMPLE: Final[dict[str, Callable[[str, list[Any]], Any]]] = {
    "States.StringToJson": _string_to_json,
    "States.JsonToString": lambda _name, args: compact_json(args[0]),
    "States.Array": lambda _name, args: list(args),
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": lambda name, args: len(_array(name, "argument", args[0])),
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _base64_encode,
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
}


# ---------------------------------------------------------------------------------------------
# Evaluation


def _evaluate(
    node: _Arg,
    data: Any,
    context: Any,
    variables: Mapping[str, Any] | None,
    rng: random.Random | None,
) -> Any:
    if isinstance(node, IntrinsicLiteral):
        return node.value
    if isinstance(node, IntrinsicPath):
        return evaluate_path(node.path, data, context, variables)
    args = [_evaluate(arg, data, context, variables, rng) for arg in node.args]
    if node.name == "States.Format":
        return _format(node, args)
    if node.name == "States.MathRandom":
        return _math_random(node.name, args, rng)
    if node.name == "States.UUID":
        return _uuid(rng)
    return _SIMPLE[node.name](node.name, args)


def evaluate_intrinsic(
    text: str,
    data: Any,
    context: Any,
    variables: Mapping[str, Any] | None = None,
    rng: random.Random | None = None,
) -> Any:
    """Evaluate an intrinsic function call against the state data, context and variables.

    A path argument that finds nothing raises ``PathNotFound``; bad syntax or bad arguments
    raise ``States.Runtime``. ``rng`` drives ``MathRandom`` (without seed) and ``UUID``.
    """
    try:
        call = parse_intrinsic(text)
    except ValueError as exc:
        raise StatesError(RUNTIME, f"Invalid intrinsic function: {exc}") from None
    return _evaluate(call, data, context, variables, rng)
