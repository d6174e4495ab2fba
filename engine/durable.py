"""Rebuilding an execution from its stored history, to resume it where it stopped.

Every history event is committed before the engine acts on it: before it invokes a Task's
handler, integration or interceptors, starts waiting (a Wait, a retry's backoff, a callback,
activity or heartbeat, a nested execution, a distributed Map's children), saves a map run or a
child's outcome, writes a ResultWriter's export, ends the execution, or yields to the event
loop for any other reason. Events between two such points (states entered and exited without
acting, ``…Scheduled``/``…Started``, data flow) are committed together
(:mod:`engine.store.pending`), so a crash loses at most events nothing acted on, and the
stored history is always a whole prefix ending at a commit point: it tells how far an
execution got as far as anything outside the engine can have seen. A resume (:func:`resume`,
:meth:`LocalEngine.resume <engine.local_engine.LocalEngine.resume>`, ``saga resume``)
continues from the last top-level state entered, with the input recorded in its
``…StateEntered`` event:

- a state whose exit was recorded is not run again: the execution goes on with the state the
  engine recorded as next with that exit (a Choice's pick, a Catcher's ``Next``), or ends;
- a Task continues its visit: its retry counters are rebuilt from the failures recorded in
  that visit; a failure whose retry had not started yet waits out what is left of its backoff
  (computed again from the retrier; with ``JitterStrategy: FULL`` a new draw); a recorded
  success is used as it is; a task whose outcome was not recorded **runs again** — delivery
  is at least once, so side effects must be idempotent. Each invocation keeps a stable
  identity across such re-runs to make that possible: the handler's Lambda context
  ``aws_request_id`` (derived from execution name, state name and invocation number), the
  interceptor's ``TaskRequest.attempt``/``invocation``, and ``$$.Execution.Name``,
  ``$$.State.Name``, ``$$.State.EnteredTime``, ``$$.State.RetryCount`` for a key built in
  ``Parameters`` (which also works on AWS);
- a Wait waits only for the time it had left; the machine's ``TimeoutSeconds`` counts from the
  original start;
- a Parallel or inline Map in progress runs again as a whole (its branches at least once, its
  retry counters from zero);
- a top-level distributed Map whose map run was under way goes on with that run: the children
  the store recorded as ended are not run again (their outcomes are used in item order), the
  others run (at least once).

No event is invented: the resumed history goes on from the last stored event (a re-run task
shows a second ``…Scheduled``/``…Started``); events lost with the crash (they followed the last
commit) are recorded again as the resumed execution computes them again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import anyio

from engine.bindings import Handler, Interceptor
from engine.clock import Clock, RealClock, VirtualClock
from engine.diagnostics import DefinitionError
from engine.execution import Execution
from engine.interpreter.progress import ResumePoint, VisitProgress
from engine.resume_plan import ResumeRefused, claim, mark_live, plan_resume, store_key
from engine.store.base import ExecutionNotRecorded, ExecutionStore, StoredExecution

__all__ = [
    "HandlersFor",
    "InterceptorsFor",
    "ResumePoint",
    "ResumeRefused",
    "ResumeReport",
    "VisitProgress",
    "claim",
    "mark_live",
    "plan_resume",
    "resume",
    "resume_async",
    "store_key",
]

# -- resuming executions -------------------------------------------------------------------------

HandlersFor = Callable[[StoredExecution], Mapping[str, Handler]]
"""Chooses the handlers a stored execution runs with again (e.g. from its handlers reference)."""

InterceptorsFor = Callable[[StoredExecution], Sequence[Interceptor]]
"""Chooses the interceptors (mock configs, fault injection) a stored execution runs with."""


@dataclass(slots=True)
class ResumeReport:
    """What a resume did: the executions it ran to their end, and the ones it left open.

    ``skipped``: executions asked for that were not resumed: another live process (or one that
    cannot be checked from here) runs it, or it has ended (name, why);
    ``unbound``: executions whose handlers or definition could not be bound, or whose stored
    record is damaged (name, why);
    ``unrecorded``: executions the store could not record an event of: stopped again, still
    RUNNING and resumable (name, why).
    """

    executions: list[Execution] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unbound: list[tuple[str, str]] = field(default_factory=list)
    unrecorded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def not_resumed(self) -> list[tuple[str, str]]:
        """Every execution asked for that did not run to its end here (name, why)."""
        return [*self.skipped, *self.unbound, *self.unrecorded]


def _clock_for(kind: object) -> Clock:
    return VirtualClock() if kind == "virtual" else RealClock()


async def resume_async(
    store: ExecutionStore,
    *,
    handlers_for: HandlersFor | None = None,
    interceptors_for: InterceptorsFor | None = None,
    clock: Clock | None = None,
    names: Sequence[str] | None = None,
    seed: int | None = None,
    take_over: bool = False,
) -> ResumeReport:
    """Continue the store's unfinished executions (or only ``names``) to their end.

    Each runs on ``clock`` if given, else on the kind of clock it was started with;
    ``handlers_for`` binds each one's tasks (default: no handlers, built-in integrations
    only). Tasks whose outcome was not recorded run again (at least once). Each execution
    keeps the seed it was started with; ``seed`` applies only to one that recorded none.
    ``take_over`` takes over executions claimed by an owner that cannot be checked (another
    host). Every execution asked for that is not run to its end is in the report, with why.
    """
    from engine.local_engine import LocalEngine

    report = ResumeReport()
    listing = store.listing(status="RUNNING")
    records = listing.executions
    damaged = listing.damaged
    if names is not None:
        wanted = set(names)
        records = [record for record in records if record.name in wanted]
        damaged = [(name, why) for name, why in damaged if name in wanted]
        open_names = {record.name for record in records} | {name for name, _ in damaged}
        for name in dict.fromkeys(names):
            if name not in open_names:
                found = store.find(name)
                why = (
                    f"no execution named {name!r}"
                    if found is None
                    else f"execution {name!r} has ended ({found.status})"
                )
                report.skipped.append((name, why))
    report.unbound.extend(damaged)
    groups: dict[str, list[StoredExecution]] = {}
    for record in records:
        kind = "given" if clock is not None else str(record.options.get("clock", "real"))
        groups.setdefault(kind, []).append(record)

    async def run_group(kind: str, group: list[StoredExecution]) -> None:
        engine_clock = clock if clock is not None else _clock_for(kind)
        async with LocalEngine(clock=engine_clock, store=store, seed=seed) as engine:
            handles = []
            for record in group:
                try:
                    handlers = handlers_for(record) if handlers_for is not None else {}
                    interceptors = interceptors_for(record) if interceptors_for else ()
                    handles.append(
                        await engine.resume(
                            record.name,
                            handlers=handlers,
                            interceptors=interceptors,
                            take_over=take_over,
                        )
                    )
                except ResumeRefused as exc:
                    report.skipped.append((record.name, str(exc)))
                except ExecutionNotRecorded as exc:
                    report.unrecorded.append((record.name, str(exc)))
                except Exception as exc:
                    report.unbound.append((record.name, _reason(exc)))
            for handle in handles:
                try:
                    report.executions.append(await handle.result())
                except ExecutionNotRecorded as exc:
                    report.unrecorded.append((handle.name, str(exc)))

    async with anyio.create_task_group() as tg:
        for kind, group in groups.items():
            tg.start_soon(run_group, kind, group)
    order = {record.name: index for index, record in enumerate(records)}
    report.executions.sort(key=lambda execution: order.get(execution.name, 0))
    return report


def _reason(exc: Exception) -> str:
    if isinstance(exc, DefinitionError):
        return "; ".join(str(diagnostic) for diagnostic in exc.diagnostics)
    return str(exc) or type(exc).__name__


def resume(
    store: ExecutionStore,
    *,
    handlers_for: HandlersFor | None = None,
    interceptors_for: InterceptorsFor | None = None,
    clock: Clock | None = None,
    names: Sequence[str] | None = None,
    seed: int | None = None,
    take_over: bool = False,
) -> ResumeReport:
    """:func:`resume_async`, run synchronously in a new event loop."""

    async def main() -> ResumeReport:
        return await resume_async(
            store,
            handlers_for=handlers_for,
            interceptors_for=interceptors_for,
            clock=clock,
            names=names,
            seed=seed,
            take_over=take_over,
        )

    return anyio.run(main)
