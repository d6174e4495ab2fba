"""Execution pages for stored and in-memory executions: ``saga report``, the console, pytest.

The page itself is :mod:`asl_export.report`; this module finds what it needs around an
execution: the definition it ran (kept with it in the store), and the roles of its states when
it was a saga's (the saga recorded with the execution, else inferred from the definition).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from asl_export.execution_path import Role
from asl_export.report import execution_section, render_report
from engine.execution import Execution
from engine.history import HistoryEvent
from engine.loader import load
from engine.model import StateMachine
from engine.store import ExecutionStore
from engine.store.base import StoredExecution

__all__ = [
    "ExecutionView",
    "execution_view",
    "in_memory_record",
    "recorded_roles",
    "write_report",
]


@dataclass(frozen=True)
class ExecutionView:
    """One stored execution with what its page needs: machine, events, state roles."""

    record: StoredExecution
    machine: StateMachine
    events: list[HistoryEvent]
    roles: Mapping[str, Role] | None

    def section(self) -> str:
        """The page body (``<section id="execution">``)."""
        return execution_section(self.machine, self.record, self.events, roles=self.roles)

    def report(self) -> str:
        """The self-contained HTML page."""
        return render_report(self.machine, self.record, self.events, roles=self.roles)


def recorded_roles(record: StoredExecution) -> dict[str, Role] | None:
    """The roles of the saga recorded with ``record`` (``saga run --store``), if it imports.

    None when the execution was not a saga's, or its saga cannot be imported here: the page
    then infers the roles from the definition's shape.
    """
    try:
        ref = json.loads(record.handlers_ref or "")
    except ValueError:
        return None
    target = ref.get("saga") if isinstance(ref, dict) else None
    if not isinstance(target, str):
        return None
    from saga.cli._targets import import_target
    from saga.roles import state_roles
    from saga.saga import Saga

    try:
        value = import_target(target, "module:attribute")
    except Exception:  # the saga's module does not import here: the roles are inferred instead
        return None
    return state_roles(value) if isinstance(value, Saga) else None


def execution_view(store: ExecutionStore, name: str) -> ExecutionView:
    """What the page of execution ``name`` shows (ExecutionDoesNotExist when unknown)."""
    record = store.get(name)
    events = store.history(name)
    machine = load(record.definition, validate=False)
    return ExecutionView(record, machine, events, recorded_roles(record))


def in_memory_record(execution: Execution, machine: StateMachine) -> StoredExecution:
    """An in-memory execution described as a store would keep it."""
    return StoredExecution(
        name=execution.name,
        execution_arn=execution.execution_arn,
        state_machine_arn=execution.state_machine_arn,
        definition=machine.to_json(),
        input=execution.input,
        start_posix=execution.start_posix,
        status=execution.status,
        output=execution.output,
        error=execution.error,
        cause=execution.cause,
        stop_posix=execution.stop_posix,
    )


def write_report(
    path: Path,
    execution: Execution,
    machine: StateMachine,
    roles: Mapping[str, Role] | None = None,
) -> Path:
    """Write the page of an in-memory execution to ``path`` (whole, or not at all)."""
    record = in_memory_record(execution, machine)
    text = render_report(machine, record, execution.history, roles=roles)
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path
