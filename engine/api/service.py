"""The Step Functions API over :class:`~engine.local_engine.LocalEngine`: one method per operation.

Each state machine runs in its own engine (execution names are unique per machine), one per
mock-config test case it is started with (``arn:…:stateMachine:Name#TestCase``, as Step
Functions Local selects a case). Every engine keeps its executions in one shared store (scoped
by machine name), so a durable store brings back every execution after a restart and the
server resumes the ones still running. Requests and answers are the API's JSON members.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import structlog

from engine.api.activities import ActivityBoard
from engine.api.arns import Arns, check_name
from engine.api.errors import ApiError
from engine.api.paging import page
from engine.api.registry import ActivityRecord, MachineRecord, Registry
from engine.api.remote_lambda import RemoteLambda
from engine.api.scoped_store import ScopedStore
from engine.bindings import Handler, TaskBinding, UnboundResourceBinding, resolve_binding
from engine.clock import RealClock
from engine.diagnostics import DefinitionError, Diagnostic
from engine.durable import ResumeRefused
from engine.history import HistoryEvent
from engine.lambda_shapes import LAMBDA_INVOKE, activity_name, classify_resource
from engine.limits import to_json_text
from engine.loader import load
from engine.local_engine import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidExecutionInput,
    InvalidToken,
    LocalEngine,
    prepare_calls,
)
from engine.mock_config import MockConfig, MockConfigError, MockConfigInterceptor
from engine.model import MapState, ParallelState, State, StateMachine, TaskState
from engine.store.base import ExecutionStore, StoredExecution
from engine.store.memory import MemoryStore
from engine.store.sqlite import SQLiteStore

__all__ = ["ServiceConfig", "StepFunctionsService"]

_log = structlog.get_logger("engine.api")


@dataclass(frozen=True)
class ServiceConfig:
    """How the server runs tasks and where it keeps its state.

    ``handlers`` bind Task resources to Python callables (as ``saga execute --handlers``);
    ``lambda_endpoint`` invokes every other Lambda resource over the Lambda Invoke API;
    ``mock_config`` answers states of the test case a StartExecution ARN names; ``store`` is a
    SQLite file that keeps state machines and executions across restarts.
    """

    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    store: Path | None = None
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    handlers_ref: str | None = None
    mock_config: MockConfig | None = None
    lambda_endpoint: str | None = None


@dataclass(eq=False)
class _Host:
    """One engine running the executions of a machine (and test case)."""

    engine: LocalEngine
    closing: anyio.Event


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _iter_tasks(states: Mapping[str, State]) -> Iterator[tuple[str, TaskState]]:
    for name, state in states.items():
        if isinstance(state, TaskState):
            yield name, state
        elif isinstance(state, ParallelState):
            for branch in state.branches:
                yield from _iter_tasks(branch.states)
        elif isinstance(state, MapState) and (state.item_processor or state.iterator):
            yield from _iter_tasks(state.processor.states)


def _posix(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _json_text(value: Any) -> str:
    return to_json_text(value)


def _definition_error(diagnostics: list[Diagnostic]) -> ApiError:
    errors = [d for d in diagnostics if d.severity == "error"] or diagnostics
    text = "; ".join(f"{d.code}: {d.message} at {d.location or '/'}" for d in errors[:10])
    return ApiError("InvalidDefinition", f"Invalid State Machine Definition: '{text}'")


def _parse_definition(text: str) -> StateMachine:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(
            "InvalidDefinition",
            "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: "
            f"{exc.msg} at line {exc.lineno}, column {exc.colno}'",
        ) from None
    try:
        return load(document)
    except DefinitionError as exc:
        raise _definition_error(exc.diagnostics) from None


def _parse_input(text: str | None) -> Any:
    if text is None:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(
            "InvalidExecutionInput",
            f"Invalid State Machine Execution Input: '{exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}'",
        ) from None


def _parse_output(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError("InvalidOutput", f"Invalid Output: '{exc.msg}'") from None


class StepFunctionsService:
    """The API's operations; use inside :meth:`running` (it owns the engines' task group)."""

    def __init__(self, config: ServiceConfig | None = None) -> None:
        self.config = config or ServiceConfig()
        self.arns = Arns(self.config.region, self.config.account_id)
        self.activities = ActivityBoard()
        self._remote = (
            RemoteLambda(self.config.lambda_endpoint) if self.config.lambda_endpoint else None
        )
        self._hosts: dict[tuple[str, str | None], _Host] = {}
        self._models: dict[str, StateMachine] = {}
        self._handlers: dict[str, dict[str, Handler]] = {}
        self._bindings: dict[str, dict[str, TaskBinding]] = {}
        self._task_group: anyio.abc.TaskGroup | None = None
        self._store: ExecutionStore = MemoryStore()
        self.registry = Registry()
        self._host_lock = anyio.Lock()
        self._operations: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
            name: getattr(self, "_op_" + _snake(name))
            for name in (
                "CreateStateMachine",
                "DescribeStateMachine",
                "UpdateStateMachine",
                "DeleteStateMachine",
                "ListStateMachines",
                "ValidateStateMachineDefinition",
                "StartExecution",
                "StartSyncExecution",
                "DescribeExecution",
                "DescribeStateMachineForExecution",
                "StopExecution",
                "ListExecutions",
                "GetExecutionHistory",
                "SendTaskSuccess",
                "SendTaskFailure",
                "SendTaskHeartbeat",
                "CreateActivity",
                "DescribeActivity",
                "DeleteActivity",
                "ListActivities",
                "GetActivityTask",
                "TagResource",
                "UntagResource",
                "ListTagsForResource",
                "TestState",
            )
        }

    @property
    def operations(self) -> frozenset[str]:
        """The operations this server answers."""
        return frozenset(self._operations)

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run one operation (validated by the caller) and return its response members."""
        return await self._operations[operation](params)

    # -- lifecycle --------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> Any:
        """Open the store, start an engine per state machine, resume open executions."""
        if self.config.store is not None:
            self._store = SQLiteStore(self.config.store)
            self.registry = Registry(self.config.store)
        try:
            async with anyio.create_task_group() as group:
                self._task_group = group
                try:
                    await self._resume_all()
                    yield self
                finally:
                    for host in self._hosts.values():
                        host.closing.set()
                    self._hosts.clear()
                    self._task_group = None
        finally:
            self.registry.close()
            self._store.close()

    async def _resume_all(self) -> None:
        for record in list(self.registry.sorted_machines()):
            self._model(record.definition)
            self._bind(record.name, self._models[record.definition])
            scoped = ScopedStore(self._store, record.name)
            for stored in scoped.unfinished():
                settings = self.registry.execution_settings.get(stored.execution_arn, {})
                case = settings.get("testCase")
                try:
                    host = await self._host(record.name, case)
                    await host.engine.resume(stored.name)
                except (ResumeRefused, DefinitionError, MockConfigError, ApiError) as exc:
                    _log.warning("resume_refused", execution=stored.execution_arn, reason=str(exc))
                else:
                    _log.info("resumed", execution=stored.execution_arn)

    async def _host(self, machine: str, case: str | None) -> _Host:
        host = self._hosts.get((machine, case))
        if host is not None:
            return host
        async with self._host_lock:  # one engine per key, even for concurrent first requests
            host = self._hosts.get((machine, case))
            if host is None:
                host = await self._new_host(machine, case)
                self._hosts[(machine, case)] = host
            return host

    async def _new_host(self, machine: str, case: str | None) -> _Host:
        if self._task_group is None:
            raise RuntimeError("use the service inside 'async with service.running()'")
        interceptors: list[MockConfigInterceptor] = []
        if case is not None:
            if self.config.mock_config is None:
                raise ApiError.validation(
                    f"the state machine ARN names test case '{case}' but the server has no "
                    "mock config (--mock-config or SFN_MOCK_CONFIG)"
                )
            try:
                interceptors.append(MockConfigInterceptor(self.config.mock_config, machine, case))
            except MockConfigError as exc:
                raise ApiError.validation(str(exc)) from None
        engine = LocalEngine(
            clock=RealClock(),
            handlers=self._handlers.get(machine, {}),
            bindings=self._bindings.get(machine, {}),
            interceptors=interceptors,
            region=self.config.region,
            account_id=self.config.account_id,
            store=ScopedStore(self._store, machine),
            handlers_ref=self.config.handlers_ref,
        )
        host = _Host(engine, anyio.Event())

        async def serve(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            async with engine:
                task_status.started()
                await host.closing.wait()

        await self._task_group.start(serve)
        return host

    def _model(self, definition: str) -> StateMachine:
        model = self._models.get(definition)
        if model is None:
            model = _parse_definition(definition)
            self._models[definition] = model
        return model

    def _bind(self, machine: str, model: StateMachine) -> None:
        """Bind every Task resource of ``model``: handlers, activities, remote Lambdas."""
        handlers = self._handlers.setdefault(machine, dict(self.config.handlers))
        bindings = self._bindings.setdefault(machine, {})
        for state_name, task in _iter_tasks(model.states):
            resource = task.resource
            if resolve_binding(resource, handlers, parameters=task.parameters) is not None:
                continue
            if activity_name(resource) is not None:
                handlers[resource] = self.activities.handler_for(resource)
            elif self._remote is not None and classify_resource(resource).is_lambda:
                info = classify_resource(resource)
                key = LAMBDA_INVOKE if info.base_resource == LAMBDA_INVOKE else resource
                handlers[key] = self._remote
            else:
                bindings.setdefault(resource, UnboundResourceBinding(state_name, resource))
        for (name, _), host in self._hosts.items():
            if name == machine:
                host.engine.handlers = dict(handlers)
                host.engine.bindings = dict(bindings)
        try:
            prepare_calls(model, handlers, (), bindings)
        except DefinitionError as exc:
            raise _definition_error(exc.diagnostics) from None

    def _machine(self, arn: str) -> tuple[MachineRecord, str | None]:
        name, case = self.arns.parse_state_machine(arn)
        record = self.registry.machines.get(name)
        if record is None or arn.split("#", 1)[0] != record.arn:
            raise ApiError.state_machine_does_not_exist(arn)
        return record, case

    def _stored(self, arn: str) -> tuple[MachineRecord, StoredExecution]:
        machine, name = self.arns.parse_execution(arn)
        if not arn.startswith(self.arns.prefix + ":"):
            raise ApiError.execution_does_not_exist(arn)
        record = self.registry.machines.get(machine)
        stored = ScopedStore(self._store, machine).find(name) if record is not None else None
        if record is None or stored is None:
            raise ApiError.execution_does_not_exist(arn)
        return record, stored

    # -- state machines ---------------------------------------------------------------------

    def _describe_machine(self, record: MachineRecord) -> dict[str, Any]:
        out: dict[str, Any] = {
            "stateMachineArn": record.arn,
            "name": record.name,
            "status": "ACTIVE",
            "definition": record.definition,
            "roleArn": record.role_arn,
            "type": record.type,
            "creationDate": _posix(record.creation_posix),
            "loggingConfiguration": record.logging_configuration
            or {"level": "OFF", "includeExecutionData": False},
            "tracingConfiguration": record.tracing_configuration or {"enabled": False},
            "revisionId": record.revision_id,
        }
        if record.description:
            out["description"] = record.description
        return out

    async def _op_create_state_machine(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateStateMachine: validate the definition and register the machine."""
        name = params["name"]
        check_name(name)
        machine_type = params.get("type", "STANDARD")
        model = _parse_definition(params["definition"])
        existing = self.registry.machines.get(name)
        if existing is not None:
            if (
                existing.definition == params["definition"]
                and existing.role_arn == params["roleArn"]
                and existing.type == machine_type
            ):
                return {
                    "stateMachineArn": existing.arn,
                    "creationDate": _posix(existing.creation_posix),
                }
            raise ApiError(
                "StateMachineAlreadyExists", f"State Machine Already Exists: '{existing.arn}'"
            )
        self._models[params["definition"]] = model
        self._bind(name, model)
        record = MachineRecord(
            name=name,
            arn=self.arns.state_machine(name),
            definition=params["definition"],
            role_arn=params["roleArn"],
            type=machine_type,
            creation_posix=time.time(),
            revision_id=str(uuid.uuid4()),
            logging_configuration=params.get("loggingConfiguration") or {},
            tracing_configuration=params.get("tracingConfiguration") or {},
        )
        self.registry.put_machine(record)
        tags = {tag["key"]: tag.get("value", "") for tag in params.get("tags", [])}
        self.registry.set_tags(record.arn, tags)
        return {"stateMachineArn": record.arn, "creationDate": _posix(record.creation_posix)}

    async def _op_describe_state_machine(self, params: dict[str, Any]) -> dict[str, Any]:
        """DescribeStateMachine."""
        record, _ = self._machine(params["stateMachineArn"])
        return self._describe_machine(record)

    async def _op_update_state_machine(self, params: dict[str, Any]) -> dict[str, Any]:
        """UpdateStateMachine: a new definition, role or configuration for new executions."""
        record, _ = self._machine(params["stateMachineArn"])
        changes = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration")
        if not any(key in params for key in changes):
            raise ApiError(
                "MissingRequiredParameter",
                "Either the definition, the role ARN, the LoggingConfiguration, "
                "or the TracingConfiguration must be specified",
            )
        if "definition" in params:
            model = _parse_definition(params["definition"])
            self._models[params["definition"]] = model
            self._bind(record.name, model)
            record.definition = params["definition"]
        if "roleArn" in params:
            record.role_arn = params["roleArn"]
        if "loggingConfiguration" in params:
            record.logging_configuration = params["loggingConfiguration"]
        if "tracingConfiguration" in params:
            record.tracing_configuration = params["tracingConfiguration"]
        record.update_posix = time.time()
        record.revision_id = str(uuid.uuid4())
        self.registry.put_machine(record)
        return {"updateDate": _posix(record.update_posix), "revisionId": record.revision_id}

    async def _op_delete_state_machine(self, params: dict[str, Any]) -> dict[str, Any]:
        """DeleteStateMachine: stop its running executions and forget it."""
        name, _ = self.arns.parse_state_machine(params["stateMachineArn"])
        record = self.registry.machines.get(name)
        if record is None:
            return {}
        for key in [key for key in self._hosts if key[0] == name]:
            host = self._hosts.pop(key)
            for execution in host.engine.executions():
                if not execution.done:
                    await host.engine.stop(execution.name, cause="The state machine was deleted.")
            host.closing.set()
        self._handlers.pop(name, None)
        self._bindings.pop(name, None)
        self.registry.drop_machine(name)
        return {}

    async def _op_list_state_machines(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListStateMachines, in creation order, paged."""
        machines = list(self.registry.sorted_machines())
        chunk, token = page(
            machines, params.get("maxResults"), params.get("nextToken"), "ListStateMachines"
        )
        out: dict[str, Any] = {
            "stateMachines": [
                {
                    "stateMachineArn": record.arn,
                    "name": record.name,
                    "type": record.type,
                    "creationDate": _posix(record.creation_posix),
                }
                for record in chunk
            ]
        }
        if token:
            out["nextToken"] = token
        return out

    async def _op_validate_state_machine_definition(self, params: dict[str, Any]) -> dict[str, Any]:
        """ValidateStateMachineDefinition: the validator's diagnostics, errors first."""
        try:
            document = json.loads(params["definition"])
        except json.JSONDecodeError as exc:
            diagnostics = [Diagnostic("INVALID_JSON_DESCRIPTION", "", exc.msg)]
        else:
            try:
                diagnostics = load(document, validate=False).validate()
            except DefinitionError as exc:
                diagnostics = exc.diagnostics
        if params.get("severity", "ERROR") == "ERROR":
            diagnostics = [d for d in diagnostics if d.severity == "error"]
        limit = params.get("maxResults") or 100
        ordered = sorted(diagnostics, key=lambda d: d.severity != "error")
        shown = ordered[:limit]
        return {
            "result": "FAIL" if any(d.severity == "error" for d in diagnostics) else "OK",
            "diagnostics": [
                {
                    "severity": d.severity.upper(),
                    "code": d.code,
                    "message": d.message,
                    "location": d.location or "/",
                }
                for d in shown
            ],
            "truncated": len(ordered) > len(shown),
        }

    # -- executions -------------------------------------------------------------------------

    async def _start(
        self, params: dict[str, Any], *, express: bool
    ) -> tuple[MachineRecord, _Host, str, Any]:
        record, case = self._machine(params["stateMachineArn"])
        if express and record.type != "EXPRESS":
            raise ApiError(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            )
        name = params.get("name") or str(uuid.uuid4())
        check_name(name)
        data = _parse_input(params.get("input"))
        host = await self._host(record.name, case)
        model = self._model(record.definition)
        try:
            handle = await host.engine.start_execution(
                model, data, name, state_machine_name=record.name
            )
        except ExecutionAlreadyExists:
            arn = self.arns.execution(record.name, name)
            raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'") from None
        except InvalidExecutionInput as exc:
            raise ApiError(
                "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{exc}'"
            ) from None
        except DefinitionError as exc:
            raise _definition_error(exc.diagnostics) from None
        arn = handle.execution.execution_arn
        if case is not None:
            self.registry.set_execution_settings(arn, {"testCase": case})
        return record, host, name, handle

    async def _op_start_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        """StartExecution: start and answer at once (idempotent by name and input)."""
        _, _, _, handle = await self._start(params, express=False)
        execution = handle.execution
        return {
            "executionArn": execution.execution_arn,
            "startDate": _posix(execution.start_posix),
        }

    async def _op_start_sync_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        """StartSyncExecution (Express machines): run to the end and answer the outcome."""
        record, _, name, handle = await self._start(params, express=True)
        execution = await handle.result()
        status = (
            "SUCCEEDED"
            if execution.status == "SUCCEEDED"
            else ("TIMED_OUT" if execution.status == "TIMED_OUT" else "FAILED")
        )
        out: dict[str, Any] = {
            "executionArn": self.arns.express_execution(record.name, name, uuid.uuid4().hex),
            "stateMachineArn": record.arn,
            "name": name,
            "startDate": _posix(execution.start_posix),
            "stopDate": _posix(execution.stop_posix),
            "status": status,
            "input": _json_text(execution.input),
            "inputDetails": {"included": True},
            "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100},
        }
        if execution.status == "SUCCEEDED":
            out["output"] = _json_text(execution.output)
            out["outputDetails"] = {"included": True}
        else:
            if execution.error is not None:
                out["error"] = execution.error
            if execution.cause is not None:
                out["cause"] = execution.cause
        return out

    async def _op_describe_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        """DescribeExecution."""
        record, stored = self._stored(params["executionArn"])
        out: dict[str, Any] = {
            "executionArn": stored.execution_arn,
            "stateMachineArn": record.arn,
            "name": stored.name,
            "status": stored.status,
            "startDate": _posix(stored.start_posix),
            "input": _json_text(stored.input),
            "inputDetails": {"included": True},
            "redriveCount": 0,
            "redriveStatus": "NOT_REDRIVABLE",
        }
        if stored.stop_posix is not None:
            out["stopDate"] = _posix(stored.stop_posix)
        if stored.status == "SUCCEEDED":
            out["output"] = _json_text(stored.output)
            out["outputDetails"] = {"included": True}
        if stored.error is not None:
            out["error"] = stored.error
        if stored.cause is not None:
            out["cause"] = stored.cause
        return out

    async def _op_describe_state_machine_for_execution(
        self, params: dict[str, Any]
    ) -> dict[str, Any]:
        """DescribeStateMachineForExecution: the definition the execution ran."""
        record, stored = self._stored(params["executionArn"])
        definition = stored.definition
        if json.loads(definition) == self._model(record.definition).to_dict():
            definition = record.definition
        return {
            "stateMachineArn": record.arn,
            "name": record.name,
            "definition": definition,
            "roleArn": record.role_arn,
            "updateDate": _posix(record.update_posix or record.creation_posix),
            "loggingConfiguration": record.logging_configuration
            or {"level": "OFF", "includeExecutionData": False},
            "tracingConfiguration": record.tracing_configuration or {"enabled": False},
            "revisionId": record.revision_id,
        }

    async def _op_stop_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        """StopExecution: abort a running execution (ABORTED) with an optional error and cause."""
        record, stored = self._stored(params["executionArn"])
        if not stored.done:
            for (machine, _), host in list(self._hosts.items()):
                if machine != record.name:
                    continue
                try:
                    execution = await host.engine.stop(
                        stored.name, error=params.get("error"), cause=params.get("cause")
                    )
                except ExecutionDoesNotExist:
                    continue
                return {"stopDate": _posix(execution.stop_posix)}
        _, stored = self._stored(params["executionArn"])
        return {"stopDate": _posix(stored.stop_posix or time.time())}

    async def _op_list_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListExecutions of a machine, newest first, filtered by status, paged."""
        if "stateMachineArn" not in params:
            raise ApiError.validation("Must provide a StateMachine ARN or MapRun ARN")
        record, _ = self._machine(params["stateMachineArn"])
        if record.type == "EXPRESS":
            raise ApiError(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            )
        status = params.get("statusFilter")
        executions = ScopedStore(self._store, record.name).executions(status=status)
        executions.reverse()
        chunk, token = page(
            executions,
            params.get("maxResults"),
            params.get("nextToken"),
            f"ListExecutions:{record.arn}:{status}",
        )
        items = []
        for stored in chunk:
            item: dict[str, Any] = {
                "executionArn": stored.execution_arn,
                "stateMachineArn": record.arn,
                "name": stored.name,
                "status": stored.status,
                "startDate": _posix(stored.start_posix),
            }
            if stored.stop_posix is not None:
                item["stopDate"] = _posix(stored.stop_posix)
            items.append(item)
        out: dict[str, Any] = {"executions": items}
        if token:
            out["nextToken"] = token
        return out

    async def _op_get_execution_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """GetExecutionHistory: events in id order (or reversed), paged."""
        arn = params["executionArn"]
        record, stored = self._stored(arn)
        events = ScopedStore(self._store, record.name).history(stored.name)
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

    # -- task tokens ------------------------------------------------------------------------

    def _engines(self) -> list[LocalEngine]:
        return [host.engine for host in self._hosts.values()]

    async def _op_send_task_success(self, params: dict[str, Any]) -> dict[str, Any]:
        """SendTaskSuccess: complete a callback task or an activity task."""
        token, output = params["taskToken"], _parse_output(params["output"])
        task = self.activities.find(token)
        if task is not None:
            self.activities.succeed(task, output)
            return {}
        for engine in self._engines():
            try:
                engine.send_task_success(token, output)
            except InvalidToken:
                continue
            return {}
        raise ApiError.invalid_token("Invalid token")

    async def _op_send_task_failure(self, params: dict[str, Any]) -> dict[str, Any]:
        """SendTaskFailure: fail a callback task or an activity task."""
        token = params["taskToken"]
        error, cause = params.get("error"), params.get("cause")
        task = self.activities.find(token)
        if task is not None:
            self.activities.fail(task, error, cause)
            return {}
        for engine in self._engines():
            try:
                engine.send_task_failure(token, error, cause)
            except InvalidToken:
                continue
            return {}
        raise ApiError.invalid_token("Invalid token")

    async def _op_send_task_heartbeat(self, params: dict[str, Any]) -> dict[str, Any]:
        """SendTaskHeartbeat: the task is still being worked on."""
        token = params["taskToken"]
        if self.activities.find(token) is not None:
            return {}
        for engine in self._engines():
            try:
                engine.send_task_heartbeat(token)
            except InvalidToken:
                continue
            return {}
        raise ApiError.invalid_token("Invalid token")

    # -- activities -------------------------------------------------------------------------

    async def _op_create_activity(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateActivity (idempotent by name)."""
        name = params["name"]
        check_name(name)
        record = self.registry.activities.get(name)
        if record is None:
            record = ActivityRecord(name, self.arns.activity(name), time.time())
            self.registry.put_activity(record)
            tags = {tag["key"]: tag.get("value", "") for tag in params.get("tags", [])}
            self.registry.set_tags(record.arn, tags)
        return {"activityArn": record.arn, "creationDate": _posix(record.creation_posix)}

    def _activity(self, arn: str) -> ActivityRecord:
        name = self.arns.parse_activity(arn)
        record = self.registry.activities.get(name)
        if record is None or record.arn != arn:
            raise ApiError.activity_does_not_exist(arn)
        return record

    async def _op_describe_activity(self, params: dict[str, Any]) -> dict[str, Any]:
        """DescribeActivity."""
        record = self._activity(params["activityArn"])
        return {
            "activityArn": record.arn,
            "name": record.name,
            "creationDate": _posix(record.creation_posix),
        }

    async def _op_delete_activity(self, params: dict[str, Any]) -> dict[str, Any]:
        """DeleteActivity (deleting an unknown activity succeeds, as on AWS)."""
        name = self.arns.parse_activity(params["activityArn"])
        if name in self.registry.activities:
            self.registry.drop_activity(name)
            self.activities.forget(params["activityArn"])
        return {}

    async def _op_list_activities(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListActivities, in creation order, paged."""
        records = sorted(self.registry.activities.values(), key=lambda a: a.creation_posix)
        chunk, token = page(
            records, params.get("maxResults"), params.get("nextToken"), "ListActivities"
        )
        out: dict[str, Any] = {
            "activities": [
                {
                    "activityArn": record.arn,
                    "name": record.name,
                    "creationDate": _posix(record.creation_posix),
                }
                for record in chunk
            ]
        }
        if token:
            out["nextToken"] = token
        return out

    async def _op_get_activity_task(self, params: dict[str, Any]) -> dict[str, Any]:
        """GetActivityTask: the next task of the activity, waiting up to 60 seconds for one."""
        record = self._activity(params["activityArn"])
        task = await self.activities.next_task(record.arn)
        if task is None:
            return {}
        return {"taskToken": task.token, "input": self.activities.input_text(task)}

    # -- tags -------------------------------------------------------------------------------

    def _tagged(self, arn: str) -> str:
        kind, rest = self.arns.kind_of(arn)
        known = (kind == "stateMachine" and rest in self.registry.machines) or (
            kind == "activity" and rest in self.registry.activities
        )
        if kind not in {"stateMachine", "activity"}:
            raise ApiError.invalid_arn(arn, f"Resource type not valid in this context: {kind}")
        if not known or not arn.startswith(self.arns.prefix + ":"):
            raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'")
        return arn

    async def _op_tag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        """TagResource: add or overwrite tags (at most 50 per resource)."""
        arn = self._tagged(params["resourceArn"])
        tags = dict(self.registry.tags.get(arn, {}))
        for tag in params["tags"]:
            tags[tag["key"]] = tag.get("value", "")
        if len(tags) > 50:
            raise ApiError("TooManyTags", f"Too many tags: the limit is 50 for '{arn}'")
        self.registry.set_tags(arn, tags)
        return {}

    async def _op_untag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        """UntagResource."""
        arn = self._tagged(params["resourceArn"])
        tags = {
            key: value
            for key, value in self.registry.tags.get(arn, {}).items()
            if key not in set(params["tagKeys"])
        }
        self.registry.set_tags(arn, tags)
        return {}

    async def _op_list_tags_for_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListTagsForResource."""
        arn = self._tagged(params["resourceArn"])
        tags = self.registry.tags.get(arn, {})
        return {"tags": [{"key": key, "value": value} for key, value in tags.items()]}

    # -- TestState --------------------------------------------------------------------------

    async def _op_test_state(self, params: dict[str, Any]) -> dict[str, Any]:
        """TestState: run one state offline (see :mod:`engine.test_state`)."""
        from engine.test_state import TestStateError, test_state_async

        if "roleArn" not in params and "mock" not in params and _is_task(params["definition"]):
            raise ApiError.validation("RoleArn must be specified when testing a Task state")
        try:
            return await test_state_async(
                params["definition"],
                params.get("input"),
                state_name=params.get("stateName"),
                inspection_level=params.get("inspectionLevel", "INFO"),
                variables=params.get("variables"),
                context=params.get("context"),
                mock=params.get("mock"),
                state_configuration=params.get("stateConfiguration"),
                handlers=self.config.handlers,
            )
        except TestStateError as exc:
            raise ApiError(exc.error_type, exc.message) from None


def _is_task(definition: str) -> bool:
    """Whether a TestState definition is a Task state (alone; a whole machine is checked later)."""
    try:
        document = json.loads(definition)
    except json.JSONDecodeError:
        return False
    return isinstance(document, dict) and document.get("Type") == "Task"


def _event(event: HistoryEvent, include_data: bool) -> dict[str, Any]:
    rendered = event.to_dict()
    rendered["timestamp"] = _posix(event.posix)
    if not include_data:
        for key, value in rendered.items():
            if key.endswith("EventDetails") and isinstance(value, dict):
                value.pop("input", None)
                value.pop("output", None)
    return rendered
