"""State machines a parent runs as nested executions, deployed in the parent's template.

A child is described as plain data (``asl_export`` never imports the saga layer): the
placeholder the parent's definition uses for its ARN, its name, its machine and its Python
steps. The template creates it and binds the placeholder to its ``Ref`` (the ARN).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from asl_export.functions import FunctionSpec
from asl_export.render import ExportError
from engine.model import StateMachine

__all__ = ["ChildMachine", "check_children"]

_LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,255}")


@dataclass(frozen=True)
class ChildMachine:
    """One state machine started by another (``states:startExecution``) in the same template.

    ``placeholder`` names the child's ARN in the definitions that start it
    (``FlightsStateMachineArn``); ``name`` is its state machine name (deployed as
    ``NAME-STAGE``); ``functions`` are its Python steps. Its logical id defaults to the
    placeholder without its ``Arn`` suffix (``FlightsStateMachine``).
    """

    placeholder: str
    name: str
    machine: StateMachine
    functions: tuple[FunctionSpec, ...] = ()
    logical_id: str | None = None

    @property
    def resource_id(self) -> str:
        """The template's logical id of the child's state machine."""
        return self.logical_id or self.placeholder.removesuffix("Arn")

    @property
    def role_id(self) -> str:
        """The logical id of the child's role (CloudFormation)."""
        return f"{self.resource_id}Role"


def check_children(children: Sequence[ChildMachine]) -> None:
    """Raise :class:`ExportError` for a bad logical id or two children sharing one."""
    seen: dict[str, str] = {}
    for child in children:
        where = f"child state machine {child.name!r} (${{{child.placeholder}}})"
        if not _LOGICAL_ID.fullmatch(child.placeholder) or not _LOGICAL_ID.fullmatch(
            child.resource_id
        ):
            raise ExportError(
                f"{where}: placeholder and logical id must be 1-255 letters or digits"
            )
        for key, owner in (
            (child.placeholder, "placeholder"),
            (child.resource_id, "logical id"),
            (child.name, "name"),
        ):
            if f"{owner}:{key}" in seen:
                raise ExportError(
                    f"{where}: its {owner} {key!r} is also used by {seen[f'{owner}:{key}']}"
                )
            seen[f"{owner}:{key}"] = where
