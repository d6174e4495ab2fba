"""Intrinsic functions: parsing, every function, errors (engine.intrinsics)."""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import StatesError
from engine.intrinsics import (
    FUNCTION_ARITY,
    IntrinsicCall,
    IntrinsicLiteral,
    IntrinsicPath,
    evaluate_intrinsic,
    intrinsic_syntax_error,
    is_intrinsic,
    java_round,
    parse_intrinsic,
    render_format_value,
)
from engine.paths import PathNotFound

CONTEXT = {"Execution": {"Name": "exec-1", "Input": {"k": "v"}}, "State": {"Name": "S"}}


def _run(text: str, data: Any = None, variables: dict[str, Any] | None = None) -> Any:
    return evaluate_intrinsic(text, {} if data is None else data, CONTEXT, variables)


def _runtime_error(text: str, data: Any = None) -> str:
    with pytest.raises(StatesError) as info:
        _run(text, data)
    assert info.value.error == "States.Runtime"
    assert info.value.cause is not None
    return info.value.cause


# --- recognising and parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Array(1)", True),
        ("States.UUID()", True),
        ("States.Format ('x')", True),
        (" States.Array(1)", False),
        ("$.a", False),
        ("States.Array", False),
        ("states.Array(1)", False),
        ("Array(1)", False),
        (3, False),
    ],
)
def test_is_intrinsic(text: Any, expected: bool) -> None:
    assert is_intrinsic(text) is expected


def test_parse_tree() -> None:
    call = parse_intrinsic(
        "States.Format('a{}b', $.x, $$.Execution.Name, $v, 1, -2.5, true, false, null,"
        " States.Array())"
    )
    assert call == IntrinsicCall(
        "States.Format",
        (
            IntrinsicLiteral("a{}b", ("a", "b")),
            IntrinsicPath("$.x"),
            IntrinsicPath("$$.Execution.Name"),
            IntrinsicPath("$v"),
            IntrinsicLiteral(1),
            IntrinsicLiteral(-2.5),
            IntrinsicLiteral(True),
            IntrinsicLiteral(False),
            IntrinsicLiteral(None),
            IntrinsicCall("States.Array", ()),
        ),
    )


def test_parse_is_cached() -> None:
    assert parse_intrinsic("States.Array(1, 2)") is parse_intrinsic("States.Array(1, 2)")


def test_parse_whitespace_between_arguments() -> None:
    assert parse_intrinsic("States.Array(  1 ,\t'a' ,$.b  )") == IntrinsicCall(
        "States.Array",
        (IntrinsicLiteral(1), IntrinsicLiteral("a", ("a",)), IntrinsicPath("$.b")),
    )


def test_parse_number_kinds() -> None:
    call = parse_intrinsic("States.Array(0, -7, 1.0, 2e3, 1.5E-1)")
    assert [arg.value for arg in call.args if isinstance(arg, IntrinsicLiteral)] == [
        0,
        -7,
        1.0,
        2000.0,
        0.15,
    ]
    assert isinstance(call.args[2], IntrinsicLiteral) and isinstance(call.args[2].value, float)


def test_parse_escapes() -> None:
    call = parse_intrinsic(r"States.Format('it\'s \{\} {} back\\slash')")
    literal = call.args[0]
    assert isinstance(literal, IntrinsicLiteral)
    assert literal.value == "it's {} {} back\\slash"
    assert literal.pieces == ("it's {} ", " back\\slash")


def test_parse_path_with_brackets_and_filters() -> None:
    call = parse_intrinsic(
        "States.Array($.abc.['def ghi'], $['a,b'], $.items[?(@.x == 'a)')], $.n[0:2])"
    )
    assert call.args == (
        IntrinsicPath("$.abc.['def ghi']"),
        IntrinsicPath("$['a,b']"),
        IntrinsicPath("$.items[?(@.x == 'a)')]"),
        IntrinsicPath("$.n[0:2]"),
    )


