"""Equivalence contract, property-based: a saga run directly and run from its exported JSON
(``machine.to_json()`` → ``engine.load`` → ``engine.run``) ends with the same status, output,
error, cause and state order, under random policies, compensations, parallel groups and fault
plans (which step fails on which call with which error, and which hangs past its timeout).

Examples per run: ``MAX_EXAMPLES`` without hangs plus ``HANG_EXAMPLES`` with one hang each
(a hang costs its 1 s timeout in real time, so those run both executions side by side).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from statelint.linter import Linter

import engine
from engine.clock import VirtualClock
from engine.execution import Execution
from saga.conditions import equals, greater_than, is_present
from saga.policies import Retry
from saga.running import child_arns
from saga.saga import Saga
from saga.steps import LambdaInvoke
from saga.templates import JsonPath
from saga.testing import callbacks

MAX_EXAMPLES = 200
HANG_EXAMPLES = 5
SEED = 7
T0 = datetime(2024, 1, 1, tzinfo=UTC)  # both runs start at the same virtual instant
INPUT = {"orderId": "o-1", "amount": 5, "legs": ["l-1", "l-2"]}


class ErrA(Exception):
    """Named by its class name."""


class ErrB(Exception):
    """Named by its ``error_name``."""

    error_name = "Custom.ErrB"


ERRORS: dict[str, type[Exception]] = {"ErrA": ErrA, "ErrB": ErrB, "ValueError": ValueError}
RETRY_ERRORS: list[Any] = [ErrA, "Custom.ErrB", "States.Timeout", "States.TaskFailed"]


@dataclass
class RetrySpec:
    errors: tuple[Any, ...]
    interval: int
    backoff: float | None
    max_retries: int
    max_delay: int | None
    jitter: str | None

    def build(self) -> Retry:
        return Retry(
            *self.errors,
            interval=self.interval,
            backoff_rate=self.backoff,
            max_retries=self.max_retries,
            max_delay=self.max_delay,
            jitter=self.jitter,  # type: ignore[arg-type]
        )


@dataclass
class TaskSpec:
    name: str
    plan: list[str] = field(default_factory=list)
    retry: list[RetrySpec] = field(default_factory=list)
    timeout: int | None = None
    invoke: bool = False
    discard_result: bool = False
    is_async: bool = False
    parameters: bool = False
    selector: bool = False


@dataclass
class StepSpec:
    task: TaskSpec
    compensation: TaskSpec | None = None
    compensate_self: bool = False
    compensate_on: str = "default"
    fail_fast: bool = False
    when: str | None = None  # a condition on the input: "holds", "fails", "missing"
    callback: str | None = None  # its token answered: "approve", "reject", "late"
    child: bool = False  # the step is a saga of its own (a nested execution)


@dataclass
class GroupSpec:
    name: str
    steps: list[StepSpec]
    retry: list[RetrySpec]
    compensate_self: bool
    named: bool = False  # branches of several steps (the first step alone, then the rest)
    fail_fast: bool = False  # fail_fast_on=[ValueError]


@dataclass
class ForEachSpec:
    name: str
    steps: list[StepSpec]


@dataclass
class SagaSpec:
    units: list[StepSpec | GroupSpec | ForEachSpec]
    handlers: list[tuple[TaskSpec, bool]]
    success: bool
    static_failure: bool
    deadline: str | None = None  # "past" or "future": a deadline_path and that input


# -- strategies --------------------------------------------------------------------------------

outcomes = st.sampled_from(["ok", "ok", "ErrA", "ErrA", "ErrB", "ErrB", "ValueError"])
plans = st.lists(outcomes, max_size=4)
booleans = st.booleans()
compensate_on_choices = st.sampled_from(["default", "default", "ErrA", "TaskFailed", "none"])
_retrier_errors = st.lists(st.sampled_from(range(len(RETRY_ERRORS))), max_size=2, unique=True)
_retrier_options = st.tuples(
    st.integers(0, 2),
    st.sampled_from([None, 1.0, 1.5, 2.0]),
    st.integers(0, 3),
    st.sampled_from([None, 1, 5]),
    st.sampled_from([None, "FULL", "NONE"]),
)
_timeouts = st.sampled_from([None, 1, 5])


@st.composite
def retriers(draw: st.DrawFn) -> list[RetrySpec]:
    groups: list[tuple[Any, ...]] = [(RETRY_ERRORS[i],) for i in draw(_retrier_errors)]
    if draw(booleans):
        groups.append(("States.ALL",))
    return [RetrySpec(errors, *draw(_retrier_options)) for errors in groups]


retrier_lists = retriers()


@st.composite
def tasks(draw: st.DrawFn, name: str, *, faulty: bool = True, discard: bool = True) -> TaskSpec:
    return TaskSpec(
        name=name,
        plan=draw(plans) if faulty else [],
        retry=draw(retrier_lists),
        timeout=draw(_timeouts),
        invoke=draw(booleans),
        discard_result=discard and draw(booleans),
        is_async=draw(booleans),
        parameters=draw(booleans),
        selector=draw(booleans),
    )


@st.composite
def steps(
    draw: st.DrawFn,
    name: str,
    *,
    faulty: bool = True,
    in_group: bool = False,
    in_items: bool = False,
    shapes: bool = True,
) -> StepSpec:
    task = draw(tasks(name, faulty=faulty, discard=not in_group))
    if in_items:
        task.parameters = False  # an item's input is its own record (item, index, results)
    compensation = draw(tasks(f"Undo {name}", discard=False)) if draw(booleans) else None
    if in_group:
        return StepSpec(task, compensation)
    return StepSpec(
        task,
        compensation,
        compensate_self=compensation is not None and draw(booleans),
        compensate_on=draw(compensate_on_choices),
        fail_fast=draw(booleans),
        when=draw(st.sampled_from([None, None, "holds", "fails", "missing"])) if shapes else None,
        callback=draw(st.sampled_from([None, None, None, "approve", "reject", "late"]))
        if shapes
        else None,
        child=shapes and draw(st.integers(0, 5)) == 0,
    )


@st.composite
def sagas(draw: st.DrawFn, *, shapes: bool = True) -> SagaSpec:
    """Random sagas; ``shapes`` mixes in for-each groups, branches of several steps,
    conditional steps, callback steps, child sagas and deadlines."""
    total = draw(st.integers(1, 8))
    units: list[StepSpec | GroupSpec | ForEachSpec] = []
    index = 0
    while index < total:
        size = draw(st.integers(1, min(3, total - index)))
        if shapes and size <= 2 and draw(st.integers(0, 3)) == 0:
            members = [
                draw(steps(f"S{index + k + 1}", in_group=True, in_items=True)) for k in range(size)
            ]
            units.append(ForEachSpec(f"E{len(units) + 1}", members))
            index += size
        elif size >= 2 and draw(st.booleans()):
            faulty = draw(st.integers(0, size - 1))
            members = [
                draw(steps(f"S{index + k + 1}", faulty=k == faulty, in_group=True))
                for k in range(size)
            ]
            named = shapes and draw(st.booleans())
            # a branch of several steps catches its own failure: the group takes no retry
            records = named and size > 2
            units.append(
                GroupSpec(
                    f"G{len(units) + 1}",
                    members,
                    [] if records else draw(retrier_lists),
                    draw(st.booleans()),
                    named=named,
                    fail_fast=draw(st.booleans()),
                )
            )
            index += size
        else:
            units.append(draw(steps(f"S{index + 1}", shapes=shapes)))
            index += 1
    handlers = [
        (draw(tasks(f"H{k + 1}")), draw(st.booleans())) for k in range(draw(st.integers(0, 2)))
    ]
    spec = SagaSpec(units, handlers, draw(st.booleans()), draw(st.booleans()))
    if shapes:
        spec.deadline = draw(st.sampled_from([None, None, "past", "future"]))
    # Let the first steps succeed more often, so that later failures have something to undo.
    for task in forward_tasks(spec)[: draw(st.integers(0, total - 1))]:
        task.plan = []
    return spec


def forward_tasks(spec: SagaSpec) -> list[TaskSpec]:
    """The forward steps' tasks, in order (group members in declaration order)."""
    out: list[TaskSpec] = []
    for unit in spec.units:
        if isinstance(unit, GroupSpec | ForEachSpec):
            out += [m.task for m in unit.steps]
        else:
            out.append(unit.task)
    return out


