"""Wrong types and odd values given to the public Python API: a typed error naming what is
wrong, before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import engine
from engine.diagnostics import DefinitionError
from saga import Saga, SagaDefinitionError

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
TASK = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "X", "End": True}}}


@pytest.mark.parametrize("source", [42, None, 1.5])
def test_a_definition_of_the_wrong_type_is_a_type_error_naming_what_is_taken(
    source: Any,
) -> None:
    with pytest.raises(TypeError) as caught:
        engine.run(source, {})
    assert str(caught.value) == (
        f"definition: expected JSON text, bytes, a mapping or a Path, got {type(source).__name__}"
    )


def test_json_text_of_an_array_is_read_as_json_not_as_a_file_name() -> None:
    with pytest.raises(DefinitionError) as caught:
        engine.run("[1, 2]", {})
    assert [str(d) for d in caught.value.diagnostics] == [
        "error: /: INVALID_TYPE: expected a JSON object, got array"
    ]


def test_a_bytearray_definition_is_still_taken() -> None:
    assert engine.run(
        bytearray(b'{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}'), {}
    ).status == ("SUCCEEDED")


def test_a_missing_definition_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        engine.run(tmp_path / "missing.json", {})


@pytest.mark.parametrize(("seed", "kind"), [("x", "str"), (True, "bool"), (1.5, "float")])
def test_a_seed_that_is_not_an_int_is_refused(seed: Any, kind: str) -> None:
    with pytest.raises(TypeError) as caught:
        engine.run(PASS, {}, seed=seed)
    assert str(caught.value) == f"seed: expected an int, got {kind}"
    assert engine.run(PASS, {}, seed=7).seed == 7


def test_an_execution_name_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError) as caught:
        engine.run(PASS, {}, name=5)  # type: ignore[arg-type]
    assert str(caught.value) == "execution name: expected a string, got int"


def test_a_handler_that_is_not_callable_is_refused_before_anything_runs() -> None:
    for _ in range(2):  # the second call would reuse the first one's bound tasks
        with pytest.raises(TypeError) as caught:
            engine.run(TASK, {}, handlers={"X": 5})  # type: ignore[dict-item]
        assert str(caught.value) == (
            "handlers['X']: expected a callable taking the event (and optionally a Lambda "
            "context), got int"
        )
    ran: list[str] = []
    saga = Saga("NotCallable")
    saga.step("Book", lambda event: ran.append("book")).compensate(
        "Unbook", lambda event: ran.append("unbook")
    )
    saga.step("Pay", lambda event: None)
    with pytest.raises(TypeError):
        saga.run({}, handlers={"Pay": "not a function"})  # type: ignore[dict-item]
    assert ran == []


@pytest.mark.parametrize("name", ["bad name", "x" * 81, "a/b", "tab\there"])
def test_a_saga_name_step_functions_refuses_is_refused_when_declared(name: str) -> None:
    with pytest.raises(SagaDefinitionError) as caught:
        Saga(name)
    assert str(caught.value) == (
        f"saga name {name!r}: a state machine name is 1-80 characters without whitespace, "
        "brackets, wildcards or special characters, as Step Functions requires (e.g. "
        "'PlaceOrder')"
    )


def test_unknown_fault_state_is_importable_where_readme_names_it() -> None:
    import saga
    import saga.testing
    from saga.fault_states import UnknownFaultState

    assert saga.UnknownFaultState is UnknownFaultState
    assert saga.testing.UnknownFaultState is UnknownFaultState


def _long_step(event: Any) -> int:
    return 1


def test_a_python_step_timeout_over_lambdas_limit_warns_naming_the_fix() -> None:
    from saga import SagaWarning

    saga = Saga("LongStep")
    saga.step("Crunch", _long_step, timeout=3600)
    with pytest.warns(SagaWarning) as caught:
        saga.to_state_machine()
    [warning] = [w.message for w in caught if isinstance(w.message, SagaWarning)]
    assert (warning.code, warning.step, str(warning)) == (
        "TIMEOUT_OVER_LAMBDA_LIMIT",
        "Crunch",
        "step 'Crunch': timeout=3600 is longer than a Lambda function may run (900 s): "
        "deployed, the function times out first, with Lambda's error instead of "
        "States.Timeout; use timeout=900 or less, or a callback step for longer work",
    )
    within = Saga("WithinLimit")
    within.step("Crunch", _long_step, timeout=900)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", SagaWarning)
        within.to_state_machine()


def _orders_saga() -> Saga:
    saga = Saga("Orders")
    saga.step("Reserve", lambda event: "r-1").compensate("Release", lambda event: None)
    saga.step("Charge", lambda event: "c-1")
    return saga


@pytest.mark.parametrize(
    ("faults_given", "message"),
    [
        (
            [None],
            "faults[0]: expected a fault such as faults.raises(...) or an interceptor, "
            "got NoneType",
        ),
        ("Charge", "faults: expected a list of faults such as [faults.raises(...)], got str"),
    ],
    ids=["none-in-list", "string"],
)
def test_faults_that_are_not_a_list_of_faults_are_refused_before_running(
    faults_given: Any, message: str
) -> None:
    from saga.testing.harness import SagaTestEngine

    with pytest.raises(TypeError) as caught:
        SagaTestEngine().run(_orders_saga(), {}, faults=faults_given)
    assert str(caught.value) == message


def test_a_single_fault_not_in_a_list_says_to_put_it_in_one() -> None:
    from saga.testing import faults
    from saga.testing.harness import SagaTestEngine

    with pytest.raises(TypeError) as caught:
        SagaTestEngine().run(_orders_saga(), {}, faults=faults.hangs("Charge"))  # type: ignore[arg-type]
    assert str(caught.value) == (
        "faults: expected a list of faults such as [faults.raises(...)], got Hangs"
    )


def test_an_interceptor_that_is_not_callable_is_refused_before_running() -> None:
    with pytest.raises(TypeError) as caught:
        engine.run(TASK, {}, handlers={"X": lambda event: 1}, interceptors=[None])  # type: ignore[list-item]
    assert str(caught.value) == (
        "interceptors[0]: expected a callable (request, call_next) -> result, got NoneType"
    )


def test_assertions_refuse_a_bare_string_that_would_be_read_letter_by_letter() -> None:
    from saga.testing import assert_compensated, assert_path

    execution = _orders_saga().run({})
    with pytest.raises(TypeError) as caught:
        assert_path(execution, "Reserve")
    assert str(caught.value) == (
        "assert_path: expected a list of state names, got the string 'Reserve'; write ['Reserve']"
    )
    with pytest.raises(TypeError) as caught:
        assert_compensated(execution, "Release")
    assert str(caught.value) == (
        "assert_compensated: expected a list of state names, got the string 'Release'; "
        "write ['Release']"
    )
    with pytest.raises(TypeError) as caught:
        assert_compensated(execution, [], failed="Release")
    assert str(caught.value) == (
        "assert_compensated(failed=...): expected a list of state names, got the string "
        "'Release'; write ['Release']"
    )
