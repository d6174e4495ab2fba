"""Python steps deployed as Lambda functions, described as plain data.

``asl_export`` never imports the saga layer; a saga describes each Python step it wants
deployed as a :class:`FunctionSpec` and the templates turn those into functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from asl_export.render import ExportError

__all__ = ["FunctionSpec", "LAMBDA_ADAPTER_HANDLER", "STEP_ENVIRONMENT_VARIABLE"]

LAMBDA_ADAPTER_HANDLER = "asl_export.lambda_adapter.handler"
"""The Lambda handler of every exported Python step."""

STEP_ENVIRONMENT_VARIABLE = "SAGA_STEP"
"""Environment variable naming the step (``module:attribute``) the adapter runs."""

_LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,255}")
_IMPORT_PATH = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


@dataclass(frozen=True)
class FunctionSpec:
    """One Python step to deploy as a Lambda function.

    ``placeholder`` is the name inside ``${...}`` that the definition uses for the function's
    ARN (``ReserveBooking.Arn`` or ``ReserveBooking``); ``handler`` the step's import path
    ``module:attribute``. ``timeout`` (seconds) defaults to the longest ``TimeoutSeconds`` of
    the states calling it, else 30.
    """

    placeholder: str
    handler: str
    logical_id: str | None = None
    timeout: int | None = None
    memory: int = 256
    runtime: str = "python3.11"
    code_uri: str = "."
    environment: Mapping[str, str] = field(default_factory=dict)
    policy_statements: tuple[Mapping[str, Any], ...] = ()

    @property
    def resource_id(self) -> str:
        """The template's logical id of the function."""
        return self.logical_id or self.placeholder.split(".", 1)[0]

    def check(self) -> None:
        """Raise :class:`ExportError` when AWS or CloudFormation would reject this function."""
        where = f"function for ${{{self.placeholder}}}"
        if not _LOGICAL_ID.fullmatch(self.resource_id):
            raise ExportError(
                f"{where}: logical id {self.resource_id!r} must be 1-255 letters or digits; "
                "set FunctionSpec.logical_id"
            )
        if self.placeholder not in (self.resource_id, f"{self.resource_id}.Arn"):
            raise ExportError(
                f"{where}: the placeholder must be {self.resource_id!r} or "
                f"'{self.resource_id}.Arn' so the template can fill it in"
            )
        if not _IMPORT_PATH.fullmatch(self.handler):
            raise ExportError(
                f"{where}: handler {self.handler!r} is not an import path 'module:attribute'"
            )
        if self.timeout is not None and not 1 <= self.timeout <= 900:
            raise ExportError(f"{where}: timeout {self.timeout} is outside Lambda's 1-900 s")
        if not 128 <= self.memory <= 10240:
            raise ExportError(f"{where}: memory {self.memory} is outside Lambda's 128-10240 MB")
