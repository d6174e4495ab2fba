"""The API server's state over :class:`~engine.local_engine.LocalEngine`: engines, resources, store.

Each state machine runs in its own engine (execution names are unique per machine), one per
mock-config test case it is started with (``arn:…:stateMachine:Name#TestCase``, as Step
Functions Local selects a case). Every engine keeps its executions in one shared store (scoped
by machine name), so a durable store brings back every execution after a restart and the
server resumes the ones still running. The operations themselves live in :mod:`engine.api.machines`,
:mod:`~engine.api.executions`, :mod:`~engine.api.callbacks`, :mod:`~engine.api.tags` and
:mod:`~engine.api.test_state_op`, dispatched by :data:`engine.api.operations.OPERATIONS`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import anyio
import anyio.abc
import structlog

from engine.api.activities import ActivityBoard
from engine.api.arns import Arns
from engine.api.errors import ApiError
from engine.api.machines import definition_error, iter_tasks, parse_definition
from engine.api.nested import served_nested_bindings
from engine.api.operations import OPERATIONS
from engine.api.registry import AliasRecord, MachineRecord, Registry, VersionRecord
from engine.api.remote_lambda import RemoteLambda
from engine.api.scoped_store import ScopedStore
from engine.bindings import Handler, TaskBinding, UnboundResourceBinding, resolve_binding
from engine.clock import RealClock
from engine.diagnostics import DefinitionError
from engine.durable import ResumeRefused
from engine.integrations import integration_for
from engine.lambda_shapes import LAMBDA_INVOKE, activity_name, classify_resource
from engine.local_engine import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    LocalEngine,
    prepare_calls,
)
from engine.mock_config import MockConfig, MockConfigError, MockConfigInterceptor
from engine.model import StateMachine
from engine.nested_execution import NESTED_RESOURCES
from engine.store.base import ExecutionStore, StoredExecution
from engine.store.memory import MemoryStore
from engine.store.sqlite import SQLiteStore

__all__ = ["Host", "ServiceConfig", "StepFunctionsService", "Target"]

_log = structlog.get_logger("engine.api")

_FALLBACKS: Final = {
    resource: integration_for(NESTED_RESOURCES[0]) for resource in NESTED_RESOURCES
}
"""Where a ``startExecution`` call to a machine the server does not serve goes (boto3)."""


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
class Host:
    """One engine running the executions of a machine (and test case)."""

    engine: LocalEngine
    closing: anyio.Event


@dataclass(frozen=True)
class Target:
    """What a state machine ARN names: the machine, or one of its versions or aliases."""

    record: MachineRecord
    case: str | None
    version: VersionRecord | None = None
    alias: AliasRecord | None = None


class StepFunctionsService:
    """The server's engines, resources and store; use inside :meth:`running`, which owns the
    engines' task group. :meth:`call` runs an operation."""

    def __init__(self, config: ServiceConfig | None = None) -> None:
        self.config = config or ServiceConfig()
        self.arns = Arns(self.config.region, self.config.account_id)
        self.activities = ActivityBoard()
        self.remote = (
            RemoteLambda(self.config.lambda_endpoint) if self.config.lambda_endpoint else None
        )
        self.hosts: dict[tuple[str, str | None], Host] = {}
        self.models: dict[str, StateMachine] = {}
        self.machine_handlers: dict[str, dict[str, Handler]] = {}
        self.machine_bindings: dict[str, dict[str, TaskBinding]] = {}
        self._task_group: anyio.abc.TaskGroup | None = None
        self.store: ExecutionStore = MemoryStore()
        self.registry = Registry()
        self._host_lock = anyio.Lock()
        self._operations = OPERATIONS

    @property
    def operations(self) -> frozenset[str]:
        """The operations this server answers."""
        return frozenset(self._operations)

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run one operation (validated by the caller) and return its response members."""
        return await self._operations[operation](self, params)

    # -- lifecycle --------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> Any:
        """Open the store, start an engine per state machine, resume open executions."""
        if self.config.store is not None:
            self.store = SQLiteStore(self.config.store)
            self.registry = Registry(self.config.store)
        try:
            async with anyio.create_task_group() as group:
                self._task_group = group
                try:
                    await self._resume_all()
                    yield self
                finally:
                    for host in self.hosts.values():
                        host.closing.set()
                    self.hosts.clear()
                    self._task_group = None
        finally:
            self.registry.close()
            self.store.close()

    async def _resume_all(self) -> None:
        """Bind every stored machine and resume its open executions (a restart)."""
        for record in list(self.registry.sorted_machines()):
            try:
                self.bind(record.name, self.model(record.definition))
                for version in self.registry.machine_versions(record.name):
                    self.bind(record.name, self.model(version.definition))
            except ApiError as exc:  # e.g. a definition this version no longer accepts
                _log.warning("machine_not_runnable", machine=record.arn, reason=exc.message)
                continue
            scoped = ScopedStore(self.store, record.name)
            for stored in scoped.unfinished():
                settings = self.registry.execution_settings.get(stored.execution_arn, {})
                case = settings.get("testCase")
                try:
                    host = await self.host(record.name, case)
                    await host.engine.resume(stored.name)
                except (ResumeRefused, DefinitionError, MockConfigError, ApiError) as exc:
                    _log.warning("resume_refused", execution=stored.execution_arn, reason=str(exc))
                else:
                    _log.info("resumed", execution=stored.execution_arn)

    async def host(self, machine: str, case: str | None) -> Host:
        """The engine of ``machine`` (and mock-config test ``case``), started on first use."""
        host = self.hosts.get((machine, case))
        if host is not None:
            return host
        async with self._host_lock:  # one engine per key, even for concurrent first requests
            host = self.hosts.get((machine, case))
            if host is None:
                host = await self._new_host(machine, case)
                self.hosts[(machine, case)] = host
            return host

    async def _new_host(self, machine: str, case: str | None) -> Host:
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
            handlers=self.machine_handlers.get(machine, {}),
            bindings=self.machine_bindings.get(machine, {}),
            interceptors=interceptors,
            region=self.config.region,
            account_id=self.config.account_id,
            store=ScopedStore(self.store, machine),
            handlers_ref=self.config.handlers_ref,
        )
        host = Host(engine, anyio.Event())

        async def serve(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            async with engine:
                task_status.started()
                await host.closing.wait()

        await self._task_group.start(serve)
        return host

    def model(self, definition: str) -> StateMachine:
        """The model of a definition text (parsed once)."""
        model = self.models.get(definition)
        if model is None:
            model = parse_definition(definition)
            self.models[definition] = model
        return model

    def bind(self, machine: str, model: StateMachine) -> None:
        """Bind every Task resource of ``model``: handlers, activities, remote Lambdas."""
        handlers = self.machine_handlers.setdefault(machine, dict(self.config.handlers))
        bindings = self.machine_bindings.setdefault(machine, {})
        for resource, binding in served_nested_bindings(self, handlers, _FALLBACKS).items():
            bindings.setdefault(resource, binding)
        for _, state_name, task in iter_tasks(model.states):
            resource = task.resource
            if resolve_binding(resource, handlers, parameters=task.parameters) is not None:
                continue
            if activity_name(resource) is not None:
                handlers[resource] = self.activities.handler_for(
                    resource, functools.partial(self.activity_exists, resource)
                )
            elif self.remote is not None and classify_resource(resource).is_lambda:
                info = classify_resource(resource)
                key = LAMBDA_INVOKE if info.base_resource == LAMBDA_INVOKE else resource
                handlers[key] = self.remote
            else:
                bindings.setdefault(resource, UnboundResourceBinding(state_name, resource))
        for (name, _), host in self.hosts.items():
            if name == machine:
                host.engine.handlers = dict(handlers)
                host.engine.bindings = dict(bindings)
        try:
            prepare_calls(model, handlers, (), bindings)
        except DefinitionError as exc:
            raise definition_error(exc.diagnostics) from None

    def activity_exists(self, arn: str) -> bool:
        """Whether the activity ``arn`` names exists (it may be deleted while machines use it)."""
        name = activity_name(arn)
        record = self.registry.activities.get(name) if name is not None else None
        return record is not None and record.arn == arn

    def machine_record(self, arn: str) -> tuple[MachineRecord, str | None]:
        """The machine a state machine ARN names and its ``#TestCase``; AWS's errors if none."""
        name, case = self.arns.parse_state_machine(arn)
        record = self.registry.machines.get(name)
        if record is None or arn.split("#", 1)[0] != record.arn:
            raise ApiError.state_machine_does_not_exist(arn)
        return record, case

    def target(self, arn: str) -> Target:
        """The machine, version or alias a state machine ARN names; AWS's errors if none."""
        name, qualifier, case = self.arns.parse_qualified(arn)
        record = self.registry.machines.get(name)
        bare = arn.split("#", 1)[0]
        if record is None or not bare.startswith(record.arn):
            raise ApiError.state_machine_does_not_exist(arn)
        if qualifier is None:
            if bare != record.arn:
                raise ApiError.state_machine_does_not_exist(arn)
            return Target(record, case)
        if qualifier.isdigit():
            version = self.registry.versions.get(bare)
            if version is None:
                raise ApiError.state_machine_does_not_exist(arn)
            return Target(record, case, version=version)
        alias = self.registry.aliases.get(bare)
        if alias is None:
            raise ApiError.state_machine_does_not_exist(arn)
        return Target(record, case, alias=alias)

    def stored_execution(self, arn: str) -> tuple[MachineRecord, StoredExecution]:
        """The machine and stored record of an execution ARN; AWS's errors if none."""
        machine, name = self.arns.parse_execution(arn)
        if not arn.startswith(self.arns.prefix + ":"):
            raise ApiError.execution_does_not_exist(arn)
        record = self.registry.machines.get(machine)
        stored = ScopedStore(self.store, machine).find(name) if record is not None else None
        if record is None or stored is None:
            raise ApiError.execution_does_not_exist(arn)
        return record, stored

    def engines(self) -> list[LocalEngine]:
        """Every engine running now (for task tokens, which any of them may have issued)."""
        return [host.engine for host in self.hosts.values()]
