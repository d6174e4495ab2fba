"""A saga-level deadline that still compensates: checks before each forward unit.

The machine's ``TimeoutSeconds`` ends an execution ``TIMED_OUT`` without running any state, so
no compensation and no failure handler run. A deadline is compiled instead to a Choice
``"<unit> (deadline?)"`` before every forward unit::

    {"And": [{"Variable": "<deadline_path>", "IsPresent": true},
             {"Variable": "$$.State.EnteredTime",
              "TimestampGreaterThanPath": "<deadline_path>"}],
     "Next": "<unit> (deadline passed)"}

and a Pass ``"<unit> (deadline passed)"`` that records ``{"Error": "Saga.DeadlinePassed",
"Cause": ...}`` at the saga's ``error_path`` and enters the unwind where a failure of that
unit would (just after its own compensations): what completed is undone, then the failure
handlers run, then the ``Fail`` state. An input without the deadline runs unchecked. A unit in
flight when the deadline passes runs to its end (or its own ``timeout``): the check is between
units, so give long steps a ``timeout=``.
"""

from __future__ import annotations

from typing import Final

from engine.model import ChoiceRule, ChoiceState, PassState, State

__all__ = ["DEADLINE_ERROR", "deadline_states", "check_state", "passed_state"]

DEADLINE_ERROR: Final = "Saga.DeadlinePassed"


def check_state(unit_name: str) -> str:
    """The Choice before ``unit_name`` that asks whether the deadline has passed."""
    return f"{unit_name} (deadline?)"


def passed_state(unit_name: str) -> str:
    """The Pass that records the passed deadline and enters the unwind."""
    return f"{unit_name} (deadline passed)"


def deadline_states(
    unit_name: str, entry: str, deadline_path: str, error_path: str | None, unwind: str
) -> dict[str, State]:
    """The check before the unit entered at ``entry`` and its record leading to ``unwind``."""
    passed = ChoiceRule.model_validate(
        {
            "And": [
                {"Variable": deadline_path, "IsPresent": True},
                {"Variable": "$$.State.EnteredTime", "TimestampGreaterThanPath": deadline_path},
            ],
            "Next": passed_state(unit_name),
        }
    )
    record = PassState(
        type="Pass",
        result={
            "Error": DEADLINE_ERROR,
            "Cause": f"the deadline at {deadline_path} passed before {unit_name!r} started",
        },
        result_path=error_path,
        next=unwind,
    )
    return {
        check_state(unit_name): ChoiceState(type="Choice", choices=[passed], default=entry),
        passed_state(unit_name): record,
    }
