"""Python steps deployed as Lambda functions, described as plain data.

``asl_export`` never imports the saga layer; a saga describes each Python step it wants
deployed as a :class:`FunctionSpec` and the templates turn those into functions.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from asl_export.render import ExportError, placeholders
from engine.lambda_runtime import STEP_ENVIRONMENT_VARIABLE
from engine.model import StateMachine

__all__ = [
    "CODE_FOLDER",
    "LAMBDA_ADAPTER_HANDLER",
    "STEP_ENVIRONMENT_VARIABLE",
    "FunctionSpec",
    "function_specs_for",
    "import_path_of",
]

LAMBDA_ADAPTER_HANDLER = "saga_lambda_runtime.handler"
"""The Lambda handler of every exported Python step: ``saga package`` writes its module
(:mod:`engine.lambda_runtime`, standard library only) into the code folder."""

CODE_FOLDER = "src"
"""The folder, next to the template, holding the functions' code (written by ``saga package``)."""


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
    code_uri: str = CODE_FOLDER
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


def import_path_of(function: Callable[..., Any], state: str) -> str:
    """``module:attribute`` under which Lambda can import ``function`` (the step of ``state``).

    The attribute may hold the function itself or a callable wrapping it (a decorated step).
    """
    module_name = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        raise ExportError(
            f"state {state!r}: its step {function!r} has no module-level name; pass a function"
        )
    where = f"state {state!r}: its step {module_name}.{qualname}"
    if module_name == "__main__" or "<locals>" in qualname or "<lambda>" in qualname:
        raise ExportError(
            f"{where} cannot be imported by Lambda; define it at the top level of an importable "
            "module"
        )
    try:
        value: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError):
        raise ExportError(
            f"{where} cannot be imported by that name; define it at module level"
        ) from None
    if not callable(value):
        raise ExportError(f"{where} is shadowed by a non-callable {module_name}.{qualname}")
    return f"{module_name}:{qualname}"


def function_specs_for(
    machine: StateMachine, handlers: Mapping[str, Callable[..., Any]]
) -> tuple[FunctionSpec, ...]:
    """A :class:`FunctionSpec` per handler whose key is a placeholder the definition uses.

    Handlers keyed by a Lambda ARN or function name stand for functions deployed elsewhere
    and get none.
    """
    used = placeholders(machine)
    return tuple(
        FunctionSpec(placeholder=key, handler=import_path_of(function, used[key][0]))
        for key, function in handlers.items()
        if key in used
    )
