"""The blocking one-call ``engine.run``: clock spellings, isolation between calls, loop reuse.

Every call runs on one event loop kept alive between calls, yet each gets its own engine,
clock, seed and handlers: nothing one execution does is seen by the next.
"""

from __future__ import annotations

import contextvars
import gc
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from engine import LocalEngine, RealClock, VirtualClock, load
from engine.background_loop import in_event_loop, loop_token, run_blocking
from engine.bindings import CallNext, TaskRequest
from engine.clock import make_clock
from engine.diagnostics import DefinitionError
from engine.execution import Execution
from engine.history import HistoryEvent
from engine.local_engine import current_engine, run
from engine.nested_execution import NestedExecutionBinding
from engine.store.memory import MemoryStore

WAIT_DAY: dict[str, Any] = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": 86400, "Next": "Now"},
        "Now": {
            "Type": "Pass",
            "Parameters": {"entered.$": "$$.State.EnteredTime"},
            "End": True,
        },
    },
}

ONE_TASK: dict[str, Any] = {
    "StartAt": "Work",
    "States": {"Work": {"Type": "Task", "Resource": "Work", "End": True}},
}

UUID_PASS: dict[str, Any] = {
    "StartAt": "Draw",
    "States": {
        "Draw": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "End": True},
    },
}


def test_clock_virtual_by_name_skips_the_wait() -> None:
    execution = run(WAIT_DAY, {}, clock="virtual")
    assert execution.status == "SUCCEEDED"
    waited = execution.history[-1].posix - execution.history[0].posix
    assert waited >= 86400


def test_clock_real_by_name_runs_on_the_wall_clock() -> None:
    machine = {
        "StartAt": "Now",
        "States": {"Now": {"Type": "Pass", "End": True}},
    }
    execution = run(machine, {"a": 1}, clock="real")
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"a": 1}


def test_make_clock_names() -> None:
    assert isinstance(make_clock("real"), RealClock)
    assert isinstance(make_clock("virtual"), VirtualClock)
    assert isinstance(make_clock(None), VirtualClock)
    mine = VirtualClock()
    assert make_clock(mine) is mine
    with pytest.raises(ValueError, match="clock must be 'real', 'virtual' or a Clock, got 'wall'"):
        make_clock("wall")  # type: ignore[arg-type]


def test_an_unknown_clock_name_is_refused_before_running() -> None:
    calls: list[Any] = []
    with pytest.raises(ValueError, match="got 'fast'"):
        run(ONE_TASK, {}, clock="fast", handlers={"Work": calls.append})  # type: ignore[arg-type]
    assert calls == []


def test_each_call_gets_its_own_clock() -> None:
    """A virtual day skipped by one call does not move the next call's clock."""
    first = run(WAIT_DAY, {}, clock="virtual")
    second = run(WAIT_DAY, {}, clock="virtual")
    assert second.start_posix < first.history[-1].posix


def test_handlers_and_seed_do_not_leak_between_calls() -> None:
    seen: list[str] = []
    first = run(ONE_TASK, {"n": 1}, handlers={"Work": lambda e: seen.append("a") or "a"})
    second = run(ONE_TASK, {"n": 2}, handlers={"Work": lambda e: seen.append("b") or "b"})
    assert (first.output, second.output, seen) == ("a", "b", ["a", "b"])
    # The same name draws the same UUID, another seed another one: the seed is per call.
    one = run(UUID_PASS, {}, name="same", seed=7)
    two = run(UUID_PASS, {}, name="same", seed=7)
    three = run(UUID_PASS, {}, name="same", seed=8)
    assert one.output == two.output
    assert one.output != three.output


def test_the_same_machine_run_again_uses_each_calls_own_handlers() -> None:
    """Binding is kept between calls of one machine only for the very same handler objects."""
    machine = load(ONE_TASK)

    def first(event: Any) -> str:
        return "first"

    def second(event: Any) -> str:
        return "second"

    outputs = [
        run(machine, {}, handlers={"Work": handler}).output
        for handler in (first, second, first, lambda e: "lambda", second)
    ]
    assert outputs == ["first", "second", "first", "lambda", "second"]
    # Keyed by name too: the same function under another resource name is not bound to Work.
    with pytest.raises(DefinitionError):
        run(machine, {}, handlers={"Other": first})


