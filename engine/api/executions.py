"""Execution operations: start (also synchronously), describe, stop, list, history, redrive.

A start through a version ARN runs that version's definition; through an alias ARN, the
version the alias routes the execution name to (:func:`engine.api.aliases.route`). Which
version and alias an execution ran is kept with its settings (persisted with ``--store``).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from engine.api.aliases import route
from engine.api.arns import check_name
from engine.api.errors import ApiError
from engine.api.json_errors import describe_json_error
from engine.api.machines import add_variable_references, definition_error
from engine.api.map_runs import (
    child_execution_history,
    find_child_execution,
    is_child_arn,
    list_map_run_executions,
)
from engine.api.paging import page
from engine.api.registry import MachineRecord
from engine.api.scoped_store import ScopedStore
from engine.api.wire import encryption, json_text, posix
from engine.diagnostics import DefinitionError
from engine.history import HistoryEvent
from engine.local_engine import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionNotRedrivable,
    InvalidExecutionInput,
)
from engine.map_run_children import ChildExecution
from engine.store.base import StoredExecution

if TYPE_CHECKING:
    from engine.api.service import Host, StepFunctionsService

__all__ = [
    "describe_execution",
    "describe_state_machine_for_execution",
    "get_execution_history",
    "list_executions",
    "redrive_execution",
    "start_execution",
    "start_sync_execution",
    "stop_execution",
]


def _parse_input(text: str | None) -> Any:
    if text is None:
        return {}
    if not text.strip():
        raise ApiError(
            "InvalidExecutionInput",
            "Invalid State Machine Execution Input: 'Invalid execution input.'",
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = describe_json_error(text, exc)
        raise ApiError(
            "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{problem.message}'"
        ) from None
    except RecursionError:
        raise ApiError(
            "InvalidExecutionInput", "Invalid State Machine Execution Input: 'nested too deeply'"
        ) from None


async def _start(
    service: StepFunctionsService, params: dict[str, Any], *, express: bool
) -> tuple[MachineRecord, Host, str, Any]:
    target = service.target(params["stateMachineArn"])
    record, case = target.record, target.case
    if express and record.type != "EXPRESS":
        raise ApiError(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
        )
    name = params.get("name") or str(uuid.uuid4())
    check_name(name)
    data = _parse_input(params.get("input"))
    settings: dict[str, Any] = {} if case is None else {"testCase": case}
    definition, role_arn = record.definition, record.role_arn
    version = target.version
    if target.alias is not None:
        settings["aliasArn"] = target.alias.arn
        version = service.registry.versions[route(target.alias, name)]
    if version is not None:
        settings["versionArn"] = version.arn
        definition, role_arn = version.definition, version.role_arn
    host = await service.host(record.name, case)
    model = service.model(definition)
    if version is not None:
        service.bind(record.name, model)
    try:
        through = {
            member: settings[key]
            for key, member in (
                ("aliasArn", "stateMachineAliasArn"),
                ("versionArn", "stateMachineVersionArn"),
            )
            if key in settings
        }
        handle = await host.engine.start_execution(
            model,
            data,
            name,
            state_machine_name=record.name,
            started_through=through,
            role_arn=role_arn,
        )
    except ExecutionAlreadyExists:
        arn = service.arns.execution(record.name, name)
        raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'") from None
    except InvalidExecutionInput as exc:
        raise ApiError(
            "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{exc}'"
        ) from None
    except DefinitionError as exc:
        raise definition_error(exc.diagnostics) from None
    arn = handle.execution.execution_arn
    if settings:
        service.registry.set_execution_settings(arn, settings)
    return record, host, name, handle


async def start_execution(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """StartExecution: start and answer at once (idempotent by name and input)."""
    record, _, name, handle = await _start(service, params, express=False)
    execution = handle.execution
    arn = execution.execution_arn
    if record.type == "EXPRESS":  # not describable later, as on AWS
        arn = service.arns.express_execution(record.name, name, str(uuid.uuid4()))
    return {"executionArn": arn, "startDate": posix(execution.start_posix)}


async def start_sync_execution(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """StartSyncExecution (Express machines): run to the end and answer the outcome."""
    record, _, name, handle = await _start(service, params, express=True)
    execution = await handle.result()
    status = (
        "SUCCEEDED"
        if execution.status == "SUCCEEDED"
        else ("TIMED_OUT" if execution.status == "TIMED_OUT" else "FAILED")
    )
    out: dict[str, Any] = {
        "executionArn": service.arns.express_execution(record.name, name, uuid.uuid4().hex),
        "stateMachineArn": record.arn,
        "name": name,
        "startDate": posix(execution.start_posix),
        "stopDate": posix(execution.stop_posix),
        "status": status,
        "input": json_text(execution.input),
        "inputDetails": {"included": True},
        "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100},
    }
    if execution.status == "SUCCEEDED":
        out["output"] = json_text(execution.output)
        out["outputDetails"] = {"included": True}
    else:
        if execution.error is not None:
            out["error"] = execution.error
        if execution.cause is not None:
            out["cause"] = execution.cause
    return out


async def describe_execution(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """DescribeExecution (of a map run's child execution too)."""
    if is_child_arn(service, params["executionArn"]):
        return _describe_child(find_child_execution(service, params["executionArn"]))
    record, stored = service.stored_execution(params["executionArn"])
    out: dict[str, Any] = {
        "executionArn": stored.execution_arn,
        "stateMachineArn": record.arn,
        "name": stored.name,
        "status": stored.status,
        "startDate": posix(stored.start_posix),
        "input": json_text(stored.input),
        "inputDetails": {"included": True},
        **_lineage(service, stored),
        **_redrive(stored, record.type),
    }
    if stored.stop_posix is not None:
        out["stopDate"] = posix(stored.stop_posix)
    if stored.status == "SUCCEEDED":
        out["output"] = json_text(stored.output)
        out["outputDetails"] = {"included": True}
    if stored.status != "TIMED_OUT":  # AWS describes a timed-out execution without its error
        if stored.error is not None:
            out["error"] = stored.error
        if stored.cause is not None:
            out["cause"] = stored.cause
    return out


def _describe_child(child: ChildExecution) -> dict[str, Any]:
    """A map run's child as DescribeExecution shows it: its machine is ``Machine/Label``.

    Its redrive status is the one ``ResultWriter`` exports for it (not redrivable by itself).
    """
    out: dict[str, Any] = {
        "executionArn": child.execution_arn,
        "stateMachineArn": child.state_machine_arn,
        "name": child.name,
        "status": child.status,
        "startDate": posix(child.start_posix),
        "input": json_text(child.input),
        "inputDetails": {"included": True},
        "mapRunArn": child.map_run_arn,
        "redriveCount": 0,
        "redriveStatus": "NOT_REDRIVABLE",
    }
    if child.status == "SUCCEEDED":
        out["redriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    if child.stop_posix is not None:
        out["stopDate"] = posix(child.stop_posix)
    if child.status == "SUCCEEDED":
        out["output"] = json_text(child.output)
        out["outputDetails"] = {"included": True}
    if child.error is not None:
        out["error"] = child.error
    if child.cause is not None:
        out["cause"] = child.cause
    return out


def _lineage(service: StepFunctionsService, stored: StoredExecution) -> dict[str, Any]:
    """The version and alias an execution was started through (none: the machine)."""
    settings = service.registry.execution_settings.get(stored.execution_arn, {})
    out: dict[str, Any] = {}
    if "versionArn" in settings:
        out["stateMachineVersionArn"] = settings["versionArn"]
    if "aliasArn" in settings:
        out["stateMachineAliasArn"] = settings["aliasArn"]
    return out


def _redrive(stored: StoredExecution, machine_type: str) -> dict[str, Any]:
    """``redriveCount``, ``redriveDate``, ``redriveStatus`` and its reason, as AWS shows them."""
    out: dict[str, Any] = {"redriveCount": stored.redrive_count}
    if stored.redrive_posix is not None:
        out["redriveDate"] = posix(stored.redrive_posix)
    if machine_type == "STANDARD" and stored.status in _REDRIVABLE:
        out["redriveStatus"] = "REDRIVABLE"
    else:
        out["redriveStatus"] = "NOT_REDRIVABLE"
        out["redriveStatusReason"] = f"Execution is {stored.status} and cannot be redriven"
    return out


_REDRIVABLE = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})


