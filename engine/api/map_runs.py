"""Map run operations: ``DescribeMapRun``, ``ListMapRuns`` and ``UpdateMapRun`` for the
distributed Maps the served executions run, and their child executions (``ListExecutions``
with ``mapRunArn``; ``DescribeExecution`` and ``GetExecutionHistory`` of a child's ARN,
``arn:…:execution:Machine/Label:id``).

A map run lives with the execution that runs its Map state, in that machine's engine, and in
the server's store; the ARN (``arn:…:mapRun:Machine/Label:id``) names the machine, so only its
engines and its part of the store are asked. With ``--store`` map runs survive a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.api.errors import ApiError
from engine.api.paging import page
from engine.api.scoped_store import ScopedStore
from engine.api.wire import posix
from engine.distributed.map_run import COUNT_KEYS, MapRun
from engine.history import HistoryEvent
from engine.local_engine import ExecutionDoesNotExist
from engine.map_run_children import ChildExecution, child_history, find_child, list_children
from engine.store.base import HistoryNotKept

if TYPE_CHECKING:
    from engine.api.service import StepFunctionsService
    from engine.local_engine import LocalEngine

__all__ = [
    "child_execution_history",
    "describe_map_run",
    "find_child_execution",
    "is_child_arn",
    "list_map_run_executions",
    "list_map_runs",
    "update_map_run",
]


def _counts(counts: dict[str, int]) -> dict[str, int]:
    return {
        **{key: counts[key] for key in COUNT_KEYS},
        "resultsWritten": counts["resultsWritten"],
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    }


def _described(run: MapRun) -> dict[str, Any]:
    out: dict[str, Any] = {
        "mapRunArn": run.map_run_arn,
        "executionArn": run.execution_arn,
        "status": run.status,
        "startDate": posix(run.start_posix),
        "maxConcurrency": run.max_concurrency,
        "toleratedFailurePercentage": run.tolerated_failure_percentage,
        "toleratedFailureCount": run.tolerated_failure_count,
        "itemCounts": _counts(run.item_counts),
        "executionCounts": _counts(run.execution_counts),
        "redriveCount": run.redrive_count,
    }
    if run.stop_posix is not None:
        out["stopDate"] = posix(run.stop_posix)
    if run.redrive_posix is not None:
        out["redriveDate"] = posix(run.redrive_posix)
    return out


def _runs_of(service: StepFunctionsService, machine: str, execution: str) -> list[MapRun]:
    """The map runs of ``execution`` of ``machine``, from whichever engine runs it, or the store."""
    for (name, _), host in list(service.hosts.items()):
        if name != machine:
            continue
        try:
            return host.engine.list_map_runs(execution)
        except ExecutionDoesNotExist:
            continue
    return ScopedStore(service.store, machine).map_runs(execution)


def _machine_of(service: StepFunctionsService, arn: str) -> str:
    """The machine a map run ARN names; ``InvalidArn`` when it is not a map run's ARN."""
    kind, rest = service.arns.kind_of(arn)
    if kind != "mapRun" or not arn.startswith(service.arns.prefix + ":"):
        raise ApiError.invalid_arn(f"Resource type not valid in this context: {kind}")
    parts = rest.split(":")
    machine = parts[0].split("/", 1)[0]
    if len(parts) != 2 or "/" not in parts[0] or not machine or not parts[1]:
        raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
    return machine


def _find(service: StepFunctionsService, arn: str) -> tuple[MapRun, LocalEngine | None]:
    """The map run ``arn`` (a running one first) and the engine that has it (None: the store)."""
    machine = _machine_of(service, arn)
    for (name, _), host in list(service.hosts.items()):
        if name == machine:
            found = host.engine.find_map_run(arn)
            if found is not None:
                return found, host.engine
    scoped = ScopedStore(service.store, machine)
    for stored in scoped.executions():
        for run in scoped.map_runs(stored.name):
            if run.map_run_arn == arn:
                return run, None
    raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'")


