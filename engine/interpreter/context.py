"""Per-execution runtime state, per-flow event chaining, and the per-state-visit context."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from engine.bindings import CallNext
from engine.clock import Clock, format_context_timestamp
from engine.distributed.map_run import MapRunLog
from engine.execution import Execution
from engine.history import History
from engine.interpreter.ordering import EventSink
from engine.limits import FatalError

if TYPE_CHECKING:
    from engine.interpreter.loop import ExecutionControl
    from engine.interpreter.progress import RedrivenVisit, VisitProgress
    from engine.store.base import Transition

__all__ = ["FatalError", "Flow", "Runtime", "StateContext", "StateRunner", "TokenWaiter"]

StateRunner = Callable[[Any, Any, Any], Awaitable[tuple[Any, str | None]]]
"""A state type's coroutine: (visit context, state model, raw input) -> (output, next state)."""


class TokenWaiter:
    """An outstanding ``.waitForTaskToken`` callback."""

    __slots__ = ("event", "heartbeat_deadline", "heartbeat_seconds", "outcome")

    def __init__(self, heartbeat_seconds: float | None) -> None:
        self.event = anyio.Event()
        self.outcome: tuple[bool, Any, str | None] | None = None
        self.heartbeat_seconds = heartbeat_seconds
        self.heartbeat_deadline: float | None = None

    def complete(self, ok: bool, value: Any, cause: str | None = None) -> None:
        """Record SendTaskSuccess (``ok``, output) or SendTaskFailure (error, cause)."""
        if self.outcome is None:
            self.outcome = (ok, value, cause)
            self.event.set()


@dataclass(eq=False, slots=True)
class Runtime:
    """Everything one running execution shares across its flows."""

    record: Execution
    history: History
    clock: Clock
    seed: int
    """The execution's seed (given, or derived from its name; see :mod:`engine.seeding`)."""
    calls: Mapping[str, CallNext]
    tokens: dict[str, TokenWaiter]
    region: str
    context_execution: dict[str, Any]
    context_state_machine: dict[str, Any]
    runners: Mapping[str, StateRunner]
    """The runner of each state ``Type`` (``engine.states.RUNNERS``), handed in by the facade."""
    mocked: frozenset[str] = frozenset()
    query_language: str = "JSONPath"
    """The machine's ``QueryLanguage``: the default of every state and nested scope."""
    invocations: dict[str, int] = field(default_factory=dict)
    transitions: int = 0
    transition: Transition | None = None
    """Set while a top-level state's exit event is recorded: where the flow goes next."""
    started_through: dict[str, str] = field(default_factory=dict)
    """Members the ``ExecutionStarted`` event adds (the version or alias started through)."""
    map_run_log: MapRunLog | None = None
    """Where its distributed Map runs are kept (the engine's store); None: nowhere."""
    redriven: dict[str, RedrivenVisit] = field(default_factory=dict)
    """Redriven Parallel/Map states, by name: what their next visit keeps (taken once)."""
    control: ExecutionControl | None = None
    """The running execution's handles (whether it is being stopped), set by whoever runs it."""
    _rng: random.Random | None = None
    _token_rng: random.Random | None = None

    @property
    def rng(self) -> random.Random:
        """The execution's random source (retry jitter, intrinsics), from its seed."""
        if self._rng is None:
            self._rng = random.Random(self.seed)
        return self._rng

    @property
    def token_rng(self) -> random.Random:
        """A separate source for task tokens, so tokens do not shift the jitter sequence."""
        if self._token_rng is None:
            # A str seed is hashed with SHA-512 by random.Random: the same in every process.
            self._token_rng = random.Random(f"{self.seed}/{self.record.name}")
        return self._token_rng

    def take_redriven(self, state_name: str) -> RedrivenVisit | None:
        """What the redriven visit of ``state_name`` keeps; None when it is not redriven."""
        return self.redriven.pop(state_name, None)

    def next_invocation(self, state_name: str) -> int:
        """0-based count of invocations of ``state_name`` so far (mock-config indexing)."""
        count = self.invocations.get(state_name, 0)
        self.invocations[state_name] = count + 1
        return count

    def new_token(self) -> str:
        """A fresh task token (reproducible under a seed)."""
        return f"{self.token_rng.getrandbits(128):032x}{self.token_rng.getrandbits(128):032x}"


