"""Run the benchmarks and print a table; ``--json FILE`` also writes the figures.

python -m benchmarks.run            # full sizes, compared with the targets
python -m benchmarks.run --quick    # small sizes (what CI runs so the script cannot rot)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from benchmarks.floor import raw_sqlite_seconds, six_state_floor, task_chain_floor
from benchmarks.machines import (
    TRANSFORM_INPUT,
    chain_machine,
    map_machine,
    six_state_machine,
    task_chain_machine,
    transform_chain_machine,
    wait_machine,
)
from engine import LocalEngine, StateMachine, VirtualClock, inline_step, load, run

__all__ = ["main"]


@dataclass
class Figure:
    """One measured figure: the median of repeated runs and their spread."""

    name: str
    unit: str
    samples: list[float]
    target: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        return max(self.samples) - min(self.samples) if len(self.samples) > 1 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "median": self.median,
            "min": min(self.samples),
            "max": max(self.samples),
            "runs": len(self.samples),
            "target": self.target,
            **self.extra,
        }


def _transitions(execution: Any) -> int:
    return sum(1 for event in execution.history if event.type.endswith("StateEntered"))


def _no_input(name: str) -> Any:
    return {}


async def _time_executions(
    engine: LocalEngine,
    machine: StateMachine,
    count: int,
    payload: Callable[[str], Any] = _no_input,
) -> float:
    """Seconds for ``count`` executions named ``run-<i>``, run one after another."""
    started = time.perf_counter()
    for i in range(count):
        name = f"run-{i}"
        await engine.execute(machine, payload(name), name)
    return time.perf_counter() - started


async def _run_sequential(machine: StateMachine, count: int) -> tuple[float, int]:
    """Seconds to run ``count`` executions one after another, and transitions per execution."""
    async with LocalEngine(clock=VirtualClock()) as engine:
        first = await engine.execute(machine, {}, "warmup")
        assert first.status == "SUCCEEDED", first.to_dict()
        elapsed = await _time_executions(engine, machine, count)
    return elapsed, _transitions(first)


def _repeat(runs: int, fn: Callable[[], Awaitable[tuple[float, int]]]) -> list[tuple[float, int]]:
    out = []
    for _ in range(runs):
        gc.collect()
        out.append(anyio.run(fn))
    return out


def bench_six_state(quick: bool, runs: int) -> list[Figure]:
    """(1) The six-state machine: this engine and moto's interpreter."""
    machine = load(six_state_machine())
    count = 50 if quick else 1000
    samples = _repeat(runs, lambda: _run_sequential(machine, count))
    per_second = [count / s for s, _ in samples]
    per_transition = [s / (count * t) * 1e6 for s, t in samples]
    figures = [
        Figure("six-state machine: engine", "executions/s", per_second),
        Figure(
            "six-state machine: engine",
            "µs/transition",
            per_transition,
            target="<= 50",
            extra={"transitions_per_execution": samples[0][1]},
        ),
    ]
    moto = _moto_six_state(10 if quick else 60, runs)
    if moto is not None:
        figures.append(Figure("six-state machine: moto", "executions/s", moto))
        ratio = statistics.median(per_second) / statistics.median(moto)
        figures.append(Figure("engine / moto", "times", [ratio], target=">= 100"))
    return figures


def _moto_six_state(
    count: int, runs: int, clock: Callable[[], float] = time.perf_counter
) -> list[float] | None:
    try:
        import boto3
        from moto import mock_aws
    except ImportError:
        return None
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "benchmark")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "benchmark")
    samples = []
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = client.create_state_machine(
            name="benchmark",
            definition=json.dumps(six_state_machine()),
            roleArn="arn:aws:iam::123456789012:role/benchmark",
        )["stateMachineArn"]
        for run in range(runs):
            started = clock()
            for i in range(count):
                execution = client.start_execution(
                    stateMachineArn=arn, name=f"r{run}-{i}", input="{}"
                )["executionArn"]
                while client.describe_execution(executionArn=execution)["status"] == "RUNNING":
                    time.sleep(0.0005)
            samples.append(count / (clock() - started))
            status = client.describe_execution(executionArn=execution)["status"]
            assert status == "SUCCEEDED", status
    return samples


