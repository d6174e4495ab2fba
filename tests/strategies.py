"""Hypothesis strategies for well-formed ASL definitions (JSONPath mode), as parsed JSON.

``machines()`` draws whole definitions with every state type, retriers, catchers, Choice
rules and nested Parallel/Map scopes. Every state is reachable (state ``i`` always leads to
state ``i + 1``) and every scope ends in a terminal state; extra transitions may loop back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "DATA_PATHS",
    "INTRINSICS",
    "json_values",
    "machines",
    "payload_templates",
    "retriers",
]

Json = Any

DATA_PATHS = ("$", "$.a", "$.a.b", "$.items[0]", "$.detail.items", "$$.Execution.Input")
"""Paths every checker accepts for InputPath/OutputPath/ItemsPath/`.$` values."""

RESULT_PATHS = ("$", "$.result", "$.a.b", "$.error")
REFERENCE_PATHS = ("$.seconds", "$.config.timeout", "$.a")

INTRINSICS = (
    "States.Format('Hello {}', $.name)",
    "States.Array($.a, 1, 'x')",
    "States.StringToJson($.text)",
    "States.JsonToString($.a)",
    "States.MathAdd($.n, 1)",
    "States.UUID()",
    "States.ArrayLength($.items)",
)

ERROR_NAMES = (
    "BookingError",
    "Lambda.ServiceException",
    "Lambda.TooManyRequestsException",
    "States.Timeout",
    "States.TaskFailed",
    "States.Permissions",
    "PaymentException",
)

RESOURCES = (
    "arn:aws:lambda:us-east-1:123456789012:function:reserve",
    "arn:aws:lambda:eu-west-1:123456789012:function:notify:live",
    "arn:aws:states:::lambda:invoke",
    "arn:aws:states:::sqs:sendMessage",
    "arn:aws:states:::dynamodb:putItem",
)

NAME_PREFIXES = ("S", "Step ", "reserve-", "Ünïcode ", "a/b~c ", "x.y_")

_KEYS = st.text(alphabet="abcdefghijKLMNOP_", min_size=1, max_size=6)
_TIMESTAMPS = st.sampled_from(
    ("2016-03-14T01:59:00Z", "2024-02-29T23:59:59.123Z", "2030-01-01T00:00:00+02:00")
)


def json_values(max_leaves: int = 6, *, in_template: bool = False) -> st.SearchStrategy[Json]:
    """Any JSON value (no NaN/infinity; object keys never end in ``.$``).

    ``in_template=True`` keeps ``null``, ``""`` and control characters (line breaks) out of
    template strings and arrays: asl-validator's payload-template schema rejects them inside
    arrays, although Step Functions accepts them.
    """
    numbers = st.integers(-(10**12), 10**12) | st.floats(
        allow_nan=False, allow_infinity=False, width=64
    )
    text = (
        st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=8)
        if in_template
        else st.text(max_size=8)
    )
    scalars = st.booleans() | numbers | text
    element_extra = st.nothing() if in_template else st.none()

    def extend(children: st.SearchStrategy[Json]) -> st.SearchStrategy[Json]:
        return st.lists(element_extra | children, max_size=3) | st.dictionaries(
            _KEYS, st.none() | children, max_size=3
        )

    return st.none() | st.recursive(scalars, extend, max_leaves=max_leaves)


@st.composite
def payload_templates(draw: st.DrawFn, depth: int = 2) -> dict[str, Json]:
    """A payload template: literal fields and ``.$`` fields (paths or intrinsics) at any depth."""
    keys = draw(st.lists(_KEYS, max_size=4, unique=True))
    out: dict[str, Json] = {}
    for key in keys:
        kind = draw(st.sampled_from(("literal", "path", "intrinsic", "nested", "array")))
        if kind == "path":
            out[key + ".$"] = draw(st.sampled_from(DATA_PATHS))
        elif kind == "intrinsic":
            out[key + ".$"] = draw(st.sampled_from(INTRINSICS))
        elif kind == "nested" and depth > 0:
            out[key] = draw(payload_templates(depth - 1))
        elif kind == "array" and depth > 0:
            out[key] = draw(st.lists(payload_templates(depth - 1), max_size=2))
        else:
            out[key] = draw(json_values(4, in_template=True))
    return out


@st.composite
def _error_equals(draw: st.DrawFn, *, allow_all: bool) -> list[str]:
    if allow_all and draw(st.booleans()):
        return ["States.ALL"]
    names: list[str] = draw(
        st.lists(st.sampled_from(ERROR_NAMES), min_size=1, max_size=3, unique=True)
    )
    return names


@st.composite
def retriers(draw: st.DrawFn, *, last: bool = False) -> dict[str, Json]:
    """One retrier; only the ``last`` may use ``States.ALL``."""
    out: dict[str, Json] = {"ErrorEquals": draw(_error_equals(allow_all=last))}
    if draw(st.booleans()):
        out["IntervalSeconds"] = draw(st.integers(1, 60))
    if draw(st.booleans()):
        out["MaxAttempts"] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        out["BackoffRate"] = draw(st.floats(1.0, 5.0, allow_nan=False) | st.integers(1, 3))
    if draw(st.booleans()):
        out["MaxDelaySeconds"] = draw(st.integers(1, 3600))
    if draw(st.booleans()):
        out["JitterStrategy"] = draw(st.sampled_from(("FULL", "NONE")))
    if draw(st.booleans()):
        out["Comment"] = draw(st.text(max_size=10))
    return out


@dataclass
class _Names:
    """Allocates state names unique across the whole machine."""

    used: list[str] = field(default_factory=list)

    def take(self, prefix: str) -> str:
        name = f"{prefix}{len(self.used)}"
        self.used.append(name)
        return name


def _list_of(draw: st.DrawFn, make: Any, max_size: int) -> list[Json]:
    count = draw(st.integers(0, max_size))
    return [draw(make(last=i == count - 1)) for i in range(count)]


@st.composite
def _catchers(draw: st.DrawFn, targets: list[str], *, last: bool) -> dict[str, Json]:
    out: dict[str, Json] = {
        "ErrorEquals": draw(_error_equals(allow_all=last)),
        "Next": draw(st.sampled_from(targets)),
    }
    choice = draw(st.sampled_from(("path", "null", "absent")))
    if choice == "path":
        out["ResultPath"] = draw(st.sampled_from(RESULT_PATHS))
    elif choice == "null":
        out["ResultPath"] = None
    return out


def _io(draw: st.DrawFn, state: dict[str, Json], *, result: bool) -> None:
    """Optional InputPath/OutputPath (and ResultPath) — ``null`` included."""
    for key in ("InputPath", "OutputPath", *(("ResultPath",) if result else ())):
        choice = draw(st.sampled_from(("absent", "absent", "path", "null")))
        if choice == "null":
            state[key] = None
        elif choice == "path":
            paths = RESULT_PATHS if key == "ResultPath" else DATA_PATHS
            state[key] = draw(st.sampled_from(paths))


def _errors(draw: st.DrawFn, state: dict[str, Json], targets: list[str]) -> None:
    retry = _list_of(draw, retriers, 3)
    if retry:
        state["Retry"] = retry
    catch = _list_of(draw, lambda last: _catchers(targets, last=last), 2)
    if catch:
        state["Catch"] = catch


_OPERATOR_VALUES: dict[str, st.SearchStrategy[Json]] = {
    "StringEquals": st.text(max_size=6),
    "StringLessThan": st.text(max_size=6),
    "StringGreaterThanEquals": st.text(max_size=6),
    "StringMatches": st.sampled_from(("log-*.txt", "*", "a\\*b")),
    "NumericEquals": st.integers(-100, 100) | st.floats(-1e6, 1e6, allow_nan=False),
    "NumericLessThan": st.integers(-100, 100),
    "NumericGreaterThanEquals": st.floats(-1e6, 1e6, allow_nan=False),
    "BooleanEquals": st.booleans(),
    "TimestampEquals": _TIMESTAMPS,
    "TimestampLessThan": _TIMESTAMPS,
    "IsNull": st.booleans(),
    "IsPresent": st.booleans(),
    "IsNumeric": st.booleans(),
    "IsString": st.booleans(),
    "IsBoolean": st.booleans(),
    "IsTimestamp": st.booleans(),
    "StringEqualsPath": st.sampled_from(("$.other", "$.names[1]")),
    "NumericLessThanPath": st.just("$.limit"),
    "TimestampGreaterThanPath": st.just("$.deadline"),
    "BooleanEqualsPath": st.just("$.flag"),
}


@st.composite
def _rule(draw: st.DrawFn, depth: int) -> dict[str, Json]:
    kind = draw(
        st.sampled_from(("test", "test", "And", "Or", "Not")) if depth > 0 else st.just("test")
    )
    if kind == "test":
        operator = draw(st.sampled_from(sorted(_OPERATOR_VALUES)))
        return {
            "Variable": draw(
                st.sampled_from(("$.a", "$.status", "$.items[0]", "$$.Execution.Name"))
            ),
            operator: draw(_OPERATOR_VALUES[operator]),
        }
    if kind == "Not":
        return {"Not": draw(_rule(depth - 1))}
    return {kind: draw(st.lists(_rule(depth - 1), min_size=1, max_size=3))}


@st.composite
def _state(
    draw: st.DrawFn, kind: str, next_name: str | None, targets: list[str], names: _Names, depth: int
) -> dict[str, Json]:
    state: dict[str, Json] = {"Type": kind}
    if draw(st.integers(0, 4)) == 0:
        state["Comment"] = draw(st.text(max_size=12))
    if kind == "Choice":
        rules = draw(st.lists(_rule(2), min_size=1, max_size=3))
        for rule in rules:
            rule["Next"] = draw(st.sampled_from(targets))
        state["Choices"] = rules
        assert next_name is not None
        state["Default"] = next_name
        _io(draw, state, result=False)
        return state
    if kind == "Succeed":
        _io(draw, state, result=False)
        return state
    if kind == "Fail":
        variant = draw(st.sampled_from(("literal", "path", "none")))
        if variant == "literal":
            state["Error"] = draw(st.sampled_from(ERROR_NAMES[:3]))
            state["Cause"] = draw(st.text(max_size=12))
        elif variant == "path":
            state["ErrorPath"] = "$.error"
            state["CausePath"] = draw(
                st.sampled_from(("$.cause", "States.Format('failed: {}', $.a)"))
            )
        return state
    if next_name is None:
        state["End"] = True
    else:
        state["Next"] = next_name
    if kind == "Pass":
        _io(draw, state, result=True)
        if draw(st.booleans()):
            state["Result"] = draw(json_values())
        if draw(st.booleans()):
            state["Parameters"] = draw(payload_templates())
    elif kind == "Wait":
        variant = draw(st.sampled_from(("Seconds", "Timestamp", "SecondsPath", "TimestampPath")))
        state[variant] = {
            "Seconds": draw(st.integers(0, 3600)),
            "Timestamp": draw(_TIMESTAMPS),
            "SecondsPath": "$.seconds",
            "TimestampPath": "$.when",
        }[variant]
        _io(draw, state, result=False)
    elif kind == "Task":
        state["Resource"] = draw(st.sampled_from(RESOURCES))
        _io(draw, state, result=True)
        if draw(st.booleans()):
            state["Parameters"] = draw(payload_templates())
        if draw(st.integers(0, 3)) == 0:
            state["ResultSelector"] = draw(payload_templates(1))
        timeout = draw(st.sampled_from(("none", "seconds", "path")))
        if timeout == "seconds":
            state["TimeoutSeconds"] = seconds = draw(st.integers(2, 3600))
            if draw(st.booleans()):
                state["HeartbeatSeconds"] = draw(st.integers(1, seconds - 1))
        elif timeout == "path":
            state["TimeoutSecondsPath"] = draw(st.sampled_from(REFERENCE_PATHS))
        if draw(st.integers(0, 5)) == 0:
            state["Credentials"] = {"RoleArn": "arn:aws:iam::123456789012:role/worker"}
        _errors(draw, state, targets)
    elif kind == "Parallel":
        state["Branches"] = draw(st.lists(_scope(names, depth - 1), min_size=1, max_size=2))
        _io(draw, state, result=True)
        if draw(st.integers(0, 3)) == 0:
            state["ResultSelector"] = draw(payload_templates(1))
        _errors(draw, state, targets)
    elif kind == "Map":
        processor = draw(_scope(names, depth - 1))
        if draw(st.booleans()):
            processor["ProcessorConfig"] = {"Mode": "INLINE"}
            state["ItemProcessor"] = processor
        else:
            state["Iterator"] = processor
        if draw(st.booleans()):
            state["ItemsPath"] = draw(st.sampled_from(("$.items", "$.detail.items", "$")))
        selector = draw(st.sampled_from(("none", "ItemSelector", "Parameters")))
        if selector != "none" and ("ItemProcessor" in state or selector == "Parameters"):
            state[selector] = draw(payload_templates(1))
        if draw(st.booleans()):
            state["MaxConcurrency"] = draw(st.integers(0, 10))
        _io(draw, state, result=True)
        _errors(draw, state, targets)
    return state


@st.composite
def _scope(draw: st.DrawFn, names: _Names, depth: int) -> dict[str, Json]:
    """A StartAt/States pair: a chain of states with extra (possibly looping) transitions."""
    count = draw(st.integers(1, 5 if depth > 0 else 3))
    prefix = draw(st.sampled_from(NAME_PREFIXES))
    own = [names.take(prefix) for _ in range(count)]
    middle = ["Pass", "Task", "Choice", "Wait"] + (["Parallel", "Map"] if depth > 0 else [])
    final = ["Succeed", "Fail", "Pass", "Task", "Wait"] + (["Parallel", "Map"] if depth > 0 else [])
    states: dict[str, Json] = {}
    for index, name in enumerate(own):
        last = index == count - 1
        kind = draw(st.sampled_from(final if last else middle))
        next_name = None if last else own[index + 1]
        states[name] = draw(_state(kind, next_name, own, names, depth))
    scope: dict[str, Json] = {"StartAt": own[0], "States": states}
    if draw(st.integers(0, 4)) == 0:
        scope["Comment"] = draw(st.text(max_size=12))
    return scope


@st.composite
def machines(draw: st.DrawFn, max_depth: int = 2) -> dict[str, Json]:
    """A whole well-formed definition (JSONPath), as a parsed JSON object."""
    machine = draw(_scope(_Names(), max_depth))
    if draw(st.booleans()):
        machine["Version"] = "1.0"
    if draw(st.integers(0, 3)) == 0:
        machine["TimeoutSeconds"] = draw(st.integers(1, 86400))
    return machine
