"""Step Functions ARNs and resource names: building, parsing, checking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from engine.api.errors import ApiError
from engine.names import is_valid_name

__all__ = ["Arns", "check_name"]

_ARN: Final = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):states:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<kind>[A-Za-z]+):(?P<rest>.+)$"
)


def check_name(name: str) -> None:
    """Raise ``InvalidName`` unless ``name`` is 1-80 characters without forbidden ones."""
    if not is_valid_name(name):
        raise ApiError.invalid_name(name)


@dataclass(frozen=True)
class Arns:
    """The ARNs of one region and account."""

    region: str
    account_id: str

    @property
    def prefix(self) -> str:
        """``arn:aws:states:REGION:ACCOUNT``."""
        return f"arn:aws:states:{self.region}:{self.account_id}"

    def state_machine(self, name: str) -> str:
        """A state machine's ARN."""
        return f"{self.prefix}:stateMachine:{name}"

    def execution(self, machine: str, name: str) -> str:
        """A Standard execution's ARN."""
        return f"{self.prefix}:execution:{machine}:{name}"

    def express_execution(self, machine: str, name: str, run: str) -> str:
        """An Express execution's ARN."""
        return f"{self.prefix}:express:{machine}:{name}:{run}"

    def activity(self, name: str) -> str:
        """An activity's ARN."""
        return f"{self.prefix}:activity:{name}"

    def _split(self, arn: str, expected: str) -> list[str]:
        match = _ARN.match(arn)
        if match is None:
            raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
        if match["kind"] != expected:
            raise ApiError.invalid_arn(f"Resource type not valid in this context: {match['kind']}")
        return match["rest"].split(":")

    def parse_state_machine(self, arn: str) -> tuple[str, str | None]:
        """The machine name and the ``#TestCase`` suffix (None without one) of a machine ARN."""
        parts = self._split(arn, "stateMachine")
        if len(parts) != 1 or not parts[0]:
            raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
        name, _, case = parts[0].partition("#")
        return name, case or None

    def parse_qualified(self, arn: str) -> tuple[str, str | None, str | None]:
        """Machine name, qualifier (a version number or alias name; None) and ``#TestCase``.

        ``…:stateMachine:Name``, ``…:stateMachine:Name:3`` (a version) and
        ``…:stateMachine:Name:alias`` (an alias); a test case follows the last part.
        """
        parts = self._split(arn, "stateMachine")
        if len(parts) > 2 or not all(parts):
            raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
        last, _, case = parts[-1].partition("#")
        if not last:
            raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
        if len(parts) == 1:
            return last, None, case or None
        return parts[0], last, case or None

    def version(self, machine: str, number: int) -> str:
        """A state machine version's ARN."""
        return f"{self.state_machine(machine)}:{number}"

    def alias(self, machine: str, name: str) -> str:
        """A state machine alias's ARN."""
        return f"{self.state_machine(machine)}:{name}"

    def parse_execution(self, arn: str) -> tuple[str, str]:
        """The machine name and execution name of an execution ARN."""
        parts = self._split(arn, "execution")
        if len(parts) != 2 or not all(parts):
            raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
        return parts[0], parts[1]

    def parse_activity(self, arn: str) -> str:
        """The activity name of an activity ARN."""
        parts = self._split(arn, "activity")
        if len(parts) != 1 or not parts[0]:
            raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
        return parts[0]

    def kind_of(self, arn: str) -> tuple[str, str]:
        """The resource kind (``stateMachine``, ``activity``, …) and its name, for tagging."""
        match = _ARN.match(arn)
        if match is None:
            raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
        return match["kind"], match["rest"]