async def _run_once(machine: StateMachine, payload: Any) -> tuple[float, int]:
    # A 10,000-item Map records 40,000 events: over AWS's 25,000 quota, so raised here.
    async with LocalEngine(clock=VirtualClock(), max_history_events=1_000_000) as engine:
        started = time.perf_counter()
        execution = await engine.execute(machine, payload, "once")
        elapsed = time.perf_counter() - started
    assert execution.status == "SUCCEEDED", execution.to_dict()
    return elapsed, _transitions(execution)


def _map_case(size: int) -> tuple[StateMachine, Any]:
    return load(map_machine()), {"items": list(range(size))}


def _chain_case(size: int) -> tuple[StateMachine, Any]:
    return load(chain_machine(size), validate=False), {}


def bench_scaling(quick: bool, runs: int) -> list[Figure]:
    """(3) A Map over many items and a long chain, and how each grows with size."""
    figures = []
    cases: list[tuple[str, Callable[[int], tuple[StateMachine, Any]], list[int]]] = [
        ("Map over N items", _map_case, [10, 100, 1000] if quick else [10, 100, 1000, 10_000]),
        ("chain of N states", _chain_case, [10, 100, 1000]),
    ]
    for label, build, sizes in cases:
        per_item = []
        for size in sizes:
            machine, payload = build(size)

            async def once(m: StateMachine = machine, p: Any = payload) -> tuple[float, int]:
                return await _run_once(m, p)

            seconds = [s for s, _ in _repeat(runs, once)]
            figures.append(Figure(f"{label}, N={size}", "ms", [s * 1e3 for s in seconds]))
            per_item.append(statistics.median(seconds) / size * 1e6)
        figures.append(
            Figure(
                f"{label}: µs per item at largest N / at N=100",
                "times",
                [per_item[-1] / per_item[1]],
                target="≈ 1 (linear)",
            )
        )
    return figures


_WAIT_SECONDS = 3600


async def _concurrent_waits(count: int) -> tuple[float, float]:
    """CPU and wall seconds for ``count`` executions of a one-Wait machine, started one after
    another with ``start_execution`` and then awaited."""
    machine = load(wait_machine(_WAIT_SECONDS))
    async with LocalEngine(clock=VirtualClock()) as engine:
        cpu, wall = _cpu(), time.perf_counter()
        handles = [await engine.start_execution(machine, {}, f"wait-{i}") for i in range(count)]
        for handle in handles:
            execution = await handle.result()
            assert execution.status == "SUCCEEDED", execution.to_dict()
        return _cpu() - cpu, time.perf_counter() - wall


async def _bare_waits(count: int, record: bool) -> tuple[float, float]:
    """CPU and wall seconds for ``count`` bare anyio tasks doing the same sleep on the same
    clock, counted as the engine counts its executions; with ``record`` each also keeps a
    minimal history of three dict events."""
    clock = VirtualClock()
    histories: list[list[dict[str, Any]]] = []

    async def sleeper(index: int) -> None:
        try:
            if record:
                history = [{"id": 1, "type": "ExecutionStarted", "timestamp": clock.time()}]
                history.append({"id": 2, "type": "WaitStateEntered", "timestamp": clock.time()})
                histories.append(history)
            await clock.sleep(_WAIT_SECONDS)
            if record:
                history.append({"id": 3, "type": "ExecutionSucceeded", "timestamp": clock.time()})
        finally:
            clock.flow_finished()

    async with clock.running():
        cpu, wall = _cpu(), time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(count):
                clock.flow_started()
                tg.start_soon(sleeper, i)
        elapsed = _cpu() - cpu, time.perf_counter() - wall
    assert not record or all(len(h) == 3 for h in histories)
    return elapsed


def _peak_kb_each(count: int, fn: Callable[[], Awaitable[Any]]) -> float:
    """Peak traced memory of one run of ``fn``, per waiter, in KB."""
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    anyio.run(fn)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - baseline) / count / 1024