async def describe_state_machine_for_execution(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """DescribeStateMachineForExecution: the definition the execution ran."""
    record, stored = service.stored_execution(params["executionArn"])
    version_arn = service.registry.execution_settings.get(stored.execution_arn, {}).get(
        "versionArn"
    )
    version = service.registry.versions.get(version_arn) if version_arn else None
    source = version.definition if version is not None else record.definition
    definition = stored.definition
    if json.loads(definition) == service.model(source).to_dict():
        definition = source
    out: dict[str, Any] = {
        "stateMachineArn": record.arn,
        "name": record.name,
        "definition": definition,
        "roleArn": record.role_arn,
        "updateDate": posix(record.update_posix or record.creation_posix),
        "loggingConfiguration": record.logging_configuration
        or {"level": "OFF", "includeExecutionData": False},
        "tracingConfiguration": record.tracing_configuration or {"enabled": False},
        "encryptionConfiguration": encryption(
            record.encryption_configuration if version is None else version.encryption_configuration
        ),
    }
    revision_id = record.revision_id if version is None else version.revision_id
    if revision_id:  # none for the revision the machine was created with
        out["revisionId"] = revision_id
    add_variable_references(out, definition)
    return out


async def stop_execution(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """StopExecution: abort a running execution (ABORTED) with an optional error and cause."""
    record, stored = service.stored_execution(params["executionArn"])
    if not stored.done:
        for (machine, _), host in list(service.hosts.items()):
            if machine != record.name:
                continue
            try:
                execution = await host.engine.stop(
                    stored.name, error=params.get("error"), cause=params.get("cause")
                )
            except ExecutionDoesNotExist:
                continue
            return {"stopDate": posix(execution.stop_posix)}
    _, stored = service.stored_execution(params["executionArn"])
    return {"stopDate": posix(stored.stop_posix or time.time())}


async def list_executions(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """ListExecutions of a machine (or a map run's children), newest first, by status, paged."""
    if "mapRunArn" in params:
        return await list_map_run_executions(service, params)
    if "stateMachineArn" not in params:
        raise ApiError.validation("Must provide a StateMachine ARN or MapRun ARN")
    target = service.target(params["stateMachineArn"])
    record = target.record
    if record.type == "EXPRESS":
        raise ApiError(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
        )
    status = params.get("statusFilter")
    executions = ScopedStore(service.store, record.name).executions(status=status)
    if target.version is not None or target.alias is not None:
        key, wanted = (
            ("versionArn", target.version.arn)
            if target.version is not None
            else ("aliasArn", target.alias.arn if target.alias is not None else "")
        )
        settings = service.registry.execution_settings
        executions = [e for e in executions if settings.get(e.execution_arn, {}).get(key) == wanted]
    executions.reverse()
    chunk, token = page(
        executions,
        params.get("maxResults"),
        params.get("nextToken"),
        f"ListExecutions:{params['stateMachineArn']}:{status}",
    )
    items = []
    for stored in chunk:
        item: dict[str, Any] = {
            "executionArn": stored.execution_arn,
            "stateMachineArn": record.arn,
            "name": stored.name,
            "status": stored.status,
            "startDate": posix(stored.start_posix),
        }
        if stored.stop_posix is not None:
            item["stopDate"] = posix(stored.stop_posix)
        item.update(_lineage(service, stored))
        item["redriveCount"] = stored.redrive_count
        if stored.redrive_posix is not None:
            item["redriveDate"] = posix(stored.redrive_posix)
        items.append(item)
    out: dict[str, Any] = {"executions": items}
    if token:
        out["nextToken"] = token
    return out


async def get_execution_history(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """GetExecutionHistory: events in id order (or reversed), paged."""
    arn = params["executionArn"]
    if is_child_arn(service, arn):
        events = child_execution_history(service, arn)
    else:
        record, stored = service.stored_execution(arn)
        events = ScopedStore(service.store, record.name).history(stored.name)
    reverse = bool(params.get("reverseOrder", False))
    if reverse:
        events.reverse()
    chunk, token = page(
        events,
        params.get("maxResults"),
        params.get("nextToken"),
        f"GetExecutionHistory:{arn}:{reverse}",
    )
    include_data = params.get("includeExecutionData", True)
    out: dict[str, Any] = {"events": [_event(event, include_data) for event in chunk]}
    if token:
        out["nextToken"] = token
    return out


def _event(event: HistoryEvent, include_data: bool) -> dict[str, Any]:
    rendered = event.to_dict()
    rendered["timestamp"] = posix(event.posix)
    if not include_data:
        for key, value in rendered.items():
            if key.endswith("EventDetails") and isinstance(value, dict):
                value.pop("input", None)
                value.pop("output", None)
    return rendered


async def redrive_execution(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """RedriveExecution: a FAILED, TIMED_OUT or ABORTED Standard execution goes on RUNNING."""
    arn = params["executionArn"]
    record, stored = service.stored_execution(arn)
    if record.type != "STANDARD":
        raise ApiError(
            "ExecutionNotRedrivable", f"Execution is {stored.status} and cannot be redriven"
        )
    case = service.registry.execution_settings.get(arn, {}).get("testCase")
    host = await service.host(record.name, case)
    service.bind(record.name, service.model(stored.definition))  # a version's tasks too
    try:
        await host.engine.redrive(stored.name)
    except ExecutionNotRedrivable as exc:
        raise ApiError("ExecutionNotRedrivable", str(exc)) from None
    except DefinitionError as exc:
        raise definition_error(exc.diagnostics) from None
    _, reopened = service.stored_execution(arn)
    return {"redriveDate": posix(reopened.redrive_posix or time.time())}