class _Answer:
    """A task binding answering every invocation with one value."""

    def __init__(self, value: str) -> None:
        self.value = value

    async def invoke(self, request: TaskRequest) -> Any:
        return self.value


def test_a_handlers_mapping_changed_after_a_run_does_not_change_what_an_equal_one_binds() -> None:
    """lambda:invoke looks its handler up at call time: a later run with an equal mapping uses
    that mapping, not the first run's mapping as the caller changed it afterwards."""
    machine = load(
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName.$": "$.fn", "Payload.$": "$"},
                    "ResultSelector": {"out.$": "$.Payload"},
                    "End": True,
                }
            },
        }
    )

    def first(event: Any) -> str:
        return "first"

    def second(event: Any) -> str:
        return "second"

    handlers: dict[str, Any] = {"Work": first}
    event = {"fn": "Work"}  # named at run time: looked up when the Task runs
    assert run(machine, event, handlers=handlers).output == {"out": "first"}
    handlers["Work"] = second  # the caller reuses and changes its mapping
    assert run(machine, event, handlers={"Work": first}).output == {"out": "first"}
    assert run(machine, event, handlers=handlers).output == {"out": "second"}


def test_the_same_machine_run_again_uses_each_calls_own_bindings_and_interceptors() -> None:
    machine = load(ONE_TASK)
    first, second = _Answer("first"), _Answer("second")
    outputs = [run(machine, {}, bindings={"Work": b}).output for b in (first, second, first)]
    assert outputs == ["first", "second", "first"]

    async def wrap(request: TaskRequest, call_next: CallNext) -> Any:
        return {"wrapped": await call_next(request)}

    handlers = {"Work": lambda e: "handled"}
    assert [
        run(machine, {}, handlers=handlers, interceptors=chain).output
        for chain in ((), (wrap,), ())
    ] == ["handled", {"wrapped": "handled"}, "handled"]


def test_the_same_machine_run_again_starts_a_fresh_clock() -> None:
    machine = load(WAIT_DAY)
    first = run(machine, {}, name="day")
    second = run(machine, {}, name="day")
    assert second.start_posix < first.history[-1].posix
    assert [e.posix - second.start_posix for e in second.history] == [
        e.posix - first.start_posix for e in first.history
    ]


def test_a_nested_execution_is_started_by_each_calls_own_engine() -> None:
    """``states:startExecution.sync`` binds to the engine of the call, never a previous one."""
    parent = load(
        {
            "StartAt": "Child",
            "States": {
                "Child": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync:2",
                    "Parameters": {
                        "StateMachineArn": (
                            "arn:aws:states:us-east-1:123456789012:stateMachine:Child"
                        ),
                        "Input.$": "$",
                    },
                    "OutputPath": "$.Output",
                    "End": True,
                }
            },
        }
    )
    handlers = {"Work": lambda e: {"task": e}}
    constant = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "pass", "End": True}}}
    outputs = [
        run(parent, {"n": 1}, handlers=handlers, state_machines={"Child": child}).output
        for child in (ONE_TASK, constant, ONE_TASK)
    ]
    assert outputs == [{"task": {"n": 1}}, "pass", {"task": {"n": 1}}]


def test_same_name_runs_again_in_a_new_call() -> None:
    """Executions are not remembered between calls: a name can be reused."""
    assert run(ONE_TASK, 1, name="again", handlers={"Work": lambda e: e}).output == 1
    assert run(ONE_TASK, 2, name="again", handlers={"Work": lambda e: e}).output == 2


def test_errors_reach_the_caller_and_the_next_call_still_runs() -> None:
    def boom(event: Any) -> Any:
        raise KeyError("gone")

    failed = run(ONE_TASK, {}, handlers={"Work": boom})
    assert (failed.status, failed.error) == ("FAILED", "KeyError")
    with pytest.raises(DefinitionError) as raised:
        run(ONE_TASK, {})
    assert [d.code for d in raised.value.diagnostics] == ["UNBOUND_RESOURCE"]
    assert run(ONE_TASK, 5, handlers={"Work": lambda e: e + 1}).output == 6