class _FullCollections:
    """Seconds the garbage collector spends in full (generation-2) collections in the block:
    each walks every live container, so it costs more the more objects each waiter keeps."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> _FullCollections:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc_info: object) -> None:
        gc.callbacks.remove(self._callback)


def _waits_round(fn: Callable[..., Awaitable[tuple[float, float]]], *args: Any) -> list[float]:
    """One measured run: CPU seconds, wall seconds, seconds in full collections."""
    gc.collect()
    with _FullCollections() as collections:
        cpu, wall = anyio.run(fn, *args)
    return [cpu, wall, collections.seconds]


def bench_concurrent_waits(quick: bool, runs: int) -> list[Figure]:
    """(4) Many executions each waiting an hour of virtual time, against bare anyio tasks doing
    the same sleep on the same clock (alone, and keeping a three-event history), in alternated
    rounds: CPU and wall time, the ratios on CPU time, and memory."""
    import functools

    count = 500 if quick else 10_000
    engine: list[list[float]] = []
    bare: list[list[float]] = []
    recorded: list[list[float]] = []
    for _ in range(runs):
        engine.append(_waits_round(_concurrent_waits, count))
        bare.append(_waits_round(_bare_waits, count, False))
        recorded.append(_waits_round(_bare_waits, count, True))
    label = f"{count} concurrent executions waiting 1 h"
    return [
        Figure(label, "CPU-s", [e[0] for e in engine]),
        Figure(label, "s wall", [e[1] for e in engine], target="< 10" if not quick else ""),
        Figure(f"{count} bare anyio tasks, same sleep", "CPU-s", [b[0] for b in bare]),
        Figure(f"{count} bare anyio tasks, same sleep", "s wall", [b[1] for b in bare]),
        Figure(f"{count} bare tasks + 3-event history", "CPU-s", [r[0] for r in recorded]),
        Figure("engine run: time in full garbage collections", "s wall", [e[2] for e in engine]),
        Figure("bare run: time in full garbage collections", "s wall", [b[2] for b in bare]),
        Figure(
            "concurrent waits: engine / bare anyio",
            "times",
            [e[0] / b[0] for e, b in zip(engine, bare, strict=True)],
            target="<= 2",
        ),
        Figure(
            "concurrent waits: engine / bare + history",
            "times",
            [e[0] / r[0] for e, r in zip(engine, recorded, strict=True)],
        ),
        Figure(
            "peak memory per waiting execution",
            "KB",
            [_peak_kb_each(count, functools.partial(_concurrent_waits, count))],
            target="< 20",
        ),
        Figure(
            "peak memory per bare waiting task",
            "KB",
            [_peak_kb_each(count, functools.partial(_bare_waits, count, False))],
        ),
    ]


async def _run_durable(
    machine: StateMachine, count: int, path: str | None, handlers: dict[str, Any]
) -> tuple[float, int, list[Any]]:
    """CPU seconds for ``count`` sequential executions writing to the store at ``path``, their
    transitions, and the events of one."""
    from engine.store import MemoryStore, SQLiteStore

    store = SQLiteStore(path) if path is not None else MemoryStore()
    try:
        async with LocalEngine(clock=VirtualClock(), store=store, handlers=handlers) as engine:
            first = await engine.execute(machine, {}, "warmup")
            assert first.status == "SUCCEEDED", first.to_dict()
            started = _cpu()
            await _time_executions(engine, machine, count)
            elapsed = _cpu() - started
    finally:
        store.close()
    return elapsed, _transitions(first) * count, list(first.history)


def _raw_rows(events: list[Any], count: int) -> list[tuple[Any, ...]]:
    """The rows ``count`` executions of ``events`` write, for the raw SQLite floor."""
    return [
        (execution, e.id, e.type, e.posix, e.previous_event_id, e.details, None)
        for execution in range(count)
        for e in events
    ]


def bench_durable_store(quick: bool, runs: int) -> list[Figure]:
    """(5) The SQLite store's cost per state transition: every event committed before acting,
    against a raw insert-and-commit loop of the same events with the same PRAGMAs."""
    import functools
    import tempfile

    count = 20 if quick else 300
    figures: list[Figure] = []
    cases: list[tuple[str, StateMachine, dict[str, Any]]] = [
        ("six-state machine", load(six_state_machine()), {}),
        ("chain of 10 Task states", load(task_chain_machine(10)), {"Work": _echo}),
        ("chain of 10 sync-step Tasks", load(task_chain_machine(10)), {"Work": _work}),
        ("chain of 10 inline-step Tasks", load(task_chain_machine(10)), {"Work": _work_inline}),
    ]
    for label, machine, handlers in cases:
        in_memory = [
            anyio.run(functools.partial(_run_durable, machine, count, None, handlers))
            for _ in range(runs)
        ]
        durable: list[tuple[float, int, list[Any]]] = []
        raw: list[float] = []
        with tempfile.TemporaryDirectory() as directory:
            for run_index in range(runs):
                path = os.path.join(directory, f"bench-{run_index}.db")
                gc.collect()
                durable.append(
                    anyio.run(functools.partial(_run_durable, machine, count, path, handlers))
                )
                rows = _raw_rows(durable[-1][2], count)
                raw_path = os.path.join(directory, f"raw-{run_index}.db")
                raw.append(raw_sqlite_seconds(raw_path, rows, "NORMAL", _cpu))
        figures += [
            Figure(
                f"{label}, SQLite store",
                "transitions/CPU-s",
                [t / s for s, t, _ in durable],
                target=">= 2000",
            ),
            Figure(
                f"{label}, SQLite store", "CPU µs/transition", [s / t * 1e6 for s, t, _ in durable]
            ),
            Figure(
                f"{label}, in-memory store",
                "CPU µs/transition",
                [s / t * 1e6 for s, t, _ in in_memory],
            ),
            Figure(
                f"{label}, SQLite store / raw SQLite loop",
                "times",
                [r / s for (s, _, _), r in zip(durable, raw, strict=True)],
                target=">= 0.7",
            ),
        ]
    return figures


async def _echo(event: Any) -> Any:
    """A Task handler that costs nothing: what is measured is the engine and its store."""
    return event


async def _run_airline(declined: bool, count: int) -> tuple[float, int]:
    """Seconds for ``count`` sequential airline bookings on one path, and transitions of one."""
    from benchmarks.airline import airline_case

    case = airline_case(declined)
    async with LocalEngine(clock=VirtualClock(), handlers=case.handlers) as engine:
        first = await engine.execute(case.machine, case.input("warmup"), "warmup")
        outcome = (first.status, first.error, first.states)
        assert outcome == (case.status, case.error, case.states), first.to_dict()
        elapsed = await _time_executions(engine, case.machine, count, case.input)
    return elapsed, _transitions(first)


def bench_airline(quick: bool, runs: int) -> list[Figure]:
    """(2) The airline saga with no-op handlers, happy and payment-declined paths."""
    import functools

    count = 20 if quick else 300
    figures: list[Figure] = []
    for label, declined in (("happy path", False), ("payment declined, with retries", True)):
        samples = _repeat(runs, functools.partial(_run_airline, declined, count))
        figures.append(
            Figure(
                f"airline saga, {label}",
                "executions/s",
                [count / s for s, _ in samples],
                extra={"transitions_per_execution": samples[0][1]},
            )
        )
    return figures


def bench_distributed(quick: bool, runs: int) -> list[Figure]:
    """Distributed Map over S3 (moto): items/s and peak memory (see benchmarks.distributed_map)."""
    from benchmarks.distributed_map import bench_distributed_map

    figures: list[Figure] = bench_distributed_map(quick, runs)
    return figures


def bench_serve(quick: bool, runs: int) -> list[Figure]:
    """(7) Through boto3 over HTTP: ``saga serve`` beside ``moto_server``."""
    from benchmarks.serve import serve_and_moto

    results = serve_and_moto(10 if quick else 200, runs)
    figures = [
        Figure(f"six-state machine via boto3: {name}", "executions/s", samples)
        for name, samples in results.items()
    ]
    if "moto_server" in results:
        for suffix in ("", ", burst"):
            ratio = statistics.median(results["saga serve" + suffix]) / statistics.median(
                results["moto_server" + suffix]
            )
            figures.append(Figure(f"saga serve / moto_server{suffix}", "times", [ratio]))
    return figures


def bench_cli(quick: bool, runs: int) -> list[Figure]:
    """``saga execute`` of a one-Pass machine, one process per call, beside bare Python."""
    from benchmarks.cli import measure_cli

    measured = measure_cli(2 if quick else 10, runs)
    return [
        Figure(f"{label}, one process", unit, samples)
        for label, kinds in measured.items()
        for unit, samples in (("ms wall", kinds["wall"]), ("ms CPU", kinds["cpu"]))
    ]


def bench_execution_page(quick: bool, runs: int) -> list[Figure]:
    """The console's page and the report file of one execution of ~10,000 events."""
    from benchmarks.page import measure_page

    measured = measure_page(500 if quick else 10_000, runs)
    events = int(measured["events"][0])
    return [
        Figure(
            f"execution page, {events} events: served",
            "ms",
            [s * 1000 for s in measured["page_seconds"]],
        ),
        Figure(
            f"execution page, {events} events: size",
            "KiB",
            [b / 1024 for b in measured["page_bytes"]],
        ),
        Figure(
            f"report file, {events} events: rendered",
            "ms",
            [s * 1000 for s in measured["report_seconds"]],
        ),
        Figure(
            f"report file, {events} events: size",
            "KiB",
            [b / 1024 for b in measured["report_bytes"]],
        ),
    ]


