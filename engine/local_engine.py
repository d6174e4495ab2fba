"""The local Step Functions: start executions by name, await, describe, stop, callbacks.

``LocalEngine`` is an async context manager running any number of executions concurrently in
one event loop; ``run`` is the synchronous one-shot wrapper. Everything a definition needs is
checked before an execution starts: every Task resource must be bound (a handler, a built-in
integration, or an interceptor that mocks the state).
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Final, TypeAlias

import anyio
import anyio.abc
import anyio.from_thread
import anyio.lowlevel

from engine import logging as engine_logging
from engine.background_loop import loop_token, run_blocking
from engine.bindings import (
    CallNext,
    Handler,
    Interceptor,
    TaskBinding,
    is_mocked,
)
from engine.clock import (
    Clock,
    ClockOption,
    Gate,
    RealClock,
    VirtualClock,
    format_context_timestamp,
    make_clock,
)
from engine.diagnostics import DefinitionError, Diagnostic
from engine.distributed.map_run import MapRun
from engine.execution import Execution
from engine.execution_handle import ExecutionHandle, Recorder
from engine.execution_resume import ResumeHost, go_on, redrive_execution
from engine.execution_start import (
    MachineSource,
    as_machine,
    check_execution_name,
    clean_input,
    definition_text,
)
from engine.history import History, HistoryEvent
from engine.interpreter import ExecutionControl, Runtime, TokenWaiter, execute
from engine.interpreter.progress import ResumePoint
from engine.limits import (
    MAX_HISTORY_EVENTS,
    InvalidExecutionInput,
)
from engine.loader import load
from engine.map_run_children import ChildExecution, child_history, find_child, list_children
from engine.model import StateMachine, TaskState
from engine.names import is_valid_name
from engine.nested_execution import NESTED_RESOURCES, NestedExecutionBinding, nested_bindings
from engine.resume_plan import (
    ExecutionNotRedrivable,
    ResumeRefused,
    mark_live,
)
from engine.seeding import execution_seed
from engine.states import RUNNERS
from engine.store.base import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionStore,
    StoredExecution,
    StoreError,
)
from engine.store.memory import MemoryStore
from engine.store.owner import process_owner
from engine.store.pending import commit_staged
from engine.task_calls import json_pointer, prepare_calls, shared_calls, walk_states
from engine.task_tokens import InvalidToken, TaskTokenCallbacks

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionHandle",
    "ExecutionNotRedrivable",
    "InvalidExecutionInput",
    "InvalidToken",
    "LocalEngine",
    "MachineSource",
    "ResumeRefused",
    "current_engine",
    "prepare_calls",
    "run",
]

DEFAULT_REGION: Final = "us-east-1"
DEFAULT_ACCOUNT_ID: Final = "123456789012"
DEFAULT_STATE_MACHINE_NAME: Final = "LocalStateMachine"
_PREPARED_CACHE_SIZE: Final = 256

_SyncChildren: TypeAlias = tuple[tuple[str, str, tuple[str, ...]], ...]
"""A machine's ``.sync`` child executions named by a constant ARN: state, ARN, JSON path."""


def _started_through(stored: StoredExecution) -> dict[str, str]:
    """The version/alias members an execution's ``ExecutionStarted`` event carries."""
    through = stored.options.get("startedThrough")
    if not isinstance(through, dict):
        return {}
    return {str(key): str(value) for key, value in through.items()}


