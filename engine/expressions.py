"""JSONata expressions of ``QueryLanguage: JSONata`` states, evaluated as Step Functions does.

A string that starts with ``{%`` and ends with ``%}`` is an expression; its body is compiled
once (cached) and evaluated with ``$states`` and the workflow variables bound. The functions
Step Functions adds (``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid``, ``$parse``)
are registered on every expression. Every failure is ``States.QueryEvaluationError`` with the
cause AWS reports: undefined results, evaluation errors (``CODE: message``) and wrong types.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import math
import random
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Final

import jsonata

from engine.errors import StatesError

__all__ = [
    "QUERY_EVALUATION_ERROR",
    "QueryEvaluationError",
    "UNDEFINED",
    "evaluate_expression",
    "evaluate_jsonata",
    "evaluate_template",
    "expression_body",
    "expression_syntax_error",
    "is_expression",
    "json_type_name",
]

QUERY_EVALUATION_ERROR: Final = "States.QueryEvaluationError"
UNDEFINED: Final = jsonata.UNDEFINED
"""What an expression that selects nothing evaluates to (distinct from JSON ``null``)."""

_MAX_SAFE_INTEGER: Final = 2**53
_HASH_ALGORITHMS: Final = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
_rng: contextvars.ContextVar[random.Random | None] = contextvars.ContextVar(
    "jsonata_rng", default=None
)


class QueryEvaluationError(StatesError):
    """``States.QueryEvaluationError``; ``location`` is the field (``Output/result`` …).

    ``cause`` holds AWS's text after the state prefix; the interpreter adds the prefix naming
    the state and its entry event.
    """

    def __init__(self, cause: str, location: str | None) -> None:
        super().__init__(QUERY_EVALUATION_ERROR, cause)
        self.location = location


def is_expression(value: object) -> bool:
    """Whether ``value`` is a JSONata expression string ``{% … %}``."""
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def expression_body(text: str) -> str:
    """The expression between the delimiters, as AWS quotes it in causes (trimmed)."""
    return text[2:-2].strip()


def json_type_name(value: Any) -> str:
    """The JSON type name AWS uses in its type-mismatch causes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# -- the functions Step Functions adds -------------------------------------------------------


def _query_failure(message: str) -> ValueError:
    return ValueError(message)


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _query_failure(f"The '{name}' argument must be a number")
    return math.floor(value)


def _partition(array: Any, size: Any) -> Any:
    if not isinstance(array, list):
        array = [array]
    chunk = _integer(size, "size")
    if chunk <= 0:
        raise _query_failure("The 'size' argument must be a positive number")
    return [array[i : i + chunk] for i in range(0, len(array), chunk)]


def _range(start: Any, end: Any, step: Any) -> Any:
    first, last, stride = _integer(start, "start"), _integer(end, "end"), _integer(step, "step")
    if stride == 0:
        raise _query_failure("The 'step' argument must not be 0")
    values = list(range(first, last + (1 if stride > 0 else -1), stride))
    # AWS's $range yields a JSONata sequence: a single value is not wrapped in an array.
    return values[0] if len(values) == 1 else values


def _hash(data: Any, algorithm: Any) -> str:
    if not isinstance(data, str):
        raise _query_failure("The 'data' argument must be a string")
    name = _HASH_ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if name is None:
        raise _query_failure(
            f"The 'algorithm' argument must be one of {', '.join(_HASH_ALGORITHMS)}"
        )
    return hashlib.new(name, data.encode("utf-8")).hexdigest()


def _random(*seed: Any) -> float:
    if seed and seed[0] is not None:
        return random.Random(_integer(seed[0], "seed")).random()
    rng = _rng.get()
    return rng.random() if rng is not None else random.random()


def _uuid() -> str:
    rng = _rng.get()
    if rng is None:
        return str(uuid.uuid4())
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise _query_failure("The 'json' argument must be a string")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _query_failure(f"The 'json' argument is not valid JSON: {exc}") from None


_FUNCTIONS: Final[tuple[tuple[str, Callable[..., Any]], ...]] = (
    ("partition", _partition),
    ("range", _range),
    ("hash", _hash),
    ("random", _random),
    ("uuid", _uuid),
    ("parse", _parse),
)


_NAME: Final = re.compile(r"\$([^\W\d]\w*)")
_STATES_FIELD: Final = re.compile(r"\$states\b(?:\s*\.\s*(\w+))?")


@lru_cache(maxsize=4096)
def _names(body: str) -> tuple[frozenset[str], frozenset[str] | None]:
    """The variable names ``body`` mentions and the ``$states`` fields it reads (``None``:
    all of them): only those are handed to the library, which converts every binding."""
    names = frozenset(_NAME.findall(body))
    fields: set[str] = set()
    for match in _STATES_FIELD.finditer(body):
        if match.group(1) is None:
            return names, None
        fields.add(match.group(1))
    return names, frozenset(fields)