# -- building and running ----------------------------------------------------------------------


def _handler(task: TaskSpec, counts: dict[str, int], *, constant: bool) -> Callable[..., Any]:
    """The step's action: follows its fault plan call by call, then succeeds."""

    def outcome() -> tuple[str, int]:
        call = counts.get(task.name, 0)
        counts[task.name] = call + 1
        return (task.plan[call] if call < len(task.plan) else "ok"), call

    def result(call: int, event: Any) -> Any:
        if constant:
            return task.name
        return {
            "from": task.name,
            "call": call,
            "fields": sorted(event) if isinstance(event, dict) else None,
        }

    if task.is_async or "hang" in task.plan:

        async def async_action(event: Any) -> Any:
            what, call = outcome()
            if what == "hang":
                await anyio.sleep(60)
            elif what != "ok":
                raise ERRORS[what](f"{task.name} call {call}")
            return result(call, event)

        return async_action

    def action(event: Any) -> Any:
        what, call = outcome()
        if what != "ok":
            raise ERRORS[what](f"{task.name} call {call}")
        return result(call, event)

    return action


def _task_options(task: TaskSpec, *, selector_ok: bool = True) -> dict[str, Any]:
    options: dict[str, Any] = {"retry": [r.build() for r in task.retry]}
    if task.parameters:
        options["parameters"] = {"orderId": JsonPath("$.orderId"), "step": task.name}
    if task.selector and selector_ok and not task.discard_result:
        options["result_selector"] = {"who": JsonPath("$.from"), "n": JsonPath("$.call")}
    if task.timeout is not None:
        options["timeout"] = task.timeout
    if task.invoke:
        options["resource"] = LambdaInvoke(f"fn-{task.name.replace(' ', '-')}")
    if task.discard_result:
        options["result_path"] = None
    return options