def test_async_handlers_see_the_callers_context_variables() -> None:
    request: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")
    seen: list[str] = []

    async def work(event: Any) -> Any:
        seen.append(request.get())
        request.set("changed by the handler")
        return event

    def sync_work(event: Any) -> Any:
        seen.append(request.get())
        return event

    token = request.set("req-1")
    try:
        run(ONE_TASK, {}, handlers={"Work": work})
        run(ONE_TASK, {}, handlers={"Work": sync_work})
        assert request.get() == "req-1"
    finally:
        request.reset(token)
    run(ONE_TASK, {}, handlers={"Work": work})
    assert seen == ["req-1", "req-1", "none"]


def test_calls_from_several_threads_at_once() -> None:
    results: dict[int, Any] = {}

    def call(i: int) -> None:
        results[i] = run(ONE_TASK, i, name=f"t{i}", handlers={"Work": lambda e: e * 10}).output

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: i * 10 for i in range(8)}


def test_a_sync_handler_may_run_a_nested_execution() -> None:
    inner = load(ONE_TASK)

    def outer(event: Any) -> Any:
        return run(inner, event, handlers={"Work": lambda e: {"inner": e}}).output

    assert run(ONE_TASK, 3, handlers={"Work": outer}).output == {"inner": 3}


def test_run_inside_an_event_loop_points_at_the_async_engine() -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError) as raised:
            run(ONE_TASK, {}, handlers={"Work": lambda e: e})
        assert str(raised.value) == (
            "engine.run() blocks until the execution ends, so it cannot be called inside a "
            "running event loop; use 'async with LocalEngine(...) as engine: "
            "await engine.execute(...)' there"
        )

    anyio.run(main)


def test_an_async_handler_cannot_block_on_a_nested_run() -> None:
    """An async handler runs on the engine's loop: a blocking run there is refused."""

    async def outer(event: Any) -> Any:
        return run(ONE_TASK, event, handlers={"Work": lambda e: e}).output

    execution = run(ONE_TASK, 1, handlers={"Work": outer})
    assert (execution.status, execution.error) == ("FAILED", "RuntimeError")
    assert "cannot be called inside a running event loop" in (execution.cause or "")


def test_the_process_exits_cleanly_after_one_call_runs(tmp_path: Path) -> None:
    """The loop thread is ended at exit: what it holds (compiled JSONata) is freed there."""
    script = tmp_path / "one_call.py"
    script.write_text(
        "from engine import run\n"
        "machine = {'QueryLanguage': 'JSONata', 'StartAt': 'A', 'States': {'A': {\n"
        "    'Type': 'Pass', 'Output': '{% $states.input.a + 1 %}', 'End': True}}}\n"
        "print(run(machine, {'a': 1}).output)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "2\n", "")


def test_a_run_formats_nothing_nobody_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """No history event or record is rendered as text while an execution runs and returns."""
    rendered: list[str] = []

    def counting(self: object) -> str:
        rendered.append(type(self).__name__)
        return "<rendered>"

    monkeypatch.setattr(HistoryEvent, "__repr__", counting)
    monkeypatch.setattr(Execution, "__repr__", counting)
    execution = run(WAIT_DAY, {"a": 1}, clock="virtual")
    assert execution.status == "SUCCEEDED"
    assert rendered == []


def test_ctrl_c_during_a_run_cancels_it_and_restores_the_handler(tmp_path: Path) -> None:
    """SIGINT in the main thread cancels the running call, which raises KeyboardInterrupt;
    the default handler is back afterwards and the next call runs."""
    script = tmp_path / "interrupt.py"
    script.write_text(
        "import os, signal\n"
        "import anyio\n"
        "from engine import run\n"
        "machine = {'StartAt': 'Work', 'States': {'Work': {'Type': 'Task',\n"
        "    'Resource': 'Work', 'End': True}}}\n"
        "async def work(event):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    await anyio.sleep(60)\n"
        "try:\n"
        "    run(machine, {}, handlers={'Work': work}, clock='real')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
        "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
        "print(run(machine, 7, handlers={'Work': lambda event: event}).output)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "interrupted\nTrue\n7\n", "")


def test_in_event_loop_tells_a_running_loop_from_none() -> None:
    async def inside() -> bool:
        return in_event_loop()

    assert in_event_loop() is False
    assert anyio.run(inside) is True
    assert run_blocking(inside) is True
    assert in_event_loop() is False


def test_the_kept_loops_token_is_anyios_token_of_that_loop() -> None:
    async def tokens() -> tuple[object, object]:
        return loop_token(), anyio.lowlevel.current_token()

    first, expected = run_blocking(tokens)
    assert first == expected
    again, _ = run_blocking(tokens)
    assert again is first  # kept: the same loop runs every call of this thread
    other, other_expected = anyio.run(tokens)  # another loop gets its own
    assert other == other_expected
    assert other != first


def test_a_callback_from_another_thread_reaches_a_one_call_run() -> None:
    """The engine of a blocking call is reached from other threads through its loop's token."""
    machine = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "Ask", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }

    def ask(event: Any) -> Any:
        engine = current_engine()
        assert engine is not None
        token = event["token"]
        threading.Thread(target=engine.send_task_success, args=(token, {"ok": 1})).start()
        return {}

    execution = run(machine, {}, handlers={"Ask": ask}, clock="real")
    assert (execution.status, execution.output) == ("SUCCEEDED", {"ok": 1})


STARTS_CHILD: dict[str, Any] = {
    "StartAt": "Child",
    "States": {
        "Child": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Child",
                "Input.$": "$",
            },
            "OutputPath": "$.Output",
            "End": True,
        }
    },
}