def test_nesting_up_to_ten_levels() -> None:
    ten = "States.Array(" * 10 + "1" + ")" * 10
    assert intrinsic_syntax_error(ten) is None
    expected: Any = 1
    for _ in range(10):
        expected = [expected]
    assert _run(ten) == expected
    eleven = "States.Array(" * 11 + "1" + ")" * 11
    error = intrinsic_syntax_error(eleven)
    assert error is not None and "deeper than 10" in error


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("States.Nope(1)", "unknown intrinsic function States.Nope"),
        ("States.Array(1", "expected ',' or ')'"),
        ("States.Array(1,)", "unexpected ')'"),
        ("States.Array(,1)", "unexpected ','"),
        ("States.Array('abc)", "unterminated string literal"),
        (r"States.Array('a\b')", "backslash must escape"),
        ('States.Array("x")', "unexpected '\"'"),
        ("States.Array(abc)", "unexpected 'a'"),
        ("States.Array(1) x", "unexpected text after"),
        (" States.Array(1)", "expected an intrinsic function name"),
        ("States.Array(1)  ", "unexpected text after"),
        ("States.Array($.a b)", "expected ',' or ')'"),
        ("States.Array($)", None),
        ("States.Array($.a[)", "invalid path"),
        ("States.UUID(1)", "States.UUID takes 0 argument(s), got 1"),
        ("States.Format()", "States.Format takes 1+ argument(s), got 0"),
        ("States.MathRandom(1)", "States.MathRandom takes 2-3 argument(s), got 1"),
        ("States.JsonMerge($.a, $.b)", "States.JsonMerge takes 3 argument(s), got 2"),
        ("States.Array", "expected '(' after States.Array"),
        ("States.Array(-)", "unexpected '-'"),
        ("States.Array(True)", "unexpected 'T'"),
        ("States.Array(\u0663)", "unexpected '\u0663'"),
    ],
)
def test_syntax_errors(text: str, fragment: str | None) -> None:
    error = intrinsic_syntax_error(text)
    if fragment is None:
        assert error is None
    else:
        assert error is not None and fragment in error
        with pytest.raises(ValueError):
            parse_intrinsic(text)
        assert "Invalid intrinsic function" in _runtime_error(text)


def test_every_function_has_an_arity() -> None:
    assert sorted(FUNCTION_ARITY) == sorted(
        "States." + name
        for name in [
            "Format",
            "StringToJson",
            "JsonToString",
            "Array",
            "ArrayPartition",
            "ArrayContains",
            "ArrayRange",
            "ArrayGetItem",
            "ArrayLength",
            "ArrayUnique",
            "Base64Encode",
            "Base64Decode",
            "Hash",
            "JsonMerge",
            "MathRandom",
            "MathAdd",
            "StringSplit",
            "UUID",
        ]
    )


# --- arguments from paths ----------------------------------------------------------------------


def test_path_arguments() -> None:
    data = {"a": {"b": [1, 2]}, "x y": 5}
    assert _run(
        "States.Array($.a.b[1], $['x y'], $$.Execution.Name, $count, $)", data, {"count": 7}
    ) == [
        2,
        5,
        "exec-1",
        7,
        data,
    ]


def test_multi_valued_path_argument() -> None:
    assert _run("States.ArrayLength($.items[*].x)", {"items": [{"x": 1}, {"x": 2}]}) == 2


def test_missing_path_argument_raises_path_not_found() -> None:
    with pytest.raises(PathNotFound) as info:
        _run("States.Array($.missing)")
    assert info.value.path == "$.missing"
    assert info.value.error == "States.Runtime"


# --- States.Format -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("", ""),
        (" ", " "),
        ("HelloWorld", "HelloWorld"),
        (None, "null"),
        (1, "1"),
        (1.1, "1.1"),
        (-3, "-3"),
        (True, "true"),
        (False, "false"),
        ('{"Arg1": 1, "Arg2": []}', '{"Arg1": 1, "Arg2": []}'),
        ({"Arg1": 1, "Arg2": []}, "{Arg1=1, Arg2=[]}"),
        (["a", "b"], "[a, b]"),
        ([1, None, True, {"k": "v"}], "[1, null, true, {k=v}]"),
        ({"a": {"b": ["c", 2.5]}}, "{a={b=[c, 2.5]}}"),
        ({}, "{}"),
        ([], "[]"),
    ],
)
def test_format_renders_values(value: Any, rendered: str) -> None:
    assert render_format_value(value) == rendered
    assert _run("States.Format('Formatted: {}', $.v)", {"v": value}) == f"Formatted: {rendered}"