async def describe_map_run(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeMapRun: the map run's status, limits and item and child-execution counts."""
    run, _ = _find(service, params["mapRunArn"])
    return _described(run)


async def update_map_run(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateMapRun: new ``maxConcurrency``/tolerated failures for a RUNNING map run.

    The running run takes them at once (more or fewer children at a time; the failure
    threshold checked against the new values) and they are written to the store.
    """
    arn = params["mapRunArn"]
    run, engine = _find(service, arn)
    if run.status != "RUNNING" or engine is None:
        raise ApiError.validation(f"Map Run is not in progress: '{arn}'")
    try:
        engine.update_map_run(
            arn,
            max_concurrency=params.get("maxConcurrency"),
            tolerated_failure_count=params.get("toleratedFailureCount"),
            tolerated_failure_percentage=params.get("toleratedFailurePercentage"),
        )
    except (ValueError, ExecutionDoesNotExist):
        raise ApiError.validation(f"Map Run is not in progress: '{arn}'") from None
    return {}


async def list_map_runs(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """ListMapRuns: the map runs an execution started, in start order, paged."""
    arn = params["executionArn"]
    record, stored = service.stored_execution(arn)
    runs = _runs_of(service, record.name, stored.name)
    chunk, token = page(
        runs, params.get("maxResults"), params.get("nextToken"), f"ListMapRuns:{arn}"
    )
    items = []
    for run in chunk:
        item: dict[str, Any] = {
            "executionArn": run.execution_arn,
            "mapRunArn": run.map_run_arn,
            "stateMachineArn": run.state_machine_arn,
            "startDate": posix(run.start_posix),
        }
        if run.stop_posix is not None:
            item["stopDate"] = posix(run.stop_posix)
        items.append(item)
    out: dict[str, Any] = {"mapRuns": items}
    if token:
        out["nextToken"] = token
    return out


# -- the child executions of map runs --------------------------------------------------------


def is_child_arn(service: StepFunctionsService, arn: str) -> bool:
    """Whether an execution ARN names a map run's child (``…:execution:Machine/Label:id``)."""
    kind, rest = service.arns.kind_of(arn)
    return kind == "execution" and "/" in rest.split(":", 1)[0]


def _child_machine(service: StepFunctionsService, arn: str) -> str:
    """The parent machine a child execution ARN names; ``InvalidArn`` when malformed."""
    _, rest = service.arns.kind_of(arn)
    parts = rest.split(":")
    machine = parts[0].split("/", 1)[0]
    if len(parts) != 2 or not machine or not parts[0].split("/", 1)[1] or not parts[1]:
        raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
    return machine


def _engines_of(service: StepFunctionsService, machine: str) -> list[LocalEngine]:
    return [host.engine for (name, _), host in list(service.hosts.items()) if name == machine]


def _children(
    service: StepFunctionsService, machine: str, arn: str, status: str | None
) -> list[ChildExecution]:
    """The children of map run ``arn`` of ``machine``: from its engine, else from the store."""
    for engine in _engines_of(service, machine):
        try:
            return engine.list_map_run_executions(arn, status=status)
        except ExecutionDoesNotExist:
            continue
    scoped = ScopedStore(service.store, machine)
    for stored in scoped.executions():
        for run in scoped.map_runs(stored.name):
            if run.map_run_arn == arn:
                return list_children(scoped, stored.name, run, status)
    raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'")


async def list_map_run_executions(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """ListExecutions with ``mapRunArn``: the run's child executions, newest first, paged."""
    arn = params["mapRunArn"]
    if "stateMachineArn" in params:
        raise ApiError.validation("Cannot specify both a StateMachine ARN and a MapRun ARN")
    status = params.get("statusFilter")
    children = _children(service, _machine_of(service, arn), arn, status)
    chunk, token = page(
        children,
        params.get("maxResults"),
        params.get("nextToken"),
        f"ListExecutions:{arn}:{params.get('statusFilter')}",
    )
    items = []
    for child in chunk:
        item: dict[str, Any] = {
            "executionArn": child.execution_arn,
            "stateMachineArn": child.state_machine_arn,
            "name": child.name,
            "status": child.status,
            "startDate": posix(child.start_posix),
        }
        if child.stop_posix is not None:
            item["stopDate"] = posix(child.stop_posix)
        item["mapRunArn"] = child.map_run_arn
        item["itemCount"] = child.item_count
        item["redriveCount"] = 0
        items.append(item)
    out: dict[str, Any] = {"executions": items}
    if token:
        out["nextToken"] = token
    return out


def find_child_execution(service: StepFunctionsService, arn: str) -> ChildExecution:
    """The child execution ``arn`` (running or ended); AWS's ``ExecutionDoesNotExist`` if none."""
    machine = _child_machine(service, arn)
    for engine in _engines_of(service, machine):
        try:
            return engine.describe_map_run_execution(arn)
        except ExecutionDoesNotExist:
            continue
    try:
        child, _ = find_child(ScopedStore(service.store, machine), [], arn)
    except ExecutionDoesNotExist:
        raise ApiError.execution_does_not_exist(arn) from None
    return child


def child_execution_history(service: StepFunctionsService, arn: str) -> list[HistoryEvent]:
    """The history of the child execution ``arn``; ``ExecutionDoesNotExist`` if unknown."""
    machine = _child_machine(service, arn)
    try:
        for engine in _engines_of(service, machine):
            try:
                return engine.map_run_execution_history(arn)
            except ExecutionDoesNotExist:
                continue
        scoped = ScopedStore(service.store, machine)
        try:
            _, source = find_child(scoped, [], arn)
        except ExecutionDoesNotExist:
            raise ApiError.execution_does_not_exist(arn) from None
        return child_history(scoped, source)
    except HistoryNotKept as exc:
        raise ApiError("ResourceNotFound", f"Execution history not kept: {exc}") from None