@pytest.mark.parametrize("machine", [ONE_TASK, STARTS_CHILD], ids=["one task", "a child"])
def test_a_one_call_run_leaves_no_engine_for_the_garbage_collector(
    machine: dict[str, Any],
) -> None:
    """The engine, its store and the execution's record are freed when the caller drops the
    record (no reference cycle keeps them for the collector)."""
    model = load(machine)

    def go(data: Any) -> Execution:
        return run(model, data, handlers={"Work": lambda e: e}, state_machines={"Child": ONE_TASK})

    go({})
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        execution = go({"a": 1})
        assert execution.output == {"a": 1}
        del execution
        gc.collect()
        left = {type(found).__name__ for found in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert (
        left & {"LocalEngine", "Execution", "ExecutionHandle", "MemoryStore", "HistoryEvent"}
        == set()
    )


def test_an_engines_bindings_are_its_child_executions_under_the_given_ones() -> None:
    given = _EchoBinding()
    engine = LocalEngine(
        handlers={"arn:aws:states:::states:startExecution.sync": lambda e: e},
        bindings={"arn:aws:states:::states:startExecution": given},
    )
    assert engine.bindings["arn:aws:states:::states:startExecution"] is given
    assert "arn:aws:states:::states:startExecution.sync" not in engine.bindings  # a handler's
    own = engine.bindings["arn:aws:states:::states:startExecution.waitForTaskToken"]
    assert isinstance(own, NestedExecutionBinding)
    assert own.engine is engine
    replaced = {"Work": given}
    engine.bindings = replaced
    assert engine.bindings is replaced


class _EchoBinding:
    async def invoke(self, request: TaskRequest) -> Any:
        return request.payload


BRANCHES: dict[str, Any] = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Work",
                    "States": {"Work": {"Type": "Task", "Resource": "Work", "End": True}},
                },
                WAIT_DAY,
            ],
            "Next": "Fail?",
        },
        "Fail?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$[0].n", "NumericEquals": 1, "Next": "Done"}],
            "Default": "Bad",
        },
        "Bad": {"Type": "Fail", "Error": "Bad"},
        "Done": {"Type": "Succeed"},
    },
}


def test_a_run_with_its_own_store_records_what_one_with_a_given_store_does() -> None:
    """Without a store the execution runs in the calling task; with one, in a task of its
    own (as inside an engine): both record the same history."""

    def events(execution: Execution) -> list[tuple[str, int, int, dict[str, Any]]]:
        return [
            (event.type, event.id, event.previous_event_id, event.details)
            for event in execution.history
        ]

    def clock() -> VirtualClock:
        return VirtualClock(datetime(2026, 1, 2, tzinfo=UTC), work_moves_time=False)

    handlers = {"Work": lambda e: {"n": e["n"]}}
    own = run(BRANCHES, {"n": 1}, handlers=handlers, name="same", clock=clock())
    store = MemoryStore()
    given = run(BRANCHES, {"n": 1}, handlers=handlers, name="same", clock=clock(), store=store)
    assert (own.status, given.status) == ("SUCCEEDED", "SUCCEEDED")
    assert events(own) == events(given)
    stored = store.find("same")
    assert stored is not None and stored.done