def _catch_options(step: StepSpec) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if step.compensate_self:
        options["compensate_self"] = True
    choice = {"ErrA": [ErrA], "TaskFailed": ["States.TaskFailed"], "none": []}
    if step.compensate_on in choice:
        options["compensate_on"] = choice[step.compensate_on]
    if step.fail_fast:
        options["fail_fast_on"] = [ValueError]
    if step.when is not None:
        options["when"] = {
            "holds": equals("$.amount", 5),
            "fails": greater_than("$.amount", 10),
            "missing": ~is_present("$.orderId"),
        }[step.when]
    return options


def build(spec: SagaSpec, counts: dict[str, int], query_language: str = "JSONPath") -> Saga:
    saga = Saga(
        "Equivalence",
        query_language=query_language,
        success_state="Done" if spec.success else None,
        failure_error="Compensated" if spec.static_failure else "SagaFailed",
        failure_cause="compensated" if spec.static_failure else None,
        deadline_path="$.deadline" if spec.deadline else None,
    )

    def add_compensation(added: Any, step: StepSpec) -> None:
        if step.compensation is not None:
            comp = step.compensation
            added.compensate(
                comp.name,
                _handler(comp, counts, constant=False),
                **_task_options(comp, selector_ok=False),
            )

    for unit in spec.units:
        if isinstance(unit, ForEachSpec):
            items = saga.for_each(
                unit.name,
                items_path="$.legs",
                max_concurrency=1,
                item_fields={"orderId": JsonPath("$.orderId")},
            )
            for member in unit.steps:
                action = _handler(member.task, counts, constant=False)
                added = items.step(member.task.name, action, **_task_options(member.task))
                add_compensation(added, member)
        elif isinstance(unit, GroupSpec):
            has_compensation = any(m.compensation is not None for m in unit.steps)
            group = saga.parallel(
                unit.name,
                retry=[r.build() for r in unit.retry],
                compensate_self=unit.compensate_self and has_compensation,
                fail_fast_on=[ValueError] if unit.fail_fast else [],
            )
            branches = [group.branch("B1"), group.branch("B2")] if unit.named else []
            for position, member in enumerate(unit.steps):
                constant = not member.task.plan
                action = _handler(member.task, counts, constant=constant)
                options = _task_options(member.task, selector_ok=not constant)
                where: Any = branches[min(position, 1)] if branches else group
                added = where.step(member.task.name, action, **options)
                add_compensation(added, member)
        elif unit.child:
            child = Saga(f"Child{unit.task.name}", query_language=query_language)
            action = _handler(unit.task, counts, constant=False)
            child.step(unit.task.name, action, **_task_options(unit.task))
            catch = _catch_options(unit)
            catch.pop("fail_fast_on", None)  # a child's failure is States.TaskFailed
            if catch.get("compensate_on") in ([ErrA], ["States.TaskFailed"]):
                del catch["compensate_on"]
            nested = saga.step(unit.task.name, child, **catch)
            add_compensation(nested, unit)
        else:
            action = _handler(unit.task, counts, constant=False)
            options = _task_options(unit.task)
            if unit.callback is not None:
                options["resource"] = LambdaInvoke(f"cb-{unit.task.name}", wait_for_task_token=True)
                if "parameters" in options:
                    options["parameters"]["token"] = JsonPath("$$.Task.Token")
                options["timeout"] = 100
            added = saga.step(unit.task.name, action, **options, **_catch_options(unit))
            add_compensation(added, unit)
    for task, keep_going in spec.handlers:
        saga.on_failure(
            task.name,
            _handler(task, counts, constant=False),
            continue_on_error=keep_going,
            **_task_options(task),
        )
    return saga