_CACHE_SIZE: Final = 4096
EVALUATION_TIMEOUT_MS = 10_000
"""How long one expression may run before it fails (``TIMEOUT``), so a runaway expression in a
definition cannot hold the engine."""
MAX_EVALUATION_DEPTH: Final = 5_000
"""How deep an expression may recurse before it fails (``STACK_OVERFLOW``) instead of crashing."""
_thread = threading.local()


def _compiled(body: str) -> jsonata.Jsonata:
    """The compiled expression, cached per thread: the library's objects may not be used from
    another thread than the one that made them (engines run in several threads)."""
    cache: dict[str, jsonata.Jsonata] | None = getattr(_thread, "cache", None)
    if cache is None:
        cache = _thread.cache = {}
    expression = cache.get(body)
    if expression is None:
        expression = jsonata.Jsonata(body)
        expression.set_output_convert_nulls(False)
        expression.set_runtime_bounds(EVALUATION_TIMEOUT_MS, MAX_EVALUATION_DEPTH)
        for name, function in _FUNCTIONS:
            expression.register_function(name, function)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[body] = expression
    return expression


def expression_syntax_error(text: str) -> str | None:
    """Why the expression ``{% … %}`` does not compile (``CODE: message``), or ``None``."""
    try:
        _compiled(expression_body(text))
    except jsonata.JsonataError as exc:
        return f"{exc.code}: {exc}"
    return None


def _plain(value: Any) -> Any:
    """JSONata's result as JSON data: integral numbers as ``int`` (JavaScript prints them so).

    Raises ``TypeError`` for what is not JSON (a function, an infinite number).
    """
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError("not a finite number")
        return int(value) if value.is_integer() and abs(value) < _MAX_SAFE_INTEGER else value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    raise TypeError(f"not JSON data: {type(value).__name__}")


def evaluate_jsonata(body: str, data: Any, bindings: Mapping[str, Any]) -> Any:
    """Evaluate the JSONata ``body`` on ``data`` (``None``: no input) with ``bindings``.

    Returns :data:`UNDEFINED` when it selects nothing; raises ``jsonata.JsonataError``, or
    ``TypeError`` for a result that is not JSON data. Step Functions' functions are available;
    numbers come back as JSON numbers.
    """
    expression = _compiled(body)
    names, states_fields = _names(body)
    used = {name: bindings[name] for name in names if name in bindings}
    states = used.get("states")
    if states_fields is not None and isinstance(states, Mapping):
        used["states"] = {key: states[key] for key in states_fields if key in states}
    value = expression.evaluate(data, used)
    return value if value is UNDEFINED else _plain(value)


def evaluate_expression(
    text: str,
    location: str,
    bindings: Mapping[str, Any],
    rng: random.Random | None = None,
) -> Any:
    """The value of the expression ``text`` (``{% … %}``) for the field ``location``.

    ``bindings`` maps variable names (``states`` and the workflow variables) to values.
    Raises :class:`QueryEvaluationError` for an error or an undefined result.
    """
    body = expression_body(text)
    prefix = f"The JSONata expression '{body}' specified for the field '{location}'"
    token = _rng.set(rng)
    try:
        value = evaluate_jsonata(body, None, bindings)
    except jsonata.JsonataError as exc:
        raise QueryEvaluationError(
            f"{prefix} threw an error during evaluation. {exc.code}: {exc}", location
        ) from None
    except TypeError:
        raise QueryEvaluationError(
            f"{prefix} returned an unsupported result type.", location
        ) from None
    else:
        if value is None and _is_function(body, bindings):
            raise QueryEvaluationError(f"{prefix} returned an unsupported result type.", location)
    finally:
        _rng.reset(token)
    if value is UNDEFINED:
        raise QueryEvaluationError(f"{prefix} returned nothing (undefined).", location)
    return value


def _is_function(body: str, bindings: Mapping[str, Any]) -> bool:
    """Whether ``body`` evaluates to a function (which the evaluator hands back as null).

    Asked only of a null result, so other results are evaluated once.
    """
    try:
        kind = evaluate_jsonata(f"$type(({body}\n))", None, bindings)
    except (jsonata.JsonataError, TypeError):
        return False
    return bool(kind == "function")


def evaluate_template(
    template: Any,
    location: str,
    bindings: Mapping[str, Any],
    rng: random.Random | None = None,
) -> Any:
    """A JSONata-mode field value: every ``{% … %}`` string in it evaluated, the rest kept.

    Objects and arrays are walked; a nested expression's location extends ``location`` with
    the keys and indexes leading to it (``Arguments/FunctionName``).
    """
    if isinstance(template, str):
        if is_expression(template):
            return evaluate_expression(template, location, bindings, rng)
        return template
    if isinstance(template, dict):
        return {
            key: evaluate_template(value, f"{location}/{key}", bindings, rng)
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [
            evaluate_template(value, f"{location}/{index}", bindings, rng)
            for index, value in enumerate(template)
        ]
    return template
