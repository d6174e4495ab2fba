"""Wait state timing fields under the virtual clock, and their runtime errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import VirtualClock
from engine.execution import Execution
from engine.local_engine import run

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _wait(data: Any, **fields: Any) -> Execution:
    states = {
        "W": {"Type": "Wait", "Next": "Done", **fields},
        "Done": {"Type": "Pass", "Parameters": {"at.$": "$$.State.EnteredTime"}, "End": True},
    }
    return run({"StartAt": "W", "States": states}, data, clock=VirtualClock(T0), name="w")


@pytest.mark.parametrize(
    ("fields", "data", "at"),
    [
        ({"Seconds": 86_400}, {}, "2024-01-02T00:00:00Z"),
        ({"Seconds": 0}, {}, "2024-01-01T00:00:00Z"),
        ({"SecondsPath": "$.s"}, {"s": 90}, "2024-01-01T00:01:30Z"),
        ({"SecondsPath": "$.s"}, {"s": 0}, "2024-01-01T00:00:00Z"),
        ({"Timestamp": "2024-01-01T06:00:00Z"}, {}, "2024-01-01T06:00:00Z"),
        ({"Timestamp": "2024-01-01T06:00:00.250+01:00"}, {}, "2024-01-01T05:00:00Z"),
        ({"TimestampPath": "$.t"}, {"t": "2024-03-01T00:00:00Z"}, "2024-03-01T00:00:00Z"),
        ({"Timestamp": "2023-12-31T00:00:00Z"}, {}, "2024-01-01T00:00:00Z"),
    ],
)
def test_wait_advances_virtual_time_exactly(fields: dict[str, Any], data: Any, at: str) -> None:
    ex = _wait(data, **fields)
    assert ex.status == "SUCCEEDED"
    assert ex.output == {"at": at}
    assert [e.type for e in ex.history][1:3] == ["WaitStateEntered", "WaitStateExited"]


def test_wait_output_uses_input_and_output_path() -> None:
    states = {
        "W": {
            "Type": "Wait",
            "Seconds": 1,
            "InputPath": "$.a",
            "OutputPath": "$.b",
            "End": True,
        }
    }
    ex = run({"StartAt": "W", "States": states}, {"a": {"b": 2}}, clock=VirtualClock(T0))
    assert ex.output == 2


@pytest.mark.parametrize(
    ("fields", "data", "cause"),
    [
        (
            {"SecondsPath": "$.s"},
            {"s": -1},
            "The SecondsPath parameter references a negative value: $.s == -1",
        ),
        (
            {"SecondsPath": "$.s"},
            {"s": 1.5},
            "The SecondsPath parameter references a value that cannot be parsed as a long "
            "value: $.s == 1.5",
        ),
        (
            {"SecondsPath": "$.s"},
            {},
            "The SecondsPath parameter does not reference an input value: $.s",
        ),
        (
            {"TimestampPath": "$.t"},
            {"t": "2024-01-01 00:00:00Z"},
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
            "date-time format string: $.t == 2024-01-01 00:00:00Z",
        ),
        (
            {"TimestampPath": "$.t"},
            {"t": "2024-13-01T00:00:00Z"},
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
            "date-time format string: $.t == 2024-13-01T00:00:00Z",
        ),
        ({"TimestampPath": "$.t"}, {"t": "9999-01-01T00:00:00Z"}, "Wait state delay is too long."),
    ],
)
def test_wait_path_errors_are_runtime(fields: dict[str, Any], data: Any, cause: str) -> None:
    ex = _wait(data, **fields)
    assert ex.status == "FAILED"
    assert ex.error == "States.Runtime"
    assert ex.cause == (
        "An error occurred while executing the state 'W' (entered at the event id #2). " + cause
    )
