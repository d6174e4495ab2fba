"""What each state of a compiled saga is for: a compensation or a failure handler.

Drawings colour the unwind by these roles; a definition that did not come from a saga has
its roles inferred from its shape instead (:func:`asl_export.execution_path.infer_roles`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asl_export.execution_path import Role

if TYPE_CHECKING:
    from saga.declaration import SagaDeclaration

__all__ = ["state_roles"]


def state_roles(saga: SagaDeclaration) -> dict[str, Role]:
    """The saga's compensations and failure handlers, by state name."""
    roles: dict[str, Role] = {}
    for step in saga.all_steps():
        if step.role == "compensation":
            roles[step.name] = "compensation"
        elif step.role == "failure handler":
            roles[step.name] = "failure-handler"
    return roles