async def _run_transforms(machine: StateMachine, count: int) -> tuple[float, int]:
    """Seconds for ``count`` sequential executions of a transform chain, and its transitions."""
    async with LocalEngine(clock=VirtualClock()) as engine:
        first = await engine.execute(machine, TRANSFORM_INPUT, "warmup")
        assert first.status == "SUCCEEDED", first.to_dict()
        assert first.output["count"] == _transitions(first), first.output
        elapsed = await _time_executions(engine, machine, count, lambda name: TRANSFORM_INPUT)
    return elapsed, _transitions(first)


def bench_jsonata(quick: bool, runs: int) -> list[Figure]:
    """(6) A state's data flow written in JSONata against the same work in JSONPath."""
    import functools

    count = 10 if quick else 200
    medians: dict[str, float] = {}
    figures: list[Figure] = []
    for language in ("JSONPath", "JSONata"):
        machine = load(transform_chain_machine(50, language))
        samples = _repeat(runs, functools.partial(_run_transforms, machine, count))
        per_state = [s / (count * t) * 1e6 for s, t in samples]
        medians[language] = statistics.median(per_state)
        figures.append(Figure(f"transform state, {language}", "µs/transition", per_state))
    figures.append(
        Figure(
            "transform state: JSONata / JSONPath",
            "times",
            [medians["JSONata"] / medians["JSONPath"]],
        )
    )
    return figures