class LocalEngine(TaskTokenCallbacks):
    """Runs ASL state machines locally, many executions at once, in one event loop.

    Use as ``async with LocalEngine(...) as engine``; executions still running when the block
    ends are aborted — except in a durable ``store`` (e.g. :class:`~engine.store.SQLiteStore`),
    where they stay open for :meth:`resume`. Every history event is written to the store
    before the engine acts on it; ``handlers_ref`` is recorded with each execution so a
    resume can bind its handlers again. ``seed`` seeds every execution's random draws (retry
    jitter, ``States.UUID``, task tokens); without it each execution's seed is derived from its
    name (:mod:`engine.seeding`), and ``Execution.seed`` records the one used.
    ``max_history_events`` is AWS's quota (25,000)
    unless raised on purpose, e.g. to measure a Map larger than a Standard execution could
    record.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        handlers: Mapping[str, Handler] | None = None,
        seed: int | None = None,
        interceptors: Sequence[Interceptor] = (),
        bindings: Mapping[str, TaskBinding] | None = None,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
        role_arn: str | None = None,
        max_history_events: int = MAX_HISTORY_EVENTS,
        store: ExecutionStore | None = None,
        handlers_ref: str | None = None,
        state_machines: Mapping[str, MachineSource] | None = None,
    ) -> None:
        self.max_history_events = max_history_events
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self._clock_time = self.clock.time  # bound once: every execution's history reads it
        self.store: ExecutionStore = store if store is not None else MemoryStore()
        self.handlers_ref = handlers_ref
        self.handlers: Mapping[str, Handler] = dict(handlers or {})
        self.seed = seed
        self.interceptors: tuple[Interceptor, ...] = tuple(interceptors)
        self.region = region
        self.account_id = account_id
        self.role_arn = role_arn or f"arn:aws:iam::{account_id}:role/LocalStepFunctionsRole"
        self._own: dict[str, TaskBinding] | None = None
        self._user_bindings: Mapping[str, TaskBinding] = dict(bindings or {})
        self._bindings: Mapping[str, TaskBinding] | None = None
        self._merged_bindings: Mapping[str, TaskBinding] | None = None
        self._machines: dict[str, StateMachine] = {}
        self._watchers: dict[str, list[Gate]] = {}
        self.closing = False
        """True once the engine is closing: running executions are being let go."""
        for sm_name, source in (state_machines or {}).items():
            self.register_state_machine(source, sm_name)
        self._handles: dict[str, ExecutionHandle] = {}
        self._tokens: dict[str, TokenWaiter] = {}
        self._prepared: dict[
            int, tuple[StateMachine, dict[str, CallNext], frozenset[str], _SyncChildren]
        ] = {}
        self._task_group: anyio.abc.TaskGroup | None = None
        self._clock_context: Any = None
        self._loop_thread: int | None = None
        self._loop_token: Any = None
        self._finished: ExecutionControl | None = None

    # -- state machines the engine knows (found by ARN by nested executions) ----------------

    @property
    def bindings(self) -> Mapping[str, TaskBinding]:
        """What each resource is bound to besides handlers: the ``bindings`` given, over the
        engine's own (``states:startExecution*`` as child executions)."""
        if self._bindings is None:
            self._bindings = self._merged_bindings = {
                **self._own_bindings(),
                **self._user_bindings,
            }
        return self._bindings

    @bindings.setter
    def bindings(self, value: Mapping[str, TaskBinding]) -> None:
        self._bindings = value

    def _own_bindings(self) -> dict[str, TaskBinding]:
        """``states:startExecution*`` as child executions, unless a handler is keyed by it.

        Made when first needed: most machines start no child, and each binding refers back to
        the engine (a reference cycle that only the garbage collector frees).
        """
        if self._own is None:
            from engine.integrations import integration_for

            fallback = integration_for(NESTED_RESOURCES[0])  # stateless: serves every resource
            fallbacks = dict.fromkeys(NESTED_RESOURCES, fallback)
            nested = nested_bindings(self, fallbacks)
            self._own = {key: value for key, value in nested.items() if key not in self.handlers}
        return self._own

    def _own_for(self, machine: StateMachine) -> Mapping[str, TaskBinding]:
        """The engine's own bindings ``machine`` may use (none unless it starts executions)."""
        for _, state, _ in walk_states(machine.states, ()):
            if isinstance(state, TaskState) and state.resource in NESTED_RESOURCES:
                return self._own_bindings()
        return {}

    def state_machine_arn(self, name: str) -> str:
        """The ARN a state machine called ``name`` has in this engine's region and account."""
        return f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{name}"

    def register_state_machine(self, machine: MachineSource, name: str | None = None) -> str:
        """Make ``machine`` known by its ARN (for ``states:startExecution``); return the ARN.

        ``name`` defaults to ``LocalStateMachine``; registering a name again replaces it.
        The machine is validated and its tasks' bindings checked when an execution starts.
        """
        sm_name = name or DEFAULT_STATE_MACHINE_NAME
        if not is_valid_name(sm_name):
            raise ValueError(
                f"invalid state machine name {sm_name!r}: 1-80 characters, no whitespace, "
                "brackets, wildcards or special characters"
            )
        arn = self.state_machine_arn(sm_name)
        self._machines[arn] = as_machine(machine)
        return arn

    def state_machine(self, arn: str) -> StateMachine | None:
        """The machine known under ``arn`` (a version or alias suffix is ignored).

        Registered machines first; then the definition an execution of that machine left in
        the store (so a resumed parent can start or re-attach to its children).
        """
        if arn.count(":") > 6:
            arn = ":".join(arn.split(":")[:7])
        found = self._machines.get(arn)
        if found is None:
            stored = [e for e in self.store.executions() if e.state_machine_arn == arn]
            if stored:
                found = load(json.loads(stored[-1].definition), validate=False)
                self._machines[arn] = found
        return found

    def state_machines(self) -> dict[str, StateMachine]:
        """Every machine the engine knows, by ARN."""
        return dict(self._machines)

    def _sync_children(self, machine: StateMachine) -> _SyncChildren:
        """The ``.sync`` children ``machine`` starts by a constant ARN: state name, ARN, where."""
        children: list[tuple[str, str, tuple[str, ...]]] = []
        for name, state, where in walk_states(machine.states, ()):
            if not isinstance(state, TaskState) or state.resource not in NESTED_RESOURCES[1:3]:
                continue
            if state.resource not in self.bindings or not isinstance(
                self.bindings[state.resource], NestedExecutionBinding
            ):
                continue
            arn = (
                state.parameters.get("StateMachineArn")
                if isinstance(state.parameters, dict)
                else None
            )
            if isinstance(arn, str):
                children.append((name, arn, where))
        return tuple(children)

    def _check_children(self, children: _SyncChildren) -> None:
        """A ``.sync`` child named by a constant ARN must be known before the run starts."""
        problems: list[Diagnostic] = []
        for name, arn, where in children:
            if self.state_machine(arn) is None:
                problems.append(
                    Diagnostic(
                        "UNKNOWN_STATE_MACHINE",
                        json_pointer((*where, "Parameters", "StateMachineArn")),
                        f"state '{name}' starts '{arn}', which this engine does not know: "
                        "register it with LocalEngine.register_state_machine (or "
                        "state_machines={name: definition})",
                    )
                )
        if problems:
            raise DefinitionError(problems)

    def watch(self, name: str) -> Gate:
        """A clock gate that opens when the execution ``name`` ends (now, if it has)."""
        gate = self.clock.gate()
        handle = self._handles.get(name)
        if handle is None or handle.execution.done:
            gate.open()
        else:
            self._watchers.setdefault(name, []).append(gate)
        return gate

    def finished_execution(
        self, name: str, data: Any, started_by: str
    ) -> Execution | StoredExecution | None:
        """The ended execution ``name`` that ``started_by`` started with ``data``, if any.

        A resumed parent finds the child it had started before the crash this way.
        """
        handle = self._handles.get(name)
        if handle is not None:
            record = handle.execution
            known = self.store.find(name)
            starter = known.options.get("startedBy") if known is not None else None
            if record.done and record.input == data and starter == started_by:
                return record
            return None
        stored = self.store.find(name)
        if (
            stored is not None
            and stored.done
            and stored.options.get("startedBy") == started_by
            and stored.input == data
        ):
            return stored
        return None

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> LocalEngine:
        self._loop_thread = threading.get_ident()
        self._loop_token = loop_token()
        task_group = anyio.create_task_group()
        self._clock_context = None
        if not self.clock.drive_from(task_group):  # one task group less when it can
            self._clock_context = self.clock.running()
            await self._clock_context.__aenter__()
        self._finished = ExecutionControl()
        self._finished.end()
        self._task_group = task_group
        await task_group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        durable = self.store.durable
        self.closing = True
        commit_staged()  # what open executions recorded is kept for a resume
        for handle in list(self._handles.values()):
            if not handle.execution.done:
                if durable:
                    # Left open in the store, as after a crash: a resume continues it.
                    handle.recorder.detach()
                handle.control.stopped = True
                handle.control.stop_error = None
                handle.control.stop_cause = "The local engine was closed."
                handle.control.scope.cancel()
        task_group, self._task_group = self._task_group, None
        if self._clock_context is None:
            # Its driver leaves the task group (what still runs has just been cancelled).
            self.clock.stop_driving()
        try:
            if task_group is not None:
                if exc is not None and not isinstance(exc, anyio.get_cancelled_exc_class()):
                    # The block raised: stop the executions and let its exception out as is.
                    task_group.cancel_scope.cancel()
                    await task_group.__aexit__(None, None, None)
                else:
                    await task_group.__aexit__(exc_type, exc, tb)
        finally:
            if self._clock_context is not None:
                await self._clock_context.__aexit__(None, None, None)
        return None

    def _let_go(self) -> None:
        """Drop what refers back to this closed engine (its handles, its child-execution
        bindings): a one-call run's engine, and every record it kept, is then freed as soon as
        the call returns instead of waiting for the garbage collector."""
        self._handles.clear()
        self._prepared.clear()
        self._own = self._bindings = self._merged_bindings = None

    # -- executions -------------------------------------------------------------------------

    def _prepare(
        self, machine: StateMachine
    ) -> tuple[dict[str, CallNext], frozenset[str], _SyncChildren]:
        cached = self._prepared.get(id(machine))
        if cached is not None and cached[0] is machine:
            return cached[1], cached[2], cached[3]
        if self.interceptors or self._bindings is not self._merged_bindings:
            calls = prepare_calls(machine, self.handlers, self.interceptors, self.bindings)
        else:  # a one-call run of the same machine and handlers does not bind them again
            calls = shared_calls(
                machine, self.handlers, self._user_bindings, lambda: self._own_for(machine)
            )
        mocked: frozenset[str] = frozenset()
        children: _SyncChildren = ()
        if self.interceptors:
            mocked = frozenset(name for name in calls if is_mocked(self.interceptors, name))
            children = self._sync_children(machine)
        else:
            for call in calls.values():
                if isinstance(getattr(call, "__self__", None), NestedExecutionBinding):
                    children = self._sync_children(machine)
                    break
        if len(self._prepared) >= _PREPARED_CACHE_SIZE:
            self._prepared.clear()
        self._prepared[id(machine)] = (machine, calls, mocked, children)
        return calls, mocked, children

    async def start_execution(
        self,
        machine: MachineSource,
        input: Any = None,
        name: str | None = None,
        *,
        state_machine_name: str | None = None,
        started_by: str | None = None,
        started_through: Mapping[str, str] | None = None,
        role_arn: str | None = None,
    ) -> ExecutionHandle:
        """Start an execution and return its handle without waiting for it.

        Starting again with the name of an open execution and the same input returns that
        execution (idempotent, as Step Functions); a different input or a closed execution of
        that name raises :class:`ExecutionAlreadyExists`. The store decides, so this holds
        across processes: an open execution whose process is gone is resumed here. The machine
        becomes known by its ARN (``state_machine_name``), so executions can start it as a child;
        ``started_by`` records which parent task started it; ``started_through`` adds members to
        its ``ExecutionStarted`` event (``stateMachineVersionArn``, ``stateMachineAliasArn``);
        ``role_arn`` is the execution's role (default: the engine's).
        """
        handle, model = await self._open(
            machine,
            input,
            name,
            state_machine_name=state_machine_name,
            started_by=started_by,
            started_through=started_through,
            role_arn=role_arn,
        )
        if model is not None:
            self._launch(handle, model, None)
        return handle

    async def _run_here(
        self,
        machine: MachineSource,
        input: Any,
        name: str | None,
        state_machine_name: str | None,
    ) -> Execution:
        """:meth:`execute` with the execution run in the calling task rather than a task of
        its own (a one-call run: nothing else runs in the engine but what it starts)."""
        handle, model = await self._open(
            machine, input, name, state_machine_name=state_machine_name
        )
        if model is not None:
            self._live(handle)
            await LocalEngine._run(self, handle, model, None)
        return await handle.result()

    async def _open(
        self,
        machine: MachineSource,
        input: Any,
        name: str | None,
        *,
        state_machine_name: str | None,
        started_by: str | None = None,
        started_through: Mapping[str, str] | None = None,
        role_arn: str | None = None,
    ) -> tuple[ExecutionHandle, StateMachine | None]:
        """A new execution's handle, to run with its model; or the open execution of that
        name (the same input) with no model: it runs already, or was resumed here."""
        if self._task_group is None:
            raise RuntimeError("use the LocalEngine as 'async with LocalEngine(...) as engine'")
        model = as_machine(machine)
        calls, mocked, children = self._prepare(model)
        self._machines[self.state_machine_arn(state_machine_name or DEFAULT_STATE_MACHINE_NAME)] = (
            model
        )
        self._check_children(children)
        data = clean_input(input)
        name = name if name is not None else str(uuid.uuid4())
        check_execution_name(name)
        existing = self._handles.get(name)
        if existing is not None:
            if not existing.execution.done and existing.execution.input == data:
                return existing, None
            raise ExecutionAlreadyExists(f"Execution Already Exists: '{name}'")
        identity = self._identity(name, state_machine_name)
        stored, created = self.store.start(
            StoredExecution(
                name=name,
                execution_arn=identity["execution_arn"],
                state_machine_arn=identity["state_machine_arn"],
                definition=self._definition(model),
                input=data,
                start_posix=self.clock.time(),
                handlers_ref=self.handlers_ref,
                options=self._options(
                    execution_seed(name, self.seed), started_by, started_through, role_arn
                ),
            ),
            process_owner(),
        )
        if not created:
            # Open in the store, with the same input, but not run by this engine: its process
            # is gone (or closed its engine), so it goes on here where it stopped.
            try:
                return await self.resume(name), None
            except ResumeRefused as exc:
                raise ExecutionAlreadyExists(
                    f"Execution Already Exists: '{name}' ({exc})"
                ) from None
        return self._create(calls, mocked, data, stored), model

    def _definition(self, machine: StateMachine) -> str:
        """The machine's ASL JSON text, kept with each execution (see :func:`definition_text`)."""
        return definition_text(machine)

    def _identity(self, name: str, state_machine_name: str | None) -> dict[str, str]:
        sm_name = state_machine_name or DEFAULT_STATE_MACHINE_NAME
        prefix = f"arn:aws:states:{self.region}:{self.account_id}"
        return {
            "state_machine_arn": f"{prefix}:stateMachine:{sm_name}",
            "execution_arn": f"{prefix}:execution:{sm_name}:{name}",
        }

    def _options(
        self,
        seed: int,
        started_by: str | None = None,
        started_through: Mapping[str, str] | None = None,
        role_arn: str | None = None,
    ) -> dict[str, Any]:
        options: dict[str, Any] = {
            "region": self.region,
            "accountId": self.account_id,
            "roleArn": role_arn or self.role_arn,
            "clock": "real" if isinstance(self.clock, RealClock) else "virtual",
            "seed": seed,
        }
        if started_by is not None:
            options["startedBy"] = started_by
        if started_through:
            options["startedThrough"] = dict(started_through)
        return options

    def _launch(
        self, handle: ExecutionHandle, model: StateMachine, point: ResumePoint | None
    ) -> None:
        assert self._task_group is not None
        self._live(handle)
        # The plain function, not the bound method: one object less per running execution.
        self._task_group.start_soon(LocalEngine._run, self, handle, model, point)

    def _live(self, handle: ExecutionHandle) -> None:
        """Count ``handle``'s execution as running here, about to run."""
        self._handles[handle.name] = handle
        mark_live(self.store, handle.name, True)
        self.clock.flow_started()

    def _create(
        self,
        calls: dict[str, CallNext],
        mocked: frozenset[str],
        data: Any,
        stored: StoredExecution,
        events: list[HistoryEvent] | None = None,
    ) -> ExecutionHandle:
        name = stored.name
        sm_arn = stored.state_machine_arn
        start = stored.start_posix
        recorder = Recorder(self.store, name, log=engine_logging.enabled())
        history = History(self._clock_time, limit=self.max_history_events, listener=recorder)
        if events:
            history.events.extend(events)
        recorded = stored.options.get("seed")
        seed = (
            recorded
            if isinstance(recorded, int) and not isinstance(recorded, bool)
            else execution_seed(name, self.seed)
        )
        record = Execution(
            name=name,
            execution_arn=stored.execution_arn,
            state_machine_arn=sm_arn,
            input=data,
            start_posix=start,
            history=history.events,
            seed=seed,
        )
        runtime = Runtime(
            record=record,
            history=history,
            clock=self.clock,
            seed=seed,
            calls=calls,
            mocked=mocked,
            tokens=self._tokens,
            region=self.region,
            context_execution={
                "Id": stored.execution_arn,
                "Input": data,
                "Name": name,
                "RoleArn": stored.options.get("roleArn", self.role_arn),
                "StartTime": format_context_timestamp(start),
                "RedriveCount": stored.redrive_count,
            },
            context_state_machine={"Id": sm_arn, "Name": sm_arn.rsplit(":", 1)[-1]},
            runners=RUNNERS,
            started_through=_started_through(stored),
            map_run_log=recorder,
        )
        recorder.runtime = runtime
        control = ExecutionControl()
        recorder.control = control
        return ExecutionHandle(self, record, control, runtime, recorder)

    async def _run(
        self, handle: ExecutionHandle, machine: StateMachine, point: ResumePoint | None
    ) -> None:
        _CURRENT.set(self)  # this execution's task (and its children) see their engine
        try:
            assert handle.runtime is not None
            role_arn = str(handle.runtime.context_execution.get("RoleArn") or self.role_arn)
            await execute(handle.runtime, machine, handle.control, role_arn, point)
        finally:
            commit_staged()  # what it recorded is kept before it counts as ended
            mark_live(self.store, handle.name, False)
            recorder = handle.recorder
            recorder.trim(handle.execution)
            if not recorder.attached:
                with contextlib.suppress(StoreError):  # a gone owner is taken over anyway
                    self.store.release(handle.name, process_owner())
            # What only a running execution needs is let go; the record stays.
            handle.runtime = None
            handle.recorder.runtime = None
            handle.recorder.control = None
            if self._finished is not None:
                handle.control = self._finished
            for gate in self._watchers.pop(handle.name, []):
                gate.open()
            self.clock.flow_finished()

    async def resume(
        self,
        name: str,
        *,
        handlers: Mapping[str, Handler] | None = None,
        interceptors: Sequence[Interceptor] | None = None,
        take_over: bool = False,
    ) -> ExecutionHandle:
        """Go on with the open execution ``name`` of the store, from its recorded history.

        Tasks are bound to ``handlers``/``interceptors`` (default: the engine's). A task whose
        outcome was not recorded runs again (at least once; see :mod:`engine.durable`).
        Raises :class:`ResumeRefused` when it has ended or a live engine or process runs it;
        ``take_over`` replaces an owner that cannot be checked from here (another host).
        """
        return await go_on(
            self._resume_host(),
            name,
            handlers=handlers,
            interceptors=interceptors,
            take_over=take_over,
        )

    async def redrive(self, name: str) -> ExecutionHandle:
        """Redrive the FAILED, TIMED_OUT or ABORTED execution ``name`` (``RedriveExecution``).

        It goes on RUNNING under the same name and ARN, from the last state that did not
        complete, with the input recorded when that state was entered (its retry counters from
        zero; a Parallel or Map runs again as a whole); completed states are not run again.
        Its history gains an ``ExecutionRedriven`` event (``redriveCount``), its record counts
        the redrive, and ``$$.Execution.RedriveCount`` tells it. The machine's timeout counts
        from the redrive. Raises :class:`ExecutionNotRedrivable` for a RUNNING or SUCCEEDED
        execution, :class:`ExecutionDoesNotExist` for an unknown one.
        """
        return await redrive_execution(self._resume_host(), name)

    def _resume_host(self) -> ResumeHost:
        """What resuming and redriving take from this engine (:mod:`engine.execution_resume`)."""
        if self._task_group is None:
            raise RuntimeError("use the LocalEngine as 'async with LocalEngine(...) as engine'")
        return ResumeHost(
            store=self.store,
            clock=self.clock,
            handlers=self.handlers,
            interceptors=self.interceptors,
            bindings=self.bindings,
            is_running=self._is_running,
            remember_machine=self._remember_machine,
            create=self._create,
            launch=self._launch,
        )

    def _is_running(self, name: str) -> bool:
        return name in self._handles and not self._handles[name].execution.done

    def _remember_machine(self, arn: str, machine: StateMachine) -> None:
        self._machines.setdefault(arn, machine)

    async def execute(
        self,
        machine: MachineSource,
        input: Any = None,
        name: str | None = None,
        *,
        state_machine_name: str | None = None,
    ) -> Execution:
        """Start an execution and wait for its end."""
        handle = await self.start_execution(
            machine, input, name, state_machine_name=state_machine_name
        )
        return await handle.result()

    def _handle(self, name: str) -> ExecutionHandle:
        handle = self._handles.get(name)
        if handle is None:
            raise ExecutionDoesNotExist(name)
        return handle

    def describe(self, name: str) -> Execution:
        """The record of the execution ``name`` as it is now."""
        return self._handle(name).execution

    async def result(self, name: str) -> Execution:
        """Wait for the execution ``name`` to end."""
        return await self._handle(name).result()

    def history(self, name: str) -> list[HistoryEvent]:
        """The history events of the execution ``name`` so far."""
        return list(self._handle(name).execution.history)

    def executions(self) -> list[Execution]:
        """Every execution this engine started, in start order."""
        return [handle.execution for handle in self._handles.values()]

    def list_map_runs(self, name: str) -> list[MapRun]:
        """The distributed Map runs of the execution ``name``, in start order.

        An execution this engine does not run (ended before a restart) has them from the store.
        """
        handle = self._handles.get(name)
        if handle is not None:
            return list(handle.execution.map_runs)
        if self.store.find(name) is None:
            raise ExecutionDoesNotExist(name)
        return self.store.map_runs(name)

    def find_map_run(self, map_run_arn: str) -> MapRun | None:
        """The map run ``map_run_arn`` of an execution of this engine or its store, or None.

        ``arn:…:mapRun:Machine/Label:id`` does not name its execution, so a stored run is
        looked for among the store's executions of this engine's machines.
        """
        for handle in self._handles.values():
            for map_run in handle.execution.map_runs:
                if map_run.map_run_arn == map_run_arn:
                    return map_run
        for stored in self.store.executions():
            if stored.name in self._handles:
                continue
            for map_run in self.store.map_runs(stored.name):
                if map_run.map_run_arn == map_run_arn:
                    return map_run
        return None

    def _live_map_runs(self) -> list[tuple[str, MapRun]]:
        """The map runs of the executions this engine runs now, with their execution's name."""
        return [
            (name, run)
            for name, handle in list(self._handles.items())
            if handle.runtime is not None
            for run in handle.execution.map_runs
        ]

    def _locate_map_run(self, map_run_arn: str) -> tuple[str, MapRun]:
        for name, handle in list(self._handles.items()):
            for run in handle.execution.map_runs:
                if run.map_run_arn == map_run_arn:
                    return name, run
        for stored in self.store.executions():
            for run in self.store.map_runs(stored.name):
                if run.map_run_arn == map_run_arn:
                    return stored.name, run
        raise ExecutionDoesNotExist(map_run_arn)

    def list_map_run_executions(
        self, map_run_arn: str, *, status: str | None = None
    ) -> list[ChildExecution]:
        """``ListExecutions(mapRunArn=…)``: the map run's child executions, newest first.

        ``status`` keeps only those with that status. Raises :class:`ExecutionDoesNotExist`
        when no execution of this engine (or its store) has that map run.
        """
        name, run = self._locate_map_run(map_run_arn)
        return list_children(self.store, name, run, status)

    def describe_map_run_execution(self, execution_arn: str) -> ChildExecution:
        """``DescribeExecution`` of a map run's child execution (running or ended).

        Raises :class:`ExecutionDoesNotExist` when no map run has that child.
        """
        child, _ = find_child(self.store, self._live_map_runs(), execution_arn)
        return child

    def map_run_execution_history(self, execution_arn: str) -> list[HistoryEvent]:
        """``GetExecutionHistory`` of a map run's child execution, in event order.

        Raises :class:`ExecutionDoesNotExist` for an unknown child, and
        :class:`~engine.store.HistoryNotKept` when the store did not keep its history (the
        in-memory store keeps a bounded number per map run; SQLite keeps all).
        """
        _, source = find_child(self.store, self._live_map_runs(), execution_arn)
        return child_history(self.store, source)

    def update_map_run(
        self,
        map_run_arn: str,
        *,
        max_concurrency: int | None = None,
        tolerated_failure_count: int | None = None,
        tolerated_failure_percentage: float | None = None,
    ) -> MapRun:
        """``UpdateMapRun``: new limits for a running map run, taken at once and stored.

        Raises :class:`ExecutionDoesNotExist` when no execution this engine runs has that map
        run, ``ValueError`` when it has ended.
        """
        for handle in self._handles.values():
            for map_run in handle.execution.map_runs:
                if map_run.map_run_arn != map_run_arn:
                    continue
                if map_run.status != "RUNNING" or handle.runtime is None:
                    raise ValueError(f"map run {map_run_arn} is not in progress")
                map_run.update(
                    max_concurrency, tolerated_failure_count, tolerated_failure_percentage
                )
                log = handle.runtime.map_run_log
                if log is not None:
                    log.saved(map_run)
                return map_run
        raise ExecutionDoesNotExist(map_run_arn)

    def describe_map_run(self, map_run_arn: str) -> dict[str, Any]:
        """``DescribeMapRun`` for a map run of any execution of this engine (or its store)."""
        found = self.find_map_run(map_run_arn)
        if found is None:
            raise ExecutionDoesNotExist(map_run_arn)
        return found.describe()

    async def stop(
        self, name: str, *, error: str | None = None, cause: str | None = None
    ) -> Execution:
        """Abort a running execution (status ABORTED, ``ExecutionAborted``); wait for its end."""
        handle = self._handle(name)
        if not handle.execution.done:
            handle.control.stopped = True
            handle.control.stop_error = error
            handle.control.stop_cause = cause
            handle.control.scope.cancel()
        return await handle.result()