_REQUEST_ID = re.compile(r'(\\*"requestId\\*": \\*")[0-9a-f-]+')


def _undated(value: Any) -> Any:
    """``value`` without a child execution's ``StartDate``/``StopDate``: virtual time moves
    with the work a run does, so those instants differ by milliseconds between runs."""
    if isinstance(value, dict):
        return {k: _undated(v) for k, v in value.items() if k not in ("StartDate", "StopDate")}
    if isinstance(value, list):
        return [_undated(v) for v in value]
    return value


def _outcome(execution: Execution) -> dict[str, Any]:
    """How an execution ended; Lambda request ids (unique per execution, as on AWS) left out."""
    cause = execution.cause
    return {
        "status": execution.status,
        "output": _undated(execution.output),
        "error": execution.error,
        "cause": None if cause is None else _REQUEST_ID.sub(r"\1", _DATES.sub("", cause)),
        "states": execution.states,
    }


_DATES = re.compile(r'(Start|Stop)Date\\*":\d+')
"""A child execution's instants inside a cause's nested JSON text."""


_ZERO_INTERVAL = "IntervalSeconds is 0 but allowed floor is 0"


def _lint(text: str) -> list[str]:
    """statelint's problems once placeholders are Lambda ARNs (``IntervalSeconds: 0`` is
    accepted by Step Functions and by the ASL service's schema, so that one is not counted)."""
    arn = "arn:aws:lambda:us-east-1:123456789012:function:"
    definition = json.loads(_substitute(text, arn))
    return [p for p in Linter.validate(definition) if _ZERO_INTERVAL not in p]


def _substitute(text: str, arn: str) -> str:
    document = json.loads(text)
    names = {key for key in re.findall(r"\$\{([^}]+)\}", text)}
    substituted = engine.substitute(document, {name: arn + name for name in names})
    return json.dumps(substituted)


def answers_of(spec: SagaSpec) -> list[Any]:
    """The callback answers of a run: approved after 10 s, rejected, or after the timeout."""
    out: list[Any] = []
    for unit in spec.units:
        if not isinstance(unit, StepSpec) or unit.callback is None or unit.child:
            continue
        name = unit.task.name
        if unit.callback == "approve":
            # shaped like a step's result, so that a result_selector reading $.from finds it
            # (a missing path is States.Runtime in JSONPath, but JSONata drops the field)
            approved = {"approved": name, "from": name, "call": 0}
            out.append(callbacks.answers(name, output=approved, after=10))
        elif unit.callback == "reject":
            out.append(callbacks.answers(name, error="Custom.Rejected", cause=name, after=10))
        else:
            out.append(callbacks.answers(name, output=None, after=150))
    return out