def _document(items: int) -> dict[str, Any]:
    """A booking-like JSON document of ``items`` lines (1,000 lines: about 95 KB)."""
    return {
        "booking": "b-1",
        "lines": [
            {"id": i, "name": f"item-{i}", "price": i * 1.5, "tags": ["a", "b"], "ok": True}
            for i in range(items)
        ],
    }


def bench_payload(quick: bool, runs: int) -> list[Figure]:
    """(7) A chain of 10 Tasks whose steps get and return a 95 KB document: each Task copies its
    input, and the step's result is marshalled as Lambda's runtime does, read back and sized;
    against the hand-written floor doing one JSON copy per state."""
    document = _document(1000)
    count = 3 if quick else 30
    machine = load(task_chain_machine(10))
    figures: list[Figure] = []
    for label, work in (
        ("95 KB document, 10 sync-step Tasks", _work),
        ("95 KB document, 10 inline-step Tasks", _work_inline),
    ):
        inside: list[float] = []
        floor: list[float] = []
        transitions = 0
        for _ in range(runs):
            gc.collect()
            seconds, transitions = anyio.run(
                _inside_seconds, machine, {"Work": work}, count, document
            )
            inside.append(seconds)
            floor.append(_floor_seconds(label, count, document))
        figures += _against_floor(label, inside, floor, count * transitions)
    return figures


