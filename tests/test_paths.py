"""JSONPath and ResultPath (engine.paths), payload templates (engine.payload_templates)."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import StatesError
from engine.paths import (
    InvalidPathError,
    PathNotFound,
    apply_result_path,
    compact_json,
    evaluate_path,
    field_path_not_found,
    in_state,
    is_valid_path,
    is_valid_reference_path,
    is_valid_result_path,
    normalized_path,
    path_exists,
    path_root,
)
from engine.payload_templates import apply_payload_template

DATA: dict[str, Any] = {
    "a": {"b": {"c": 1}},
    "n": [10, 20, 30, 40],
    "items": [{"x": 1, "k": "p"}, {"x": 2, "k": "q"}, {"x": 3, "k": "p"}],
    "x y": "spaced",
    "quote'd": "q",
    "nil": None,
    "zero": 0,
    "f": False,
    "s": "text",
    "emptyobj": {},
    "unicodé": "u",
}
CONTEXT: dict[str, Any] = {
    "Execution": {"Id": "arn:exec", "Input": {"k": 1}, "Name": "run-1"},
    "State": {"Name": "S", "RetryCount": 0},
    "Map": {"Item": {"Index": 2, "Value": {"v": True}}},
}
VARIABLES: dict[str, Any] = {"count": 3, "order": {"id": "o-1", "lines": [1, 2]}, "nil": None}


def _eval(path: str) -> Any:
    return evaluate_path(path, DATA, CONTEXT, VARIABLES)


# --- single-node paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DATA),
        ("$.a", {"b": {"c": 1}}),
        ("$.a.b.c", 1),
        ("$['a']['b']['c']", 1),
        ('$["a"]["b"]', {"c": 1}),
        ("$.a['b'].c", 1),
        ("$.a.['b']", {"c": 1}),
        ("$['x y']", "spaced"),
        ("$[ 'x y' ]", "spaced"),
        ("$['quote\\'d']", "q"),
        ("$.n[0]", 10),
        ("$.n[3]", 40),
        ("$.n[-1]", 40),
        ("$.n[-4]", 10),
        ("$.items[1].k", "q"),
        ("$.items[2]['x']", 3),
        ("$.nil", None),
        ("$.zero", 0),
        ("$.f", False),
        ("$.emptyobj", {}),
        ("$.unicodé", "u"),
    ],
)
def test_single_node_paths(path: str, expected: Any) -> None:
    assert _eval(path) == expected


def test_root_path_returns_same_object() -> None:
    assert evaluate_path("$", DATA, CONTEXT) is DATA


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$$", CONTEXT),
        ("$$.Execution.Id", "arn:exec"),
        ("$$.Execution.Input.k", 1),
        ("$$.State.RetryCount", 0),
        ("$$.Map.Item.Value", {"v": True}),
        ("$$['Map']['Item']['Index']", 2),
    ],
)
def test_context_paths(path: str, expected: Any) -> None:
    assert _eval(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$count", 3),
        ("$order", {"id": "o-1", "lines": [1, 2]}),
        ("$order.id", "o-1"),
        ("$order.lines[1]", 2),
        ("$order['id']", "o-1"),
        ("$nil", None),
        ("$order.lines[*]", [1, 2]),
    ],
)
def test_variable_paths(path: str, expected: Any) -> None:
    assert _eval(path) == expected


def test_variables_default_none() -> None:
    with pytest.raises(PathNotFound):
        evaluate_path("$count", DATA, CONTEXT)


def test_scalar_data_root() -> None:
    assert evaluate_path("$", 5, {}) == 5
    assert evaluate_path("$[1]", ["a", "b"], {}) == "b"


# --- multi-valued paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.n[*]", [10, 20, 30, 40]),
        ("$.n[0,1]", [10, 20]),
        ("$.n[0, 2]", [10, 30]),
        ("$.n[1:3]", [20, 30]),
        ("$.n[:2]", [10, 20]),
        ("$.n[-2:]", [30, 40]),
        ("$.n[::2]", [10, 30]),
        ("$.items[*].x", [1, 2, 3]),
        ("$..c", [1]),
        ("$.items..x", [1, 2, 3]),
        ("$.a.*", [{"c": 1}]),
        ("$.items[?(@.x > 1)].k", ["q", "p"]),
        ("$.items[?(@.k == 'p')].x", [1, 3]),
        ("$.items[?(@.x == 2)]", [{"x": 2, "k": "q"}]),
        ("$.n[0:1]", [10]),
        ("$.missing[*]", []),
        ("$.items[?(@.x > 99)]", []),
        ("$..nothing", []),
        ("$$.Execution.*", ["arn:exec", {"k": 1}, "run-1"]),
    ],
)
def test_multi_valued_paths_gather_a_list(path: str, expected: Any) -> None:
    assert _eval(path) == expected


# --- not found ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "cause"),
    [
        ("$.x", "Invalid path '$.x' : No results for path: $['x']"),
        ("$.a.b.d", "Invalid path '$.a.b.d' : No results for path: $['a']['b']['d']"),
        ("$.x.y", "Invalid path '$.x.y' : Missing property in path $['x']"),
        ("$.a.x.y", "Invalid path '$.a.x.y' : Missing property in path $['a']['x']"),
        ("$.n[4]", "Invalid path '$.n[4]' : No results for path: $['n'][4]"),
        ("$.n[-5]", "Invalid path '$.n[-5]' : No results for path: $['n'][-5]"),
        ("$.s.len", "Invalid path '$.s.len' : No results for path: $['s']['len']"),
        ("$.a[0]", "Invalid path '$.a[0]' : No results for path: $['a'][0]"),
        ("$.n.x", "Invalid path '$.n.x' : No results for path: $['n']['x']"),
        ("$['x y'].z", "Invalid path '$['x y'].z' : No results for path: $['x y']['z']"),
        ("$$.Nope", "Invalid path '$$.Nope' : No results for path: $$['Nope']"),
        ("$unknown", "Invalid path '$unknown' : No results for path: $unknown"),
        ("$order.nope", "Invalid path '$order.nope' : No results for path: $order['nope']"),
    ],
)
def test_path_not_found(path: str, cause: str) -> None:
    with pytest.raises(PathNotFound) as info:
        _eval(path)
    assert info.value.error == "States.Runtime"
    assert info.value.cause == cause
    assert info.value.path == path
    assert isinstance(info.value, StatesError)


def test_path_not_found_detail() -> None:
    with pytest.raises(PathNotFound) as info:
        evaluate_path("$.x", {}, {})
    assert info.value.detail == "No results for path: $['x']"


def test_in_state_prefixes_cause() -> None:
    with pytest.raises(PathNotFound) as info:
        evaluate_path("$.x", {}, {})
    error = in_state(info.value, "Pass1", 2)
    assert error.error == "States.Runtime"
    assert error.cause == (
        "An error occurred while executing the state 'Pass1' (entered at the event id #2). "
        "Invalid path '$.x' : No results for path: $['x']"
    )


def test_invalid_path_raises_value_error() -> None:
    with pytest.raises(ValueError, match="invalid path"):
        evaluate_path("a.b", {}, {})


@pytest.mark.parametrize(
    ("path", "cause"),
    [
        ("a.b", "invalid path 'a.b': a path must start with '$'"),
        ("$1", "invalid path '$1': expected '.' or '[' after the root"),
        ("$.a|$.b", "invalid path '$.a|$.b': unsupported syntax outside brackets"),
        ("$.a[/x]", "invalid path '$.a[/x]': unsupported bracket expression [/x]"),
        ("$.a[", "invalid path '$.a[': unbalanced brackets"),
    ],
)
def test_invalid_path_is_a_runtime_states_error(path: str, cause: str) -> None:
    with pytest.raises(InvalidPathError) as info:
        path_exists(path, {}, {})
    assert isinstance(info.value, StatesError)
    assert info.value.error == "States.Runtime"
    assert info.value.cause == cause
    assert info.value.path == path


# --- path_exists -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", True),
        ("$.a.b.c", True),
        ("$.nil", True),
        ("$.zero", True),
        ("$.f", True),
        ("$.x", False),
        ("$.x.y", False),
        ("$.n[3]", True),
        ("$.n[4]", False),
        ("$.s.x", False),
        ("$$.Execution.Id", True),
        ("$$.Nope", False),
        ("$count", True),
        ("$nil", True),
        ("$unknown", False),
        ("$.n[*]", True),
        ("$.missing[*]", False),
        ("$.items[?(@.x > 2)]", True),
    ],
)
def test_path_exists(path: str, expected: bool) -> None:
    assert path_exists(path, DATA, CONTEXT, VARIABLES) is expected


# --- validity ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "$",
        "$.a",
        "$.a.b[0]",
        "$['a b']",
        "$$",
        "$$.Execution.Input",
        "$var",
        "$var.x[2]",
        "$.a[*]",
        "$.a[0,1]",
        "$.a[1:2]",
        "$..x",
        "$.a[?(@.x > 1)]",
        "$.a.['b c']",
        "$.a-b",
        "$.ünï",
    ],
)
def test_valid_paths(path: str) -> None:
    assert is_valid_path(path) is True


@pytest.mark.parametrize(
    "path",
    [
        "",
        "a",
        "$a b",
        ".a",
        "$.a b",
        "$.a[",
        "$.a['b]",
        "$.a + $.b",
        "$.a`len`",
        "$.a[/x]",
        "$.a where $.b",
        "$.a|$.b",
        "$.a.length()",
        "States.Array(1)",
        "$[abc]",
        "$1",
        "$.a[\u0663]",
        "$.a[1:\u0663]",
    ],
)
def test_invalid_paths(path: str) -> None:
    assert is_valid_path(path) is False


def test_non_string_is_not_a_path() -> None:
    assert is_valid_path(None) is False
    assert is_valid_reference_path(3) is False
    assert is_valid_result_path(["$"]) is False


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", True),
        ("$.a.b", True),
        ("$.a[0]", True),
        ("$.a[-1]", True),
        ("$['a b'].c", True),
        ("$['a,b']", True),
        ("$['a:b?@*']", True),
        ("$$.Execution.Input", True),
        ("$var.x", True),
        ("$.a[*]", False),
        ("$.a.*", False),
        ("$.a[0,1]", False),
        ("$.a[0:1]", False),
        ("$..a", False),
        ("$.a[?(@.x)]", False),
        ("$['a','b']", False),
        ("nope", False),
    ],
)
def test_reference_paths(path: str, expected: bool) -> None:
    assert is_valid_reference_path(path) is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", True),
        ("$.result", True),
        ("$.a.b[0]", True),
        ("$$.Execution", False),
        ("$var", False),
        ("$.a[*]", False),
    ],
)
def test_result_paths(path: str, expected: bool) -> None:
    assert is_valid_result_path(path) is expected


def test_path_root() -> None:
    assert path_root("$.a") == "$"
    assert path_root("$") == "$"
    assert path_root("$$.Execution") == "$$"
    assert path_root("$myVar.a") == "myVar"
    assert path_root("$_v[0]") == "_v"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", "$"),
        ("$.a.b", "$['a']['b']"),
        ("$.a[0].b", "$['a'][0]['b']"),
        ("$['it\\'s']", "$['it\\'s']"),
        ("$$.State.Name", "$$['State']['Name']"),
        ("$v.x", "$v['x']"),
        ("$.a[*]", "$.a[*]"),
    ],
)
def test_normalized_path(path: str, expected: str) -> None:
    assert normalized_path(path) == expected


_NAMES = st.text(
    alphabet=st.characters(codec="utf-8"),
    min_size=1,
    max_size=8,
)
_STEPS = st.lists(st.one_of(_NAMES, st.integers(min_value=-5, max_value=20)), max_size=5)


def _build(steps: list[str | int], leaf: Any) -> Any:
    """A JSON value that holds ``leaf`` at ``steps`` (lists padded with nulls)."""
    node = leaf
    for step in reversed(steps):
        if isinstance(step, str):
            node = {step: node}
        else:
            size = step + 1 if step >= 0 else -step
            items: list[Any] = [None] * size
            items[step] = node
            node = items
    return node


@given(steps=_STEPS, leaf=st.integers())
def test_normalized_path_round_trips(steps: list[str | int], leaf: int) -> None:
    text = "$" + "".join(
        f"[{s}]"
        if isinstance(s, int)
        else "['" + s.replace("\\", "\\\\").replace("'", "\\'") + "']"
        for s in steps
    )
    assert normalized_path(text) == text
    assert normalized_path(normalized_path(text)) == text
    assert is_valid_reference_path(text) is True
    assert evaluate_path(text, _build(steps, leaf), {}) == leaf
    assert evaluate_path(normalized_path(text), _build(steps, leaf), {}) == leaf


# --- ResultPath --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "result_path", "expected"),
    [
        ({"a": 1}, None, {"a": 1}),
        ({"a": 1}, "$", "R"),
        ("str", "$", "R"),
        ({"a": 1}, "$.r", {"a": 1, "r": "R"}),
        ({"a": 1}, "$.a", {"a": "R"}),
        ({"a": 1}, "$.x.y.z", {"a": 1, "x": {"y": {"z": "R"}}}),
        ({"a": {"b": 1}}, "$.a.c", {"a": {"b": 1, "c": "R"}}),
        ({"a": [1, 2]}, "$.a[1]", {"a": [1, "R"]}),
        ({"a": [1, 2]}, "$.a[-1]", {"a": [1, "R"]}),
        ({"a": [{"b": 1}]}, "$.a[0].c", {"a": [{"b": 1, "c": "R"}]}),
        ({}, "$['x y']", {"x y": "R"}),
        ([1, 2], "$[0]", ["R", 2]),
    ],
)
def test_apply_result_path(raw: Any, result_path: str | None, expected: Any) -> None:
    assert apply_result_path(raw, "R", result_path) == expected


def test_result_path_null_returns_input_unchanged() -> None:
    raw = {"a": 1}
    assert apply_result_path(raw, {"big": "result"}, None) is raw


def test_result_path_dict_result() -> None:
    assert apply_result_path({"in": 1}, {"Error": "E", "Cause": "c"}, "$.error") == {
        "in": 1,
        "error": {"Error": "E", "Cause": "c"},
    }


@pytest.mark.parametrize(
    ("raw", "result_path", "cause"),
    [
        ("str", "$.x", "Unable to apply ReferencePath $.x to input '\"str\"'"),
        (5, "$.x", "Unable to apply ReferencePath $.x to input '5'"),
        (None, "$.x", "Unable to apply ReferencePath $.x to input 'null'"),
        ([1], "$.x", "Unable to apply ReferencePath $.x to input '[1]'"),
        ({"a": "s"}, "$.a.b", 'Unable to apply ReferencePath $.a.b to input \'{"a":"s"}\''),
        ({"a": None}, "$.a.b", "Unable to apply ReferencePath $.a.b to input '{\"a\":null}'"),
        ({"a": [1]}, "$.a[3]", "Unable to apply ReferencePath $.a[3] to input '{\"a\":[1]}'"),
        ({}, "$.a[0]", "Unable to apply ReferencePath $.a[0] to input '{}'"),
        ({"a": {}}, "$.a[0]", "Unable to apply ReferencePath $.a[0] to input '{\"a\":{}}'"),
    ],
)
def test_result_path_match_failure(raw: Any, result_path: str, cause: str) -> None:
    with pytest.raises(StatesError) as info:
        apply_result_path(raw, "R", result_path)
    assert info.value.error == "States.ResultPathMatchFailure"
    assert info.value.cause == cause


@pytest.mark.parametrize("result_path", ["$$.x", "$var.x", "$.a[*]", "x"])
def test_result_path_invalid(result_path: str) -> None:
    with pytest.raises(StatesError) as info:
        apply_result_path({}, 1, result_path)
    assert info.value.error == "States.Runtime"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)


@given(raw=_JSON, result=_JSON, keys=st.lists(st.sampled_from(["a", "b", "c"]), max_size=3))
def test_apply_result_path_never_mutates(raw: Any, result: Any, keys: list[str]) -> None:
    raw_before = copy.deepcopy(raw)
    result_before = copy.deepcopy(result)
    path = "$" + "".join(f".{k}" for k in keys)
    try:
        out = apply_result_path(raw, result, path)
    except StatesError as exc:
        assert exc.error == "States.ResultPathMatchFailure"
    else:
        assert evaluate_path(path, out, {}) == result
    assert raw == raw_before
    assert result == result_before


@given(raw=st.dictionaries(st.text(max_size=3), _JSON, max_size=4), result=_JSON)
def test_apply_result_path_keeps_other_members(raw: dict[str, Any], result: Any) -> None:
    out = apply_result_path(raw, result, "$.res")
    assert out["res"] == result
    assert {k: v for k, v in out.items() if k != "res"} == {
        k: v for k, v in raw.items() if k != "res"
    }


# --- payload templates -------------------------------------------------------------------------


def test_payload_template_paths_and_literals() -> None:
    template = {
        "literal": "$.not.a.path",
        "num": 1,
        "value.$": "$.a.b.c",
        "ctx.$": "$$.Execution.Name",
        "var.$": "$order.id",
        "list.$": "$.n[0:2]",
        "whole.$": "$",
        "nested": {"deep.$": "$.s", "keep": [1, {"inner.$": "$.zero"}]},
        "array": [{"x.$": "$.f"}, "$.plain", 3],
    }
    assert apply_payload_template(template, DATA, CONTEXT, VARIABLES) == {
        "literal": "$.not.a.path",
        "num": 1,
        "value": 1,
        "ctx": "run-1",
        "var": "o-1",
        "list": [10, 20],
        "whole": DATA,
        "nested": {"deep": "text", "keep": [1, {"inner": 0}]},
        "array": [{"x": False}, "$.plain", 3],
    }


def test_payload_template_non_object_templates() -> None:
    assert apply_payload_template("lit", DATA, CONTEXT) == "lit"
    assert apply_payload_template(None, DATA, CONTEXT) is None
    assert apply_payload_template([{"a.$": "$.zero"}], DATA, CONTEXT) == [{"a": 0}]


def test_payload_template_does_not_mutate_template() -> None:
    template = {"a.$": "$.s", "b": {"c.$": "$.zero"}}
    before = copy.deepcopy(template)
    apply_payload_template(template, DATA, CONTEXT)
    assert template == before


def test_payload_template_intrinsic() -> None:
    template = {
        "msg.$": "States.Format('Hello {}, n={}', $.s, $.zero)",
        "arr.$": "States.Array($.zero, $$.State.Name, $count)",
    }
    assert apply_payload_template(template, DATA, CONTEXT, VARIABLES) == {
        "msg": "Hello text, n=0",
        "arr": [0, "S", 3],
    }


def test_payload_template_intrinsic_uses_rng() -> None:
    template = {"r.$": "States.MathRandom(0, 1000)"}
    first = apply_payload_template(template, {}, {}, rng=random.Random(5))
    second = apply_payload_template(template, {}, {}, rng=random.Random(5))
    assert first == second


def test_payload_template_missing_path() -> None:
    data = {"value": 1, "s": "x"}
    with pytest.raises(StatesError) as info:
        apply_payload_template({"value.$": "$.no_such"}, data, CONTEXT)
    assert info.value.error == "States.Runtime"
    assert info.value.cause == (
        "The JSONPath '$.no_such' specified for the field 'value.$' could not be found "
        'in the input \'{"value":1,"s":"x"}\''
    )


def test_payload_template_missing_nested_path_names_inner_key() -> None:
    with pytest.raises(StatesError) as info:
        apply_payload_template({"outer": [{"inner.$": "$.x"}]}, {}, CONTEXT)
    assert info.value.cause == (
        "The JSONPath '$.x' specified for the field 'inner.$' could not be found in the input '{}'"
    )


def test_payload_template_missing_context_path() -> None:
    with pytest.raises(StatesError) as info:
        apply_payload_template({"t.$": "$$.Task.Token"}, {"a": 1}, CONTEXT)
    assert info.value.cause == (
        "The JSONPath '$$.Task.Token' specified for the field 't.$' could not be found "
        "in the input '{\"a\":1}'"
    )


def test_payload_template_missing_path_inside_intrinsic() -> None:
    with pytest.raises(StatesError) as info:
        apply_payload_template({"m.$": "States.Format('{}', $.gone)"}, {}, CONTEXT)
    assert info.value.error == "States.Runtime"
    assert info.value.cause == (
        "The JSONPath '$.gone' specified for the field 'm.$' could not be found in the input '{}'"
    )


@pytest.mark.parametrize("value", [1, None, "not a path", " States.Array(1)"])
def test_payload_template_bad_dynamic_value(value: Any) -> None:
    with pytest.raises(StatesError) as info:
        apply_payload_template({"k.$": value}, {}, {}, field="ResultSelector")
    assert info.value.error == "States.Runtime"
    assert info.value.cause is not None and "'k.$' in ResultSelector" in info.value.cause


def test_field_path_not_found_helper() -> None:
    error = field_path_not_found("$.err", "ErrorPath", {"a": [1, "b"]})
    assert error.error == "States.Runtime"
    assert error.cause == (
        "The JSONPath '$.err' specified for the field 'ErrorPath' could not be found "
        'in the input \'{"a":[1,"b"]}\''
    )


def test_compact_json() -> None:
    assert compact_json({"a": [1, {"b": None}], "é": "ü"}) == '{"a":[1,{"b":null}],"é":"ü"}'
    assert json.loads(compact_json(DATA)) == DATA
