"""ProcessBooking as a deployable stack: the saga, and what each of its functions needs.

``saga export examples.airline_booking.deployment:stack --format sam`` renders the state
machine with one Lambda function per Python step, each with the sample's timeout and memory,
the environment variables naming its resources, and an IAM policy for exactly those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from asl_export.functions import FunctionSpec, function_specs_for
from engine.model import StateMachine
from examples.airline_booking.environment import ResourceNames
from examples.airline_booking.functions import _aws
from examples.airline_booking.saga import booking

__all__ = ["BookingStack", "stack"]


_IN_ACCOUNT = "arn:${AWS::Partition}:{service}:${AWS::Region}:${AWS::AccountId}:{resource}"


def _arn(service: str, resource: str) -> dict[str, str]:
    """An ARN in the stack's account and region, for CloudFormation to fill in."""
    return {"Fn::Sub": _IN_ACCOUNT.replace("{service}", service).replace("{resource}", resource)}


def _allow(actions: list[str], resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


@dataclass(frozen=True)
class _Needs:
    timeout: int
    memory: int
    environment: Mapping[str, str]
    statements: tuple[Mapping[str, Any], ...]


def _needs(names: ResourceNames) -> dict[str, _Needs]:
    """Per placeholder: the sample's Timeout/MemorySize, and the resources the code touches."""
    bookings = {_aws.BOOKING_TABLE_ENV: names.booking_table}
    payments = {_aws.PAYMENT_TABLE_ENV: names.payment_table}
    booking_table = _arn("dynamodb", f"table/{names.booking_table}")
    payment_table = _arn("dynamodb", f"table/{names.payment_table}")
    topic = _arn("sns", names.booking_topic)
    return {
        "ReserveBooking.Arn": _Needs(
            5, 512, bookings, (_allow(["dynamodb:PutItem"], booking_table),)
        ),
        "ConfirmBooking.Arn": _Needs(
            5, 512, bookings, (_allow(["dynamodb:UpdateItem"], booking_table),)
        ),
        "CancelBooking.Arn": _Needs(
            5, 512, bookings, (_allow(["dynamodb:UpdateItem"], booking_table),)
        ),
        # BOOKING_TOPIC unset: the function names the topic in its own account and region.
        "NotifyBooking.Arn": _Needs(5, 256, {}, (_allow(["sns:Publish"], topic),)),
        "CollectPaymentFunction": _Needs(
            10, 512, payments, (_allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], payment_table),)
        ),
        "RefundPaymentFunction": _Needs(
            10, 512, payments, (_allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], payment_table),)
        ),
    }


class BookingStack:
    """The export target: :data:`~examples.airline_booking.saga.booking` plus its functions'
    deployment needs (``saga export`` and ``saga graph`` read these methods)."""

    name = "ProcessBooking"

    def __init__(self, names: ResourceNames | None = None) -> None:
        self.names = names or ResourceNames()

    def to_state_machine(self) -> StateMachine:
        """The compiled saga, placeholders kept."""
        return booking.to_state_machine()

    def compensation_states(self) -> list[str]:
        """The states that undo a forward step."""
        return [step.name for step in booking.all_steps() if step.role == "compensation"]

    def function_specs(self) -> list[FunctionSpec]:
        """One function per Lambda placeholder, configured as the sample configures it."""
        needs = _needs(self.names)
        specs = function_specs_for(self.to_state_machine(), booking.handlers())
        return [
            replace(
                spec,
                timeout=need.timeout,
                memory=need.memory,
                environment=dict(need.environment),
                policy_statements=need.statements,
            )
            if (need := needs.get(spec.placeholder)) is not None
            else spec
            for spec in specs
        ]


stack = BookingStack()
"""What to export for a deployment: ``examples.airline_booking.deployment:stack``."""