def test_format_two_placeholders() -> None:
    data = {"fst": {"Arg1": 1, "Arg2": []}, "snd": {"Arg1": 1, "Arg2": []}}
    assert (
        _run("States.Format('{} and {}', $.fst, $.snd)", data)
        == "{Arg1=1, Arg2=[]} and {Arg1=1, Arg2=[]}"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('no placeholders')", "no placeholders"),
        ("States.Format('{}{}', 'a', 'b')", "ab"),
        ("States.Format('{}', 'x')", "x"),
        (r"States.Format('\{\} is literal, {} is not', 'this')", "{} is literal, this is not"),
        (r"States.Format('it\'s {}', 'ok')", "it's ok"),
        (r"States.Format('back\\slash {}', 1)", "back\\slash 1"),
        ("States.Format('lone { brace {}', 2)", "lone { brace 2"),
        ("States.Format('{}', States.Array(1, 'a'))", "[1, a]"),
        ("States.Format('{} {}', 1.5, null)", "1.5 null"),
        ("States.Format('Hello, my name is {}.', $$.Execution.Name)", "Hello, my name is exec-1."),
    ],
)
def test_format_literals(text: str, expected: str) -> None:
    assert _run(text) == expected


def test_format_template_from_path() -> None:
    assert _run("States.Format($.t, 'x', 2)", {"t": "{}-{}"}) == "x-2"


def test_format_placeholder_count_mismatch() -> None:
    assert "1 placeholder(s) but 2 argument(s)" in _runtime_error("States.Format('{}', 1, 2)")
    assert "2 placeholder(s) but 1 argument(s)" in _runtime_error("States.Format('{}{}', 1)")


def test_format_template_must_be_string() -> None:
    assert "format string must be a string" in _runtime_error("States.Format($.t)", {"t": 1})


# --- JSON ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
        ("[1, 2]", [1, 2]),
        ('"s"', "s"),
        ("1.5", 1.5),
        ("-0", 0),
        ("true", True),
        ("null", None),
        ("", None),
        ("   ", None),
    ],
)
def test_string_to_json(text: str, expected: Any) -> None:
    assert _run("States.StringToJson($.s)", {"s": text}) == expected


@pytest.mark.parametrize("text", ["{", "NaN", "Infinity", "{'a': 1}", "1 2"])
def test_string_to_json_invalid(text: str) -> None:
    assert "not valid JSON" in _runtime_error("States.StringToJson($.s)", {"s": text})


def test_string_to_json_requires_string() -> None:
    assert "must be a string" in _runtime_error("States.StringToJson($.s)", {"s": {"a": 1}})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Arg1": 1, "Arg2": []}, '{"Arg1":1,"Arg2":[]}'),
        ("", '""'),
        (" ", '" "'),
        ("HelloWorld", '"HelloWorld"'),
        (None, "null"),
        (1, "1"),
        (1.1, "1.1"),
        ([1, {"a": "é"}], '[1,{"a":"é"}]'),
        ('{"Arg1": 1}', '"{\\"Arg1\\": 1}"'),
    ],
)
def test_json_to_string(value: Any, expected: str) -> None:
    assert _run("States.JsonToString($.v)", {"v": value}) == expected


def test_json_merge_shallow() -> None:
    data = {
        "a": {"k1": 1, "nested": {"x": 1}, "keep": True},
        "b": {"k1": 2, "nested": {"y": 2}, "new": "n"},
    }
    assert _run("States.JsonMerge($.a, $.b, false)", data) == {
        "k1": 2,
        "nested": {"y": 2},
        "keep": True,
        "new": "n",
    }
    assert data["a"] == {"k1": 1, "nested": {"x": 1}, "keep": True}


def test_json_merge_errors() -> None:
    data: dict[str, Any] = {"a": {}, "b": {}, "l": []}
    assert "deep merging is not supported" in _runtime_error(
        "States.JsonMerge($.a, $.b, true)", data
    )
    assert "must be an object" in _runtime_error("States.JsonMerge($.l, $.b, false)", data)
    assert "must be an object" in _runtime_error("States.JsonMerge($.a, $.l, false)", data)
    assert "must be a boolean" in _runtime_error("States.JsonMerge($.a, $.b, 0)", data)