_CURRENT: ContextVar[LocalEngine | None] = ContextVar("current_local_engine", default=None)


def current_engine() -> LocalEngine | None:
    """The engine running the calling task's execution (None outside one): lets an
    interceptor answer its task's callback with ``send_task_success``/``failure``."""
    return _CURRENT.get()


def run(
    machine: MachineSource,
    input: Any = None,
    *,
    handlers: Mapping[str, Handler] | None = None,
    name: str | None = None,
    clock: ClockOption = None,
    seed: int | None = None,
    interceptors: Sequence[Interceptor] = (),
    bindings: Mapping[str, TaskBinding] | None = None,
    state_machine_name: str | None = None,
    store: ExecutionStore | None = None,
    handlers_ref: str | None = None,
    state_machines: Mapping[str, MachineSource] | None = None,
) -> Execution:
    """Run one execution to its end and return its record (a virtual clock unless given one).

    ``clock`` is a :class:`Clock` or ``"virtual"``/``"real"``. The call runs on an event loop
    kept alive between calls (:mod:`engine.background_loop`): a new engine, clock and store
    each time, so no state passes from one execution to the next.

    With a ``store`` every event is written there first (``handlers_ref`` recorded with it):
    a durable store lets :func:`engine.durable.resume` continue the execution after a crash.
    ``state_machines`` (name → definition) are the machines ``states:startExecution`` can start.

    Raises :class:`DefinitionError` before running when the definition cannot run locally
    (an unbound resource, a Parquet item reader), :class:`InvalidExecutionInput`, and
    :class:`~engine.store.ExecutionNotRecorded` when the store could not record an event (the
    execution stopped there and is left RUNNING in the store, resumable).
    """

    async def main() -> Execution:
        model = as_machine(machine)
        async with LocalEngine(
            clock=make_clock(clock),
            handlers=handlers,
            seed=seed,
            interceptors=interceptors,
            bindings=bindings,
            store=store,
            handlers_ref=handlers_ref,
            state_machines=state_machines,
        ) as engine:
            if store is None:
                # Nobody else sees this engine's store: the execution runs in this task.
                execution = await engine._run_here(model, input, name, state_machine_name)
            else:
                execution = await engine.execute(
                    model, input, name, state_machine_name=state_machine_name
                )
        engine._let_go()
        return execution

    return run_blocking(
        main,
        "engine.run() blocks until the execution ends, so it cannot be called inside a "
        "running event loop; use 'async with LocalEngine(...) as engine: "
        "await engine.execute(...)' there",
    )
