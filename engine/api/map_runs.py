"""Map run operations: ``DescribeMapRun`` and ``ListMapRuns`` for the distributed Maps the
served executions run.

A map run lives with the execution that runs its Map state, in that machine's engine; the
ARN (``arn:…:mapRun:Machine/Label:id``) names the machine, so only its engines are asked.
Map runs are kept in memory: after a restart of the server they are no longer listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.api.errors import ApiError
from engine.api.paging import page
from engine.api.wire import posix
from engine.distributed.map_run import COUNT_KEYS, MapRun
from engine.local_engine import ExecutionDoesNotExist

if TYPE_CHECKING:
    from engine.api.service import StepFunctionsService

__all__ = ["describe_map_run", "list_map_runs"]


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
        "redriveCount": 0,
    }
    if run.stop_posix is not None:
        out["stopDate"] = posix(run.stop_posix)
    return out


def _runs_of(service: StepFunctionsService, machine: str, execution: str) -> list[MapRun]:
    """The map runs of ``execution`` of ``machine``, from whichever engine runs it."""
    for (name, _), host in list(service.hosts.items()):
        if name != machine:
            continue
        try:
            return host.engine.list_map_runs(execution)
        except ExecutionDoesNotExist:
            continue
    return []


async def describe_map_run(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeMapRun: the map run's status, limits and item and child-execution counts."""
    arn = params["mapRunArn"]
    kind, rest = service.arns.kind_of(arn)
    if kind != "mapRun" or not arn.startswith(service.arns.prefix + ":"):
        raise ApiError.invalid_arn(f"Resource type not valid in this context: {kind}")
    parts = rest.split(":")
    machine = parts[0].split("/", 1)[0]
    if len(parts) != 2 or "/" not in parts[0] or not machine or not parts[1]:
        raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
    for (name, _), host in list(service.hosts.items()):
        if name != machine:
            continue
        for execution in host.engine.executions():
            for run in execution.map_runs:
                if run.map_run_arn == arn:
                    return _described(run)
    raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'")


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
