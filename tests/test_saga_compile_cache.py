"""A saga is compiled once per change: runs reuse the compiled machine until the saga changes."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from saga.compile import compile_with_handlers
from saga.errors import SagaWarning
from saga.saga import Saga


def act(event: Any) -> Any:
    return {"seen": event}


def other(event: Any) -> Any:
    return "other"


def _saga() -> Saga:
    saga = Saga("Cached")
    saga.step("A", act)
    return saga


def test_an_unchanged_saga_is_compiled_once() -> None:
    saga = _saga()
    machine, handlers = compile_with_handlers(saga)
    again, handlers_again = compile_with_handlers(saga)
    assert again is machine
    assert handlers_again == handlers
    assert handlers_again is not handlers  # the caller's own copy


def test_adding_a_step_recompiles() -> None:
    saga = _saga()
    before, _ = compile_with_handlers(saga)
    saga.step("B", other)
    after, _ = compile_with_handlers(saga)
    assert list(before.states) == ["A", "Saga Failed"]
    assert list(after.states) == ["A", "B", "Saga Failed"]
    assert saga.run({}).output == {"a": {"seen": {}}, "b": "other"}


def test_setting_a_saga_option_recompiles() -> None:
    saga = _saga()
    assert compile_with_handlers(saga)[0].timeout_seconds is None
    saga.timeout = 30
    assert compile_with_handlers(saga)[0].timeout_seconds == 30


def test_changing_a_step_recompiles() -> None:
    saga = _saga()
    step = saga.forward_steps[0]
    assert compile_with_handlers(saga)[0].to_dict()["States"]["A"]["ResultPath"] == "$.a"
    step.result_path = "$.elsewhere"
    assert compile_with_handlers(saga)[0].to_dict()["States"]["A"]["ResultPath"] == "$.elsewhere"


def test_adding_a_compensation_recompiles() -> None:
    saga = _saga()
    saga.step("B", other)
    assert "Undo A" not in compile_with_handlers(saga)[0].states
    saga.forward_steps[0].compensate("Undo A", lambda event: None)
    assert "Undo A" in compile_with_handlers(saga)[0].states


def test_changing_a_child_saga_recompiles_its_parent() -> None:
    child = Saga("Child")
    child.step("C", act)
    parent = Saga("Parent")
    parent.step("Run Child", child)
    before, _ = compile_with_handlers(parent)
    assert compile_with_handlers(parent)[0] is before
    child.step("D", other)
    assert compile_with_handlers(parent)[0] is not before
    assert list(compile_with_handlers(child)[0].states) == ["C", "D", "Saga Failed"]


def test_a_saga_that_warns_warns_on_every_run() -> None:
    saga = Saga("Warns")
    saga.step("A", act, compensate_on=[])
    saga.forward_steps[0].compensate("Undo A", lambda event: None)
    for _ in range(2):
        with pytest.warns(SagaWarning):
            saga.run({})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _saga().run({}).status == "SUCCEEDED"
