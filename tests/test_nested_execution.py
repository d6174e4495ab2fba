"""``states:startExecution`` (plain, ``.sync``, ``.sync:2``, ``.waitForTaskToken``) as local child
executions: shapes recorded against AWS, failures, stop/timeout propagation, durable resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

import engine
from engine.diagnostics import DefinitionError
from engine.local_engine import LocalEngine
from engine.store import SQLiteStore

ACCOUNT = "arn:aws:states:us-east-1:123456789012"
START = "arn:aws:states:::states:startExecution"


def _start(pattern: str, machine: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": START + pattern,
        "Parameters": {
            "StateMachineArn": f"{ACCOUNT}:stateMachine:{machine}",
            "Input.$": "$",
            **extra.pop("parameters", {}),
        },
        **extra,
    }


RESERVE = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": {
            "Type": "Pass",
            "Parameters": {"seat": "12A", "order.$": "$.order"},
            "End": True,
        }
    },
}
CHARGE = {
    "StartAt": "Decline",
    "States": {"Decline": {"Type": "Fail", "Error": "PaymentDeclined", "Cause": "card declined"}},
}
RELEASE = {
    "StartAt": "Release",
    "States": {"Release": {"Type": "Pass", "Result": {"released": True}, "End": True}},
}
CHILDREN = {"Reserve": RESERVE, "Charge": CHARGE, "Release": RELEASE}

# A saga of sagas: each step is a child state machine; a failing child is caught and undone.
BOOKING = {
    "StartAt": "ReserveSeat",
    "States": {
        "ReserveSeat": _start(".sync:2", "Reserve", ResultPath="$.reserved", Next="Charge"),
        "Charge": _start(
            ".sync",
            "Charge",
            ResultPath="$.charged",
            Catch=[{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Why"}],
            Next="Done",
        ),
        "Why": {
            "Type": "Pass",
            "Parameters": {"child.$": "States.StringToJson($.error.Cause)"},
            "ResultPath": "$.failure",
            "Next": "ReleaseSeat",
        },
        "ReleaseSeat": _start(".sync", "Release", ResultPath="$.released", Next="Failed"),
        "Failed": {
            "Type": "Fail",
            "Error": "BookingFailed",
            "Cause": "charge failed, seat released",
        },
        "Done": {"Type": "Succeed"},
    },
}


def test_saga_of_sagas_with_a_failing_child_caught_by_the_parent() -> None:
    async def main() -> tuple[Any, list[Any]]:
        async with LocalEngine(state_machines=CHILDREN) as local:
            parent = await local.execute(BOOKING, {"order": "o-1"}, "booking-1")
            return parent, local.executions()

    parent, executions = anyio.run(main)
    assert parent.status == "FAILED"
    assert (parent.error, parent.cause) == ("BookingFailed", "charge failed, seat released")
    assert parent.states == ["ReserveSeat", "Charge", "Why", "ReleaseSeat", "Failed"]
    # Each child ran as its own execution with its own history.
    children = {e.state_machine_arn.rsplit(":", 1)[-1]: e for e in executions[1:]}
    assert sorted(children) == ["Charge", "Release", "Reserve"]
    assert children["Reserve"].output == {"seat": "12A", "order": "o-1"}
    assert children["Charge"].status == "FAILED"
    assert [e.type for e in children["Charge"].history] == [
        "ExecutionStarted",
        "FailStateEntered",
        "ExecutionFailed",
    ]
    # .sync:2 returns the child's output parsed; .sync its DescribeExecution fields as text.
    entered_release = next(
        e
        for e in parent.history
        if e.type == "TaskStateEntered" and e.details["name"] == "ReleaseSeat"
    )
    state_input = entered_release.details["input"]
    reserved = state_input["reserved"]
    assert reserved["Output"] == {"seat": "12A", "order": "o-1"}
    assert reserved["Input"] == {"order": "o-1"}
    assert reserved["Status"] == "SUCCEEDED"
    assert reserved["ExecutionArn"] == children["Reserve"].execution_arn
    assert sorted(reserved) == [
        "ExecutionArn",
        "Input",
        "InputDetails",
        "Name",
        "Output",
        "OutputDetails",
        "RedriveCount",
        "RedriveStatus",
        "RedriveStatusReason",
        "StartDate",
        "StateMachineArn",
        "Status",
        "StopDate",
    ]
    # The failure: States.TaskFailed, the cause the child's DescribeExecution as JSON text.
    assert state_input["error"]["Error"] == "States.TaskFailed"
    child = state_input["failure"]["child"]
    assert child["Status"] == "FAILED"
    assert (child["Error"], child["Cause"]) == ("PaymentDeclined", "card declined")
    assert child["Input"] == json.dumps(
        {"order": "o-1", "reserved": reserved}, separators=(",", ":")
    )
    assert "Output" not in child
    types = [e.type for e in parent.history]
    assert types[:7] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
    ]
    submitted = parent.history[4].details
    assert submitted["resourceType"] == "states"
    assert submitted["resource"] == "startExecution.sync:2"
    assert sorted(submitted["output"]) == [
        "ExecutionArn",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StartDate",
    ]


def test_sync_output_is_json_text_and_plain_start_returns_the_arn() -> None:
    machine = {
        "StartAt": "Sync",
        "States": {
            "Sync": _start(".sync", "Reserve", ResultPath="$.sync", Next="Fire"),
            "Fire": _start(
                "",
                "Release",
                ResultSelector={"arn.$": "$.ExecutionArn"},
                ResultPath="$.fired",
                End=True,
            ),
        },
    }
    execution = engine.run(machine, {"order": "o-2"}, name="p", state_machines=CHILDREN)
    assert execution.status == "SUCCEEDED"
    assert execution.output["sync"]["Output"] == '{"seat":"12A","order":"o-2"}'
    assert execution.output["sync"]["Input"] == '{"order":"o-2"}'
    assert execution.output["fired"]["arn"].startswith(f"{ACCOUNT}:execution:Release:")


def test_given_name_and_string_input() -> None:
    machine = {
        "StartAt": "Go",
        "States": {
            "Go": {
                "Type": "Task",
                "Resource": START + ".sync:2",
                "Parameters": {
                    "StateMachineArn": f"{ACCOUNT}:stateMachine:Reserve",
                    "Input": '{"order": "text"}',
                    "Name": "child-1",
                },
                "OutputPath": "$.Output",
                "End": True,
            }
        },
    }

    async def main() -> tuple[Any, Any]:
        async with LocalEngine(state_machines=CHILDREN) as local:
            parent = await local.execute(machine, {})
            return parent, local.describe("child-1")

    parent, child = anyio.run(main)
    assert parent.output == {"seat": "12A", "order": "text"}
    assert child.execution_arn == f"{ACCOUNT}:execution:Reserve:child-1"


def test_unknown_constant_arn_is_refused_before_the_run() -> None:
    machine = {"StartAt": "Go", "States": {"Go": _start(".sync", "Nowhere", End=True)}}
    with pytest.raises(DefinitionError) as raised:
        engine.run(machine, {})
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.location == "/States/Go/Parameters/StateMachineArn"
    assert "register it with LocalEngine.register_state_machine" in diagnostic.message


def test_unknown_arn_from_input_fails_as_aws_does() -> None:
    machine = {
        "StartAt": "Go",
        "States": {
            "Go": {
                "Type": "Task",
                "Resource": START + ".sync",
                "Parameters": {"StateMachineArn.$": "$.arn"},
                "End": True,
            }
        },
    }
    arn = f"{ACCOUNT}:stateMachine:Nowhere"
    execution = engine.run(machine, {"arn": arn})
    assert execution.status == "FAILED"
    assert execution.error == "StepFunctions.StateMachineDoesNotExistException"
    assert execution.cause is not None
    assert execution.cause.startswith(
        f"State Machine Does Not Exist: '{arn}' (Service: AWSStepFunctions; Status Code: 400; "
        "Error Code: StateMachineDoesNotExist; Request ID: "
    )


WAITING_CHILD = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}


SLOW = {
    "StartAt": "Nap",
    "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}},
}


def test_task_timeout_stops_the_child() -> None:
    machine = {
        "StartAt": "Go",
        "States": {"Go": _start(".sync", "Slow", TimeoutSeconds=60, End=True)},
    }

    async def main() -> tuple[Any, Any]:
        async with LocalEngine(state_machines={"Slow": SLOW}) as local:
            parent = await local.execute(machine, {})
            return parent, local.executions()[1]

    parent, child = anyio.run(main)
    assert (parent.status, parent.error) == ("FAILED", "States.Timeout")
    assert child.status == "ABORTED"
    assert child.history[-1].type == "ExecutionAborted"


def test_stopping_the_parent_stops_the_child() -> None:
    machine = {"StartAt": "Go", "States": {"Go": _start(".sync", "Waiting", End=True)}}
    tokens: list[str] = []

    async def main() -> tuple[Any, Any]:
        async with LocalEngine(
            state_machines={"Waiting": WAITING_CHILD}, handlers={"ask": _recorder(tokens)}
        ) as local:
            handle = await local.start_execution(machine, {}, "parent")
            while not tokens:
                await anyio.sleep(0.01)
            parent = await handle.stop(error="Operator", cause="stopped by hand")
            return parent, local.executions()[1]

    parent, child = anyio.run(main)
    assert (parent.status, parent.error, parent.cause) == ("ABORTED", "Operator", "stopped by hand")
    assert child.status == "ABORTED"
    assert child.history[-1].type == "ExecutionAborted"


def _recorder(tokens: list[str]) -> Any:
    def ask(event: dict[str, Any]) -> dict[str, Any]:
        tokens.append(event["token"])
        return {}

    return ask


def test_wait_for_task_token_child_answers_the_parent() -> None:
    holder: dict[str, LocalEngine] = {}

    def callback(event: dict[str, Any]) -> dict[str, Any]:
        holder["engine"].send_task_success(event["token"], {"approved": event["amount"] < 100})
        return {}

    approver = {
        "StartAt": "Answer",
        "States": {"Answer": {"Type": "Task", "Resource": "Answer", "End": True}},
    }
    machine = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": START + ".waitForTaskToken",
                "Parameters": {
                    "StateMachineArn": f"{ACCOUNT}:stateMachine:Approver",
                    "Input": {"token.$": "$$.Task.Token", "amount.$": "$.amount"},
                },
                "End": True,
            }
        },
    }

    async def main() -> Any:
        async with LocalEngine(
            state_machines={"Approver": approver}, handlers={"Answer": callback}
        ) as local:
            holder["engine"] = local
            return await local.execute(machine, {"amount": 40})

    parent = anyio.run(main)
    assert parent.status == "SUCCEEDED"
    assert parent.output == {"approved": True}
    assert [e.type for e in parent.history][4] == "TaskSubmitted"


def test_durable_resume_reattaches_parent_and_child(tmp_path: Path) -> None:
    tokens: list[str] = []
    ask = _recorder(tokens)
    machine = {
        "StartAt": "Go",
        "States": {"Go": _start(".sync:2", "Waiting", OutputPath="$.Output", End=True)},
    }
    path = tmp_path / "runs.db"

    async def first() -> None:
        with SQLiteStore(path) as store:
            async with LocalEngine(
                store=store, state_machines={"Waiting": WAITING_CHILD}, handlers={"ask": ask}
            ) as local:
                await local.start_execution(machine, {}, "parent")
                while not tokens:
                    await anyio.sleep(0.01)
            # The engine closed with both open: as after a crash, both stay RUNNING.

    async def second() -> tuple[Any, list[Any]]:
        with SQLiteStore(path) as store:
            assert {e.name for e in store.unfinished()} == {"parent", _child_name(store)}
            # No machines registered: the child's definition comes from its stored execution.
            async with LocalEngine(store=store, handlers={"ask": ask}) as local:
                handle = await local.resume("parent")
                while len(tokens) < 2:
                    await anyio.sleep(0.01)
                local.send_task_success(tokens[-1], {"approved": "yes"})
                parent = await handle.result()
                return parent, store.executions()

    anyio.run(first)
    parent, stored = anyio.run(second)
    assert parent.status == "SUCCEEDED"
    assert parent.output == {"approved": "yes"}
    assert [s.status for s in stored] == ["SUCCEEDED", "SUCCEEDED"]
    assert len(stored) == 2  # the resumed parent re-attached to its child, no second child


def _child_name(store: SQLiteStore) -> str:
    return next(e.name for e in store.unfinished() if e.name != "parent")


def test_cli_execute_registers_child_machines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from saga.cli import main

    (tmp_path / "charge.asl.json").write_text(json.dumps(CHARGE))
    (tmp_path / "reserve.asl.json").write_text(json.dumps(RESERVE))
    (tmp_path / "release.asl.json").write_text(json.dumps(RELEASE))
    (tmp_path / "booking.asl.json").write_text(json.dumps(BOOKING))
    code = main(
        [
            "execute",
            str(tmp_path / "booking.asl.json"),
            "--input",
            '{"order": "o-9"}',
            "--state-machine",
            f"Charge={tmp_path / 'charge.asl.json'}",
            "--state-machine",
            f"Reserve={tmp_path / 'reserve.asl.json'}",
            "--state-machine",
            f"Release={tmp_path / 'release.asl.json'}",
        ]
    )
    printed = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (printed["status"], printed["error"]) == ("FAILED", "BookingFailed")
    assert printed["states"] == ["ReserveSeat", "Charge", "Why", "ReleaseSeat", "Failed"]


def test_cli_execute_refuses_an_unknown_child_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from saga.cli import main

    (tmp_path / "booking.asl.json").write_text(json.dumps(BOOKING))
    code = main(["execute", str(tmp_path / "booking.asl.json"), "--input", "{}"])
    err = capsys.readouterr().err
    assert code == 2
    assert "/States/ReserveSeat/Parameters/StateMachineArn" in err
    assert "Traceback" not in err
    assert main(["execute", str(tmp_path / "booking.asl.json"), "--state-machine", "x"]) == 2
    assert "expected NAME=FILE" in capsys.readouterr().err


def test_a_machine_can_start_itself_by_its_own_arn() -> None:
    countdown = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Again"}],
                "Default": "Done",
            },
            "Again": {
                "Type": "Task",
                "Resource": START + ".sync:2",
                "Parameters": {
                    "StateMachineArn": f"{ACCOUNT}:stateMachine:Countdown",
                    "Input": {"n.$": "States.MathAdd($.n, -1)"},
                },
                "OutputPath": "$.Output",
                "End": True,
            },
            "Done": {"Type": "Pass", "Result": "liftoff", "End": True},
        },
    }
    execution = engine.run(countdown, {"n": 3}, state_machine_name="Countdown")
    assert execution.output == "liftoff"