# --- arrays --------------------------------------------------------------------------------------


def test_array() -> None:
    assert _run("States.Array()") == []
    assert _run("States.Array('a', 1, null, true)") == ["a", 1, None, True]
    assert _run("States.Array($.x, $.y)", {"x": {"k": 1}, "y": [2]}) == [{"k": 1}, [2]]


@pytest.mark.parametrize(
    ("items", "size", "expected"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8, 9], 4, [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        ([1, 2, 3, 4], 2, [[1, 2], [3, 4]]),
        ([1, 2, 3], 5, [[1, 2, 3]]),
        ([], 3, []),
        (["a", "b", "c"], 1, [["a"], ["b"], ["c"]]),
        ([1, 2, 3], 1.5, [[1, 2], [3]]),
    ],
)
def test_array_partition(items: list[Any], size: Any, expected: Any) -> None:
    assert _run("States.ArrayPartition($.a, $.n)", {"a": items, "n": size}) == expected


@pytest.mark.parametrize("size", [0, -1, 0.4])
def test_array_partition_bad_size(size: Any) -> None:
    assert "chunk size must be positive" in _runtime_error(
        "States.ArrayPartition($.a, $.n)", {"a": [1], "n": size}
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, True),
        (9, False),
        ("3", False),
        ({"a": [1]}, True),
        ({"a": [2]}, False),
        (None, True),
        (True, False),
        (1, False),
    ],
)
def test_array_contains(value: Any, expected: bool) -> None:
    data = {"a": [1.5, 3, "x", {"a": [1]}, None, False], "v": value}
    assert _run("States.ArrayContains($.a, $.v)", data) is expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("0, 10, 3", [0, 3, 6, 9]),
        ("1, 9, 2", [1, 3, 5, 7, 9]),
        ("0, 0, 1", [0]),
        ("5, 1, -2", [5, 3, 1]),
        ("1, 5, -1", []),
        ("5, 1, 1", []),
        ("-3, 3, 3", [-3, 0, 3]),
        ("0, 999, 1", list(range(1000))),
        ("0.5, 2.4, 1", [1, 2]),
        ("1, 2.5, 1.5", [1, 3]),
    ],
)
def test_array_range(args: str, expected: list[int]) -> None:
    assert _run(f"States.ArrayRange({args})") == expected


def test_array_range_limits() -> None:
    assert "more than 1000" in _runtime_error("States.ArrayRange(0, 1000, 1)")
    assert "step must not be 0" in _runtime_error("States.ArrayRange(0, 10, 0)")
    assert "start must be a number" in _runtime_error("States.ArrayRange('a', 10, 1)")


@pytest.mark.parametrize(
    ("index", "expected"),
    [(0, "a"), (2, "c"), (1.4, "b")],
)
def test_array_get_item(index: Any, expected: Any) -> None:
    assert _run("States.ArrayGetItem($.a, $.i)", {"a": ["a", "b", "c"], "i": index}) == expected


@pytest.mark.parametrize("index", [3, -1, 100])
def test_array_get_item_out_of_range(index: int) -> None:
    cause = _runtime_error("States.ArrayGetItem($.a, $.i)", {"a": ["a", "b", "c"], "i": index})
    assert f"index {index} is out of bounds" in cause


def test_array_get_item_bad_arguments() -> None:
    assert "must be an array" in _runtime_error("States.ArrayGetItem($.a, 0)", {"a": "abc"})
    assert "index must be a number" in _runtime_error("States.ArrayGetItem($.a, 'x')", {"a": [1]})


