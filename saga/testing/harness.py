"""A local engine for tests: virtual time, seeded jitter, stable execution names, fault plans.

``SagaTestEngine`` runs a saga, a state machine model, a parsed definition or an ASL file on a
:class:`~saga.testing.clock.TestClock`, so the same test gives the same history every run.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final, NamedTuple, TypeAlias

from asl_export.execution_path import Role
from engine.background_loop import in_event_loop
from engine.bindings import Interceptor
from engine.clock import Clock
from engine.execution import Execution
from engine.loader import load, with_substitutions
from engine.local_engine import LocalEngine, run
from engine.mock_config import MockConfigInterceptor, load_mock_config
from engine.model import StateMachine
from engine.names import MAX_NAME_LENGTH
from saga.compile import compile_with_handlers
from saga.outcome import SagaExecution, explain
from saga.roles import state_roles
from saga.running import child_arns
from saga.saga import Saga, check_input
from saga.testing.clock import TestClock
from saga.testing.faults import (
    bind_clock,
    check_fault_states,
    config_state_machine,
    fault_list,
)
from saga.testing.loading import import_target, resolve_path

__all__ = ["DEFAULT_SEED", "RunRecord", "RunTarget", "SagaTestEngine", "execution_name_prefix"]

DEFAULT_SEED: Final = 0
"""The jitter seed of every test unless the test sets its own."""

RunTarget: TypeAlias = Saga | StateMachine | Mapping[str, Any] | str | Path
"""A saga, an ASL model, a parsed definition, ``module:attribute`` of a saga, or an ASL file."""


class _RunPlan(NamedTuple):
    """A prepared run: the machine, its handlers and fault plan, the state machine's name."""

    machine: StateMachine
    handlers: dict[str, Callable[..., Any]]
    interceptors: list[Interceptor]
    machine_name: str | None
    saga: Saga | None
    roles: dict[str, Role] | None
    children: dict[str, StateMachine]

    def explained(self, execution: Execution) -> SagaExecution:
        """The execution with its unwind record and decoded failure."""
        if self.saga is not None:
            return explain(execution, saga=self.saga)
        return explain(execution, machine=self.machine)


class RunRecord(NamedTuple):
    """An execution the engine ran, with the machine it ran and its states' roles (a saga's)."""

    execution: Execution
    machine: StateMachine
    roles: dict[str, Role] | None


_UNSAFE = re.compile(r"[^A-Za-z0-9_.=+@-]+")


def execution_name_prefix(node_id: str) -> str:
    """A valid, stable execution-name prefix from a pytest node id (file, class, test, params)."""
    path, _, rest = node_id.partition("::")
    stem = Path(path).name.removesuffix(".py")
    text = "-".join(part for part in [stem, *rest.split("::")] if part)
    text = _UNSAFE.sub("-", text).strip("-") or "test"
    limit = MAX_NAME_LENGTH - 6  # room for "-NNNNN"
    if len(text) > limit:
        digest = f"{zlib.crc32(node_id.encode()):08x}"
        text = f"{text[: limit - 9]}-{digest}"
    return text