def spec_input(spec: SagaSpec) -> dict[str, Any]:
    """The input of a run: with a deadline long passed or far ahead when the saga has one."""
    deadlines = {"past": "2000-01-01T00:00:00Z", "future": "2999-01-01T00:00:00Z"}
    return {**INPUT, "deadline": deadlines[spec.deadline]} if spec.deadline else INPUT


def run_both(
    spec: SagaSpec, *, side_by_side: bool, query_language: str = "JSONPath"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The direct and the exported run of ``spec`` compiled in ``query_language``."""
    direct_saga = build(spec, {}, query_language)
    exported_saga = build(spec, {}, query_language)
    machine = direct_saga.to_state_machine()
    text = machine.to_json()
    assert exported_saga.to_json() == text
    loaded = engine.load(text)
    assert loaded.to_dict() == json.loads(text) == machine.to_dict()
    assert machine.validate() == []
    assert _lint(text) == []
    handlers = exported_saga.handlers()
    children = {c.name: engine.load(c.to_json()) for c in exported_saga.child_sagas()}
    for child in exported_saga.child_sagas():
        handlers.update(child.handlers())
    if children:
        loaded = engine.load(text, child_arns(exported_saga))
    data = spec_input(spec)

    def direct() -> Execution:
        return direct_saga.run(
            data, seed=SEED, interceptors=answers_of(spec), name="eq-1", clock=VirtualClock(T0)
        )

    def exported() -> Execution:
        return engine.run(
            loaded,
            data,
            handlers=handlers,
            seed=SEED,
            interceptors=answers_of(spec),
            name="eq-1",
            clock=VirtualClock(T0),
            state_machine_name="Equivalence",
            state_machines=children,
        )

    if side_by_side:
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.submit(direct), pool.submit(exported)
            return _outcome(first.result()), _outcome(second.result())
    return _outcome(direct()), _outcome(exported())


def _record(outcome: dict[str, Any]) -> None:
    """Statistics for ``--hypothesis-show-statistics``: how the executions ended."""
    event(f"status {outcome['status']}, error {outcome['error']}")
    event(f"compensations run: {sum(s.startswith('Undo') for s in outcome['states'])}")


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=sagas())
def test_direct_and_exported_runs_agree(spec: SagaSpec) -> None:
    direct, exported = run_both(spec, side_by_side=False)
    assert direct == exported
    _record(direct)
    shapes = {
        "named branches" if isinstance(unit, GroupSpec) and unit.named else type(unit).__name__
        for unit in spec.units
    }
    if any(isinstance(unit, GroupSpec) and unit.fail_fast for unit in spec.units):
        shapes.add("group failing fast")
    if any(isinstance(unit, StepSpec) and unit.when is not None for unit in spec.units):
        shapes.add("conditional step")
    if spec.deadline:
        shapes.add(f"deadline {spec.deadline}")
    for unit in spec.units:
        if isinstance(unit, StepSpec) and unit.child:
            shapes.add("child saga")
        elif isinstance(unit, StepSpec) and unit.callback:
            shapes.add(f"callback {unit.callback}")
    event(f"shapes: {', '.join(sorted(shapes))}")


@st.composite
def sagas_with_a_hang(draw: st.DrawFn) -> SagaSpec:
    spec = draw(sagas())
    candidates: list[TaskSpec] = []
    for unit in spec.units:
        if isinstance(unit, ForEachSpec):
            continue
        members = unit.steps if isinstance(unit, GroupSpec) else [unit]
        for member in members:
            if member.callback is not None or member.child:
                continue
            if not isinstance(unit, GroupSpec) or member.task.plan or len(unit.steps) == 1:
                candidates.append(member.task)
    assume(candidates)  # every unit may be a group of steps that cannot hang alone
    task = draw(st.sampled_from(candidates))
    task.timeout = 1
    task.plan.insert(0, "hang")
    for earlier in forward_tasks(spec):
        if earlier is task:
            break
        earlier.plan = []  # so that the hanging step is reached
    return spec


@settings(
    max_examples=HANG_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=sagas_with_a_hang())
def test_direct_and_exported_runs_agree_when_a_step_hangs(spec: SagaSpec) -> None:
    direct, exported = run_both(spec, side_by_side=True)
    assert direct == exported
    _record(direct)