def test_array_length() -> None:
    assert _run("States.ArrayLength($.a)", {"a": [1, 2, 3]}) == 3
    assert _run("States.ArrayLength($.a)", {"a": []}) == 0
    assert "must be an array" in _runtime_error("States.ArrayLength($.a)", {"a": {"k": 1}})


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([1, 2, 3, 3, 3, 3, 3, 3, 4], [1, 2, 3, 4]),
        ([3, 1, 3, 2, 1], [3, 1, 2]),
        ([], []),
        ([{"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1}], [{"a": 1, "b": 2}, {"a": 1}]),
        ([1, True, 1, True, "1"], [1, True, "1"]),
        ([None, None, [1], [1]], [None, [1]]),
    ],
)
def test_array_unique(items: list[Any], expected: list[Any]) -> None:
    assert _run("States.ArrayUnique($.a)", {"a": items}) == expected


@given(st.lists(st.one_of(st.integers(-3, 3), st.sampled_from(["a", "b"]), st.none())))
def test_array_unique_keeps_first_occurrences(items: list[Any]) -> None:
    result = _run("States.ArrayUnique($.a)", {"a": items})
    expected: list[Any] = []
    for item in items:
        if not any(type(item) is type(seen) and item == seen for seen in expected):
            expected.append(item)
    assert result == expected


# --- encoding and hashing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("Data to encode", "RGF0YSB0byBlbmNvZGU="),
        ("", ""),
        ("é✓", "w6ninJM="),
        ("a", "YQ=="),
    ],
)
def test_base64(text: str, encoded: str) -> None:
    assert _run("States.Base64Encode($.s)", {"s": text}) == encoded
    assert _run("States.Base64Decode($.s)", {"s": encoded}) == text


@given(st.text(max_size=200))
def test_base64_round_trip(text: str) -> None:
    encoded = _run("States.Base64Encode($.s)", {"s": text})
    assert encoded == base64.b64encode(text.encode("utf-8")).decode("ascii")
    assert _run("States.Base64Decode($.s)", {"s": encoded}) == text


def test_base64_errors() -> None:
    assert "not base64" in _runtime_error("States.Base64Decode('%%%')")
    assert "not base64" in _runtime_error("States.Base64Decode('/w==')")  # not UTF-8
    assert "at most 10000" in _runtime_error("States.Base64Encode($.s)", {"s": "a" * 10_001})
    assert _run("States.Base64Encode($.s)", {"s": "a" * 10_000}).startswith("YWFh")
    assert "must be a string" in _runtime_error("States.Base64Encode(1)")


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("MD5", hashlib.md5(b"input data").hexdigest()),
        ("SHA-1", hashlib.sha1(b"input data").hexdigest()),
        ("SHA-256", hashlib.sha256(b"input data").hexdigest()),
        ("SHA-384", hashlib.sha384(b"input data").hexdigest()),
        ("SHA-512", hashlib.sha512(b"input data").hexdigest()),
    ],
)
def test_hash(algorithm: str, digest: str) -> None:
    assert _run(f"States.Hash('input data', '{algorithm}')") == digest


def test_hash_known_values() -> None:
    assert _run("States.Hash('abc', 'SHA-1')") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert _run("States.Hash('', 'MD5')") == "d41d8cd98f00b204e9800998ecf8427e"


def test_hash_errors() -> None:
    assert "algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512" in _runtime_error(
        "States.Hash('x', 'SHA256')"
    )
    assert "at most 10000" in _runtime_error("States.Hash($.s, 'MD5')", {"s": "a" * 10_001})


def test_hash_of_json_value_hashes_compact_text() -> None:
    assert _run("States.Hash($.v, 'MD5')", {"v": {"a": 1}}) == hashlib.md5(b'{"a":1}').hexdigest()


# --- math ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (-9, 3, -6),
        (1.49, 1.5, 3),
        (1.5, 1.51, 4),
        (-1.49, -1.5, -2),
        (-1.5, -1.51, -3),
        (1.49, 0, 1),
        (1.49, -1.49, 0),
        (1.5, 0, 2),
        (1.51, 0, 2),
        (-1.49, 0, -1),
        (-1.51, 0, -2),
        (0.5, 0, 1),
        (1.5, 0, 2),
        (2.5, 0, 3),
        (3.5, 0, 4),
        (-0.5, 0, 0),
        (-0.5, 0.5, 1),
        (-1.5, 0, -1),
        (-2.5, 0, -2),
        (-3.5, 0, -3),
        (2147483647, 0, 2147483647),
        (-2147483648, 0, -2147483648),
    ],
)
def test_math_add(a: Any, b: Any, expected: int) -> None:
    result = _run("States.MathAdd($.a, $.b)", {"a": a, "b": b})
    assert result == expected
    assert isinstance(result, int)


def test_math_add_literals_and_step() -> None:
    assert _run("States.MathAdd(111, -1)") == 110
    assert _run("States.MathAdd($.n, 1)", {"n": 41}) == 42