class Flow:
    """One sequential line of events: the execution itself, a Parallel branch, a Map iteration.

    ``previousEventId`` of each event links to the flow's prior event, as AWS links events
    inside branches.
    """

    __slots__ = (
        "last_id",
        "outer_names",
        "query_language",
        "runtime",
        "sink",
        "top_level",
        "variable_bytes",
        "variables",
    )

    def __init__(
        self,
        runtime: Runtime,
        last_id: int,
        *,
        top_level: bool,
        variables: dict[str, Any] | None = None,
        query_language: str | None = None,
        outer_names: frozenset[str] = frozenset(),
        sink: EventSink | None = None,
    ) -> None:
        self.runtime = runtime
        self.last_id = last_id
        self.top_level = top_level
        self.variables: dict[str, Any] = variables if variables is not None else {}
        self.query_language = query_language or runtime.query_language
        """The default ``QueryLanguage`` of the states this flow runs."""
        self.outer_names = outer_names
        """Variables of enclosing scopes: readable here, never assigned from here."""
        self.variable_bytes: dict[str, int] = {}
        """JSON size of each variable assigned in this scope (for the quota)."""
        self.sink: EventSink = sink if sink is not None else runtime.history

    def add(
        self, event_type: str, details: dict[str, Any] | None = None, posix: float | None = None
    ) -> int:
        """Record an event in the execution's history, chained to this flow (``posix``: when
        it happened, if not now)."""
        event_id = self.sink.add(event_type, self.last_id, details, posix)
        self.last_id = event_id
        return event_id

    def child(self, last_id: int, sink: EventSink, query_language: str | None = None) -> Flow:
        """A nested flow (branch or iteration) starting after event ``last_id``, recording
        into ``sink``.

        It reads the variables of the enclosing scope; what it assigns stays in its own scope.
        ``query_language`` is the branch's or item processor's own ``QueryLanguage``, if set.
        """
        return Flow(
            self.runtime,
            last_id,
            top_level=False,
            variables=dict(self.variables),
            query_language=query_language,
            outer_names=frozenset(self.variables),
            sink=sink,
        )


class StateContext:
    """One visit of one state: its name, entry event, retry count and the ``$$`` object."""

    __slots__ = (
        "_context",
        "assigned",
        "checked",
        "entered_id",
        "entered_posix",
        "flow",
        "jsonata",
        "name",
        "resumed",
        "retries",
        "retry_count",
        "task_token",
    )

    def __init__(
        self,
        flow: Flow,
        name: str,
        entered_id: int,
        entered_posix: float,
        retries: bool = True,
    ) -> None:
        self.flow = flow
        self.name = name
        self.entered_id = entered_id
        self.entered_posix = entered_posix
        self.retries = retries
        """Whether the state can retry (Task, Parallel, Map): only then ``$$.State.RetryCount``."""
        self.retry_count = 0
        self.task_token: str | None = None
        self._context: dict[str, Any] | None = None
        self.assigned: dict[str, Any] | None = None
        self.checked: Any = None
        """A result this visit already checked against the payload quota (e.g. a task's)."""
        self.resumed: VisitProgress | None = None
        self.jsonata = flow.query_language == "JSONata"
        """Whether this state uses JSONata (set from the state's own ``QueryLanguage``)."""

    @property
    def variables(self) -> dict[str, Any]:
        """The workflow variables visible to this state (values as of its entry)."""
        return self.flow.variables

    @property
    def runtime(self) -> Runtime:
        """The execution's runtime."""
        return self.flow.runtime

    @property
    def clock(self) -> Clock:
        """The execution's clock."""
        return self.flow.runtime.clock

    @property
    def context(self) -> dict[str, Any]:
        """The context object ``$$`` for this visit (built on first use)."""
        if self._context is None:
            runtime = self.flow.runtime
            state: dict[str, Any] = {  # in AWS's order (the JSON text shows it)
                "Name": self.name,
                "EnteredTime": format_context_timestamp(self.entered_posix),
            }
            if self.retries:
                state["RetryCount"] = self.retry_count
            context: dict[str, Any] = {
                "Execution": runtime.context_execution,
                "StateMachine": runtime.context_state_machine,
                "State": state,
            }
            if self.task_token is not None:
                context["Task"] = {"Token": self.task_token}
            self._context = context
        return self._context

    def map_item_context(self, index: int, value: Any) -> dict[str, Any]:
        """``$$`` for a Map's ItemSelector: the visit's context plus ``Map.Item``."""
        return {**self.context, "Map": {"Item": {"Index": index, "Value": value}}}

    def retried(self) -> None:
        """Count a retry (``$$.State.RetryCount``)."""
        self.retry_count += 1
        self._context = None

    def set_task_token(self, token: str | None) -> None:
        """Expose a task token as ``$$.Task.Token`` for this attempt."""
        self.task_token = token
        self._context = None

    def add(self, event_type: str, details: dict[str, Any] | None = None) -> int:
        """Record an event in this visit's flow (what ``Flow.add`` does, one call less)."""
        flow = self.flow
        event_id = flow.last_id = flow.sink.add(event_type, flow.last_id, details)
        return event_id