def _cpu() -> float:
    """CPU seconds of this process (every thread): what the work costs, whatever else runs on
    the machine. The sections comparing ratios use it, so other load does not skew them."""
    return time.process_time()


def _work(event: Any) -> Any:
    """A synchronous step that returns at once."""
    return event


async def _work_async(event: Any) -> Any:
    """An async step that returns at once."""
    return event


@inline_step
def _work_inline(event: Any) -> Any:
    """A synchronous step that returns at once, marked to run on the engine's thread."""
    return event


@inline_step
async def _work_inline_async(event: Any) -> Any:
    """An async step that returns at once, marked to run on the engine's thread."""
    return event


_ONE_CALL_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("six-state machine", six_state_machine(), {}),
    ("10 sync-step Tasks", task_chain_machine(10), {"Work": _work}),
    ("10 async-step Tasks", task_chain_machine(10), {"Work": _work_async}),
    ("10 inline sync-step Tasks", task_chain_machine(10), {"Work": _work_inline}),
    ("10 inline async-step Tasks", task_chain_machine(10), {"Work": _work_inline_async}),
]


def _one_call_seconds(machine: StateMachine, handlers: dict[str, Any], count: int) -> float:
    """Seconds for ``count`` blocking ``engine.run`` calls, one after another."""
    started = _cpu()
    for i in range(count):
        execution = run(machine, {}, handlers=handlers, name=f"run-{i}")
    elapsed = _cpu() - started
    assert execution.status == "SUCCEEDED", execution.to_dict()
    return elapsed


async def _inside_seconds(
    machine: StateMachine, handlers: dict[str, Any], count: int, data: Any = None
) -> tuple[float, int]:
    """Seconds for ``count`` executions of ``data`` (default ``{}``) inside one running engine,
    and transitions of one."""
    data = {} if data is None else data
    async with LocalEngine(clock=VirtualClock(), handlers=handlers) as engine:
        first = await engine.execute(machine, data, "warmup")
        assert first.status == "SUCCEEDED", first.to_dict()
        started = _cpu()
        await _time_executions(engine, machine, count, lambda name: data)
        elapsed = _cpu() - started
    return elapsed, _transitions(first)


def _floor_seconds(label: str, count: int, data: Any = None) -> float:
    """Seconds for ``count`` hand-written runs of the same work on ``data`` (default ``{}``;
    see :mod:`benchmarks.floor`)."""
    data = {} if data is None else data
    started = _cpu()
    for _ in range(count):
        if label.startswith("six-state"):
            six_state_floor(data)
        else:
            task_chain_floor(data, 10, _work)
    return _cpu() - started


def _against_floor(
    label: str, inside: list[float], floor: list[float], transitions: int
) -> list[Figure]:
    """µs per transition inside a running engine and by hand (``inside`` and ``floor``: seconds
    of rounds of ``transitions`` each), and their ratio."""
    per_transition = [s / transitions * 1e6 for s in inside]
    floor_per_transition = [s / transitions * 1e6 for s in floor]
    return [
        Figure(f"{label}: inside", "µs/transition", per_transition),
        Figure(f"{label}: hand-written floor", "µs/transition", floor_per_transition),
        Figure(
            f"{label}: inside / floor",
            "times",
            [statistics.median(per_transition) / statistics.median(floor_per_transition)],
        ),
    ]