def _machine_name(path: Path) -> str:
    name = path.name
    for suffix in (".asl.json", ".json"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def _refuse_in_event_loop() -> None:
    if not in_event_loop():  # blocking is fine
        return
    raise RuntimeError(
        "run() blocks, but this code runs in an event loop: "
        "use 'await saga_engine.run_async(...)' in async tests"
    )


class SagaTestEngine:
    """Runs executions for one test, deterministically.

    ``handlers`` and ``faults`` given here apply to every run; those given to :meth:`run` add
    to them. Every execution run is kept in :attr:`executions`.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int | None = DEFAULT_SEED,
        name_prefix: str = "execution",
        handlers: Mapping[str, Callable[..., Any]] | None = None,
        faults: Iterable[Interceptor] = (),
        search_paths: Iterable[Path] = (),
    ) -> None:
        self.clock: Clock = clock if clock is not None else TestClock()
        self.seed = seed
        self.name_prefix = name_prefix
        self.handlers: dict[str, Callable[..., Any]] = dict(handlers or {})
        self.faults: list[Interceptor] = fault_list(faults)
        self.search_paths = tuple(search_paths)
        self.executions: list[Execution] = []
        self.runs: list[RunRecord] = []
        """Every execution of :attr:`executions` with its machine (for execution pages)."""
        self._count = 0

    # -- naming and preparing ---------------------------------------------------------------

    def next_name(self) -> str:
        """The next stable execution name: ``<test>-1``, ``<test>-2``, ..."""
        self._count += 1
        return f"{self.name_prefix}-{self._count}"

    def prepare(
        self, target: RunTarget, substitutions: Mapping[str, str] | None = None
    ) -> tuple[StateMachine, dict[str, Callable[..., Any]], str | None]:
        """The model to run, the saga's own handlers (if any) and the state machine's name."""
        if isinstance(target, str) and ":" in target and not Path(target).exists():
            value = import_target(target)
            if not isinstance(value, Saga | StateMachine):
                raise TypeError(f"{target!r} is a {type(value).__name__}, not a Saga")
            target = value
        if isinstance(target, Saga):
            machine, actions = compile_with_handlers(target)
            for child in target.child_sagas():
                actions = {**compile_with_handlers(child)[1], **actions}
            filled = {**child_arns(target), **(substitutions or {})}
            return with_substitutions(machine, filled), actions, target.name
        if isinstance(target, StateMachine):
            return with_substitutions(target, substitutions), {}, None
        if isinstance(target, str | Path):
            path = self._path(target)
            return load(path, substitutions), {}, _machine_name(path)
        return load(target, substitutions), {}, None

    def interceptors(
        self,
        faults: Iterable[Interceptor] = (),
        *,
        mock_config: str | Path | Mapping[str, Any] | None = None,
        test_case: str | None = None,
        state_machine_name: str | None = None,
    ) -> list[Interceptor]:
        """The fault plan for a run: default faults, the run's faults, then a mock config."""
        plan = bind_clock([*self.faults, *fault_list(faults)], self.clock)
        if mock_config is not None:
            if test_case is None:
                raise ValueError("a mock config needs the test case to use (test_case=...)")
            config = load_mock_config(
                mock_config if isinstance(mock_config, Mapping) else self._path(mock_config)
            )
            name = config_state_machine(config, test_case, state_machine_name)
            plan.append(MockConfigInterceptor(config, name, test_case))
        return plan

    def _path(self, path: str | Path) -> Path:
        """``path`` as given when it exists, else found in the search paths (the test's folder)."""
        return resolve_path(path, self.search_paths)

    def _plan(
        self,
        target: RunTarget,
        substitutions: Mapping[str, str] | None,
        faults: Iterable[Interceptor],
        *,
        handlers: Mapping[str, Callable[..., Any]] | None,
        mock_config: str | Path | Mapping[str, Any] | None,
        test_case: str | None,
        input: Any = None,
    ) -> _RunPlan:
        """What :meth:`run` and :meth:`run_async` hand the engine: machine, handlers, faults."""
        if isinstance(target, str) and ":" in target and not Path(target).exists():
            value = import_target(target)
            if isinstance(value, Saga):
                target = value
        machine, own, machine_name = self.prepare(target, substitutions)
        if isinstance(target, Saga):
            check_input(target, input)
        check_fault_states([*self.faults, *fault_list(faults)], machine)
        interceptors = self.interceptors(
            faults, mock_config=mock_config, test_case=test_case, state_machine_name=machine_name
        )
        merged = {**own, **self.handlers, **(handlers or {})}
        saga = target if isinstance(target, Saga) else None
        roles = state_roles(saga) if saga is not None else None
        children = (
            {
                child.name: with_substitutions(child.to_state_machine(), child_arns(saga))
                for child in saga.child_sagas()
            }
            if saga is not None
            else {}
        )
        return _RunPlan(machine, merged, interceptors, machine_name, saga, roles, children)

    # -- running ----------------------------------------------------------------------------

    def run(
        self,
        target: RunTarget,
        input: Any = None,
        *,
        faults: Iterable[Interceptor] = (),
        handlers: Mapping[str, Callable[..., Any]] | None = None,
        name: str | None = None,
        mock_config: str | Path | Mapping[str, Any] | None = None,
        test_case: str | None = None,
        substitutions: Mapping[str, str] | None = None,
    ) -> SagaExecution:
        """Run one execution to its end (from synchronous code) and return its record, with
        the unwind and the decoded failure (see :class:`~saga.outcome.SagaExecution`)."""
        _refuse_in_event_loop()
        plan = self._plan(
            target,
            substitutions,
            faults,
            handlers=handlers,
            mock_config=mock_config,
            test_case=test_case,
            input=input,
        )
        execution = run(
            plan.machine,
            input,
            handlers=plan.handlers,
            name=name if name is not None else self.next_name(),
            clock=self.clock,
            seed=self.seed,
            interceptors=plan.interceptors,
            state_machine_name=plan.machine_name,
            state_machines=plan.children,
        )
        explained = plan.explained(execution)
        self.executions.append(explained)
        self.runs.append(RunRecord(explained, plan.machine, plan.roles))
        return explained

    async def run_async(
        self,
        target: RunTarget,
        input: Any = None,
        *,
        faults: Iterable[Interceptor] = (),
        handlers: Mapping[str, Callable[..., Any]] | None = None,
        name: str | None = None,
        mock_config: str | Path | Mapping[str, Any] | None = None,
        test_case: str | None = None,
        substitutions: Mapping[str, str] | None = None,
    ) -> SagaExecution:
        """:meth:`run` for async tests (anyio)."""
        plan = self._plan(
            target,
            substitutions,
            faults,
            handlers=handlers,
            mock_config=mock_config,
            test_case=test_case,
            input=input,
        )
        async with LocalEngine(
            clock=self.clock,
            handlers=plan.handlers,
            seed=self.seed,
            interceptors=plan.interceptors,
            state_machines=plan.children,
        ) as engine:
            execution = await engine.execute(
                plan.machine,
                input,
                name if name is not None else self.next_name(),
                state_machine_name=plan.machine_name,
            )
        explained = plan.explained(execution)
        self.executions.append(explained)
        self.runs.append(RunRecord(explained, plan.machine, plan.roles))
        return explained

    @asynccontextmanager
    async def local_engine(
        self,
        *,
        handlers: Mapping[str, Callable[..., Any]] | None = None,
        faults: Iterable[Interceptor] = (),
    ) -> AsyncIterator[LocalEngine]:
        """An async :class:`~engine.local_engine.LocalEngine` on this test's clock and seed.

        For many concurrent executions, task tokens, stop/describe. ``handlers`` add to the
        engine's; pass each saga's own ``saga.handlers()`` here when running sagas on it.
        """
        async with LocalEngine(
            clock=self.clock,
            handlers={**self.handlers, **(handlers or {})},
            seed=self.seed,
            interceptors=self.interceptors(faults),
        ) as engine:
            yield engine