@pytest.mark.parametrize(
    ("a", "b"),
    [(2147483648, 0), (0, -2147483649), ("1", 1), (True, 1), (None, 1)],
)
def test_math_add_bad_arguments(a: Any, b: Any) -> None:
    assert "must be a number in [-2147483648, 2147483647]" in _runtime_error(
        "States.MathAdd($.a, $.b)", {"a": a, "b": b}
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.5, 1), (2.5, 3), (-0.5, 0), (-1.5, -1), (-2.5, -2), (1.49, 1), (-1.51, -2), (7, 7)],
)
def test_java_round(value: float, expected: int) -> None:
    assert java_round(value) == expected


def test_math_random_seeded_is_repeatable() -> None:
    first = _run("States.MathRandom(0, 999, 3)")
    assert first == _run("States.MathRandom(0, 999, 3)")
    assert first == random.Random(3).randrange(0, 999)


def test_math_random_uses_rng() -> None:
    value = evaluate_intrinsic("States.MathRandom(1, 1000)", {}, {}, rng=random.Random(9))
    assert value == random.Random(9).randrange(1, 1000)


@given(
    start=st.integers(-1000, 1000),
    span=st.integers(1, 50),
    seed=st.integers(0, 2**32),
)
def test_math_random_end_exclusive(start: int, span: int, seed: int) -> None:
    value = evaluate_intrinsic(
        f"States.MathRandom({start}, {start + span})", {}, {}, rng=random.Random(seed)
    )
    assert start <= value < start + span


def test_math_random_single_value_range_and_rounding() -> None:
    assert _run("States.MathRandom(5, 6)") == 5
    assert _run("States.MathRandom(12.5, 14.4)") == 13


def test_math_random_errors() -> None:
    assert "start (5) must be less than the end (5)" in _runtime_error("States.MathRandom(5, 5)")
    assert "must be a number" in _runtime_error("States.MathRandom('a', 5)")


# --- strings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delimiters", "expected"),
    [
        ("1,2,3,4,5", ",", ["1", "2", "3", "4", "5"]),
        ("This.is+a,test=string", ".+,=", ["This", "is", "a", "test", "string"]),
        (",,,,", ",", []),
        (" , ", ",", [" ", " "]),
        ("a::b", "::", ["a", "b"]),
        ("abc", "", ["abc"]),
        ("", ",", []),
        ("a]b[c^d\\e-f", "]^[\\-", ["a", "b", "c", "d", "e", "f"]),
        ("no delimiter here", ";", ["no delimiter here"]),
    ],
)
def test_string_split(text: str, delimiters: str, expected: list[str]) -> None:
    assert _run("States.StringSplit($.s, $.d)", {"s": text, "d": delimiters}) == expected


def test_string_split_literal_arguments() -> None:
    assert _run("States.StringSplit('1,2,3', ',')") == ["1", "2", "3"]
    assert "must be a string" in _runtime_error("States.StringSplit(1, ',')")


# --- UUID ----------------------------------------------------------------------------------------


def test_uuid_is_v4() -> None:
    value = _run("States.UUID()")
    parsed = uuid.UUID(value)
    assert parsed.version == 4
    assert str(parsed) == value


def test_uuid_from_rng_is_repeatable() -> None:
    first = evaluate_intrinsic("States.UUID()", {}, {}, rng=random.Random(1))
    second = evaluate_intrinsic("States.UUID()", {}, {}, rng=random.Random(1))
    assert first == second
    assert uuid.UUID(first).version == 4


# --- nesting -------------------------------------------------------------------------------------


def test_nested_calls() -> None:
    data = {"csv": "a,b,a", "obj": {"k": [1]}}
    assert _run("States.ArrayLength(States.ArrayUnique(States.StringSplit($.csv, ',')))", data) == 2
    assert _run("States.StringToJson(States.JsonToString($.obj))", data) == {"k": [1]}
    assert _run("States.Format('{} items', States.ArrayLength(States.Array(1, 2, 3)))") == "3 items"
    assert _run("States.Base64Decode(States.Base64Encode('round trip'))") == "round trip"
    assert _run("States.ArrayGetItem(States.ArrayRange(10, 20, 5), 1)") == 15