def bench_one_call(quick: bool, runs: int) -> list[Figure]:
    """What users call: ``engine.run`` against executions inside a running engine, side by side
    in alternated rounds, with the hand-written floor and (six-state machine) moto; all on CPU
    time, so the ratios hold on a machine shared with other work."""
    count = 50 if quick else 500
    figures: list[Figure] = []
    for label, definition, handlers in _ONE_CALL_CASES:
        machine = load(definition)
        run(machine, {}, handlers=handlers)  # warm up the calling thread's loop
        inside: list[float] = []
        one_call: list[float] = []
        floor: list[float] = []
        transitions = 0
        for _ in range(runs):
            gc.collect()
            seconds, transitions = anyio.run(_inside_seconds, machine, handlers, count)
            inside.append(seconds)
            gc.collect()
            one_call.append(_one_call_seconds(machine, handlers, count))
            floor.append(_floor_seconds(label, count * 10) / 10)
        figures += [
            Figure(
                f"{label}: inside a running engine", "executions/CPU-s", [count / s for s in inside]
            ),
            Figure(f"{label}: engine.run", "executions/CPU-s", [count / s for s in one_call]),
            Figure(
                f"{label}: engine.run / inside",
                "times",
                [i / o for i, o in zip(inside, one_call, strict=True)],
                target=">= 0.8",
            ),
            *_against_floor(label, inside, floor, count * transitions),
        ]
        if label.startswith("six-state"):
            moto = _moto_six_state(10 if quick else 60, runs, _cpu)
            if moto is not None:
                figures.append(Figure(f"{label}: moto", "executions/CPU-s", moto))
                rate = statistics.median([count / s for s in one_call])
                figures.append(
                    Figure(f"{label}: engine.run / moto", "times", [rate / statistics.median(moto)])
                )
    figures += _bench_saga_run(quick, runs)
    return figures


def _bench_saga_run(quick: bool, runs: int) -> list[Figure]:
    """``Saga.run`` of the airline saga (compiled on every call) against the compiled machine
    inside a running engine."""
    from benchmarks.airline import airline_case
    from examples.airline_booking.saga import booking

    case = airline_case(False)
    count = 20 if quick else 200
    booking.run(case.input("warmup"), handlers=case.handlers)
    inside: list[float] = []
    saga_run: list[float] = []
    for _ in range(runs):
        gc.collect()

        async def measure() -> tuple[float, int]:
            async with LocalEngine(clock=VirtualClock(), handlers=case.handlers) as engine:
                started = _cpu()
                for i in range(count):
                    await engine.execute(case.machine, case.input(f"b{i}"), f"b{i}")
                return _cpu() - started, 0

        inside.append(anyio.run(measure)[0])
        gc.collect()
        started = _cpu()
        for i in range(count):
            outcome = booking.run(case.input(f"b{i}"), handlers=case.handlers, name=f"b{i}")
        saga_run.append(_cpu() - started)
        assert outcome.status == "SUCCEEDED", outcome.to_dict()
    return [
        Figure(
            "airline saga: inside a running engine", "executions/CPU-s", [count / s for s in inside]
        ),
        Figure("airline saga: Saga.run", "executions/CPU-s", [count / s for s in saga_run]),
        Figure(
            "airline saga: Saga.run / inside",
            "times",
            [i / o for i, o in zip(inside, saga_run, strict=True)],
            target=">= 0.8",
        ),
    ]


SECTIONS: dict[str, Callable[[bool, int], list[Figure]]] = {
    "one-call": bench_one_call,
    "six-state": bench_six_state,
    "airline": bench_airline,
    "scaling": bench_scaling,
    "concurrent-waits": bench_concurrent_waits,
    "durable-store": bench_durable_store,
    "distributed-map": bench_distributed,
    "serve": bench_serve,
    "cli": bench_cli,
    "execution-page": bench_execution_page,
    "jsonata": bench_jsonata,
    "payload": bench_payload,
}


def _machine_info() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def _print_table(figures: list[Figure]) -> None:
    header = f"{'benchmark':<52} {'median':>12} {'spread':>10}  {'unit':<14} target"
    print(header)
    print("-" * len(header))
    for figure in figures:
        print(
            f"{figure.name:<52} {figure.median:>12.2f} {figure.spread:>10.2f}  "
            f"{figure.unit:<14} {figure.target}"
        )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the chosen sections, print the table, write JSON on request."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--runs", type=int, default=None, help="repetitions (default 5, quick 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append", help="run a section")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 5)
    info = _machine_info()
    print(f"machine: {info['platform']}, {info['cpus']} CPUs, Python {info['python']}")
    print(f"runs per figure: {runs}{' (quick mode)' if args.quick else ''}\n")
    figures: list[Figure] = []
    for name in args.only or list(SECTIONS):
        figures.extend(SECTIONS[name](args.quick, runs))
    _print_table(figures)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(
                {"machine": info, "quick": args.quick, "figures": [f.to_dict() for f in figures]},
                out,
                indent=2,
            )
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
