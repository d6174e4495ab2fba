"""A distributed ``Map`` (``Mode: DISTRIBUTED``): one child execution per item or batch.

InputPath → items (``ItemReader`` from S3, or ``ItemsPath``; at most ``MaxItems``) →
``ItemSelector`` per item → ``ItemBatcher`` → one child execution per item or batch, at most
``MaxConcurrency`` at once → ``ResultWriter`` → ResultSelector → ResultPath → OutputPath.

The parent's history records what AWS records (``MapStateStarted`` with length 0 for a reader,
``MapRunStarted`` with the map run's ARN, ``MapRunSucceeded`` or ``MapRunFailed``,
``MapStateSucceeded``/``MapStateFailed``); each child runs as an execution of its own, with
its own history and ``$$.Execution``, and is counted in the :class:`MapRun` record
(``Execution.map_runs``). Items are pulled from the reader as workers need them, so the number
of items is not bounded by memory. Failed, timed-out and aborted children count against
``ToleratedFailureCount``/``ToleratedFailurePercentage``; past them the run fails with
``States.ExceedToleratedFailureThreshold``.

A redriven run (``RedriveExecution``) keeps its ARN and records ``MapRunRedriven`` with its
``redriveCount`` instead of ``MapRunStarted``; only its children that did not succeed run
again, under their own names (a Standard child's ``RedriveCount`` one more; an Express child
starts anew, as AWS starts it again with StartExecution).
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any, Final

import anyio
import anyio.lowlevel
import anyio.to_thread

from engine.clock import format_context_timestamp, format_timestamp
from engine.distributed.map_run import MapChild, MapRun
from engine.distributed.readers import read_items
from engine.distributed.writer import ResultSink
from engine.errors import EXCEED_TOLERATED_FAILURE_THRESHOLD, RUNTIME, StatesError
from engine.execution import FINAL_STATUSES, Execution
from engine.history import History
from engine.interpreter.context import FatalError, Runtime, StateContext
from engine.interpreter.loop import ExecutionControl, execute
from engine.interpreter.recovery import with_retry_and_catch
from engine.limits import MAX_HISTORY_EVENTS
from engine.model import MapState, StateMachine
from engine.paths import compact_json
from engine.states.distributed_fields import (
    DeferredQueryError,
    DistributedFields,
    distributed_fields,
)
from engine.store.pending import commit_staged

__all__ = ["LOCAL_MAX_CONCURRENCY", "batch_units", "run_distributed_map"]

LOCAL_MAX_CONCURRENCY: Final = 1000
"""Children run at once when ``MaxConcurrency`` is 0 (AWS allows up to 10,000)."""
_CHUNK: Final = 256
_THRESHOLD_CAUSE: Final = "The specified tolerated failure threshold was exceeded"

Unit = tuple[Any, int]
"""A child execution's input and how many items it carries."""


def _source(fields: DistributedFields, listed: list[Any] | None) -> tuple[Iterator[Any], bool]:
    """The items and whether reading them blocks (S3): a lazy iterator either way."""
    reader = fields.state.item_reader
    if reader is None:
        return iter(listed if listed is not None else fields.items()), False
    parameters = fields.reader_parameters(reader)
    config = dict(reader.get("ReaderConfig") or {})
    limit = fields.max_items(config)
    return read_items(str(reader["Resource"]), parameters, config, limit), True


def _units(fields: DistributedFields, items: Iterator[Any]) -> Iterator[Unit]:
    """Each child's input: the selected item, or a batch ``{"BatchInput"?, "Items"}``."""
    state = fields.state
    selector = state.item_selector if state.item_selector is not None else state.parameters
    selected: Iterator[Any] = items
    if selector is not None:
        selected = (fields.select(selector, index, value) for index, value in enumerate(items))
    batcher = state.item_batcher
    if batcher is None:
        return ((item, 1) for item in selected)
    per_batch = fields.batch_limit(batcher, "MaxItemsPerBatch")
    max_bytes = fields.batch_limit(batcher, "MaxInputBytesPerBatch")
    base: dict[str, Any] = {}
    if batcher.get("BatchInput") is not None:
        base["BatchInput"] = fields.batch_input(batcher["BatchInput"])
    return batch_units(selected, base, per_batch, max_bytes)


def batch_units(
    items: Iterator[Any], base: dict[str, Any], per_batch: int, max_bytes: int
) -> Iterator[Unit]:
    """``ItemBatcher``'s batches ``{**base, "Items": [...]}``, each with its item count."""
    empty = len(compact_json({**base, "Items": []}).encode("utf-8"))
    batch: list[Any] = []
    size = empty
    for item in items:
        item_size = len(compact_json(item).encode("utf-8")) + (1 if batch else 0)
        if batch and max_bytes and size + item_size > max_bytes:
            yield {**base, "Items": batch}, len(batch)
            batch, size = [], empty
            item_size -= 1
        batch.append(item)
        size += item_size
        if per_batch and len(batch) >= per_batch:
            yield {**base, "Items": batch}, len(batch)
            batch, size = [], empty
    if batch:
        yield {**base, "Items": batch}, len(batch)


class _Feed:
    """Hands out child inputs to workers in order; blocking reads run in a worker thread."""

    def __init__(self, units: Iterator[Unit], blocking: bool) -> None:
        self._units = units
        self._blocking = blocking
        self._buffer: deque[Unit] = deque()
        self._lock = anyio.Lock()
        self._index = 0
        self._exhausted = False

    @property
    def done(self) -> bool:
        """Whether every child input has been handed out."""
        return self._exhausted and not self._buffer

    def _pull(self) -> list[Unit]:
        return list(itertools.islice(self._units, _CHUNK))

    async def next(self, runtime: Runtime) -> tuple[int, Unit] | None:
        async with self._lock:
            if not self._buffer and not self._exhausted:
                if self._blocking:
                    with runtime.clock.busy():
                        chunk = await anyio.to_thread.run_sync(self._pull, abandon_on_cancel=True)
                else:
                    chunk = self._pull()
                self._exhausted = len(chunk) < _CHUNK
                self._buffer.extend(chunk)
            if not self._buffer:
                return None
            index = self._index
            self._index += 1
            return index, self._buffer.popleft()


def _sub_machine(state: MapState, default_language: str) -> StateMachine:
    """The item processor as a machine of its own (its children's definition)."""
    processor = state.processor
    return StateMachine.model_construct(
        start_at=processor.start_at,
        states=processor.states,
        query_language=processor.query_language or default_language,
    )


def _record(child: Execution) -> dict[str, Any]:
    """A child's execution record as ``ResultWriter`` exports it (``Transformation: NONE``)."""
    record: dict[str, Any] = {
        "ExecutionArn": child.execution_arn,
        "Input": compact_json(child.input),
        "InputDetails": {"Included": True},
        "Name": child.name,
    }
    if child.status == "SUCCEEDED":
        record["Output"] = compact_json(child.output)
        record["OutputDetails"] = {"Included": True}
    record["RedriveCount"] = 0
    record["RedriveStatus"] = "NOT_REDRIVABLE"
    if child.status == "SUCCEEDED":
        record["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    record["StartDate"] = format_timestamp(child.start_posix)
    record["StateMachineArn"] = child.state_machine_arn
    record["Status"] = child.status
    if child.stop_posix is not None:
        record["StopDate"] = format_timestamp(child.stop_posix)
    if child.error is not None:
        record["Error"] = child.error
    if child.cause is not None:
        record["Cause"] = child.cause
    return record


class _Run:
    """One map run: its record, its children and the failure that ends it early."""

    def __init__(
        self,
        ctx: StateContext,
        state: MapState,
        map_run: MapRun,
        sink: ResultSink,
        ended: Mapping[int, MapChild],
        *,
        rerun: Mapping[int, MapChild] | None = None,
    ) -> None:
        self.ctx = ctx
        self.ended = ended
        """Children that ended before a resume: their outcomes are used, they are not run."""
        self.rerun: Mapping[int, MapChild] = rerun or {}
        """Children of a redriven run that did not succeed before: they run again."""
        config = state.processor.processor_config
        self.express = config is not None and config.execution_type == "EXPRESS"
        """Express children run again as new executions: their ``RedriveCount`` stays 0."""
        self.runtime = ctx.runtime
        self.machine = _sub_machine(state, ctx.flow.query_language)
        self.map_run = map_run
        self.sink = sink
        self.failure: BaseException | None = None
        prefix, _, _ = map_run.state_machine_arn.rpartition(":stateMachine:")
        self.child_prefix = f"{prefix}:execution:{map_run.state_machine_arn.rsplit(':', 1)[-1]}"
        self.role_arn = str(self.runtime.context_execution.get("RoleArn", ""))

    def exceeded(self, final: bool) -> bool:
        """Whether failures are past the tolerated count (now) or percentage (at the end)."""
        run = self.map_run
        failed = run.failed_items
        if not failed:
            return False
        count, percentage = run.tolerated_failure_count, run.tolerated_failure_percentage
        if not count and not percentage:
            return True
        if count and failed > count:
            return True
        return bool(percentage) and final and failed * 100.0 > percentage * run.item_counts["total"]

    async def child(self, index: int, data: Any, items: int) -> None:
        runtime = self.runtime
        earlier = self.ended.get(index)
        if earlier is not None:
            self.map_run.started(items)
            self.map_run.ended(items, earlier.status)
            self.sink.add(index, earlier.record, earlier.output)
            return
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.map_run.map_run_arn}/{index}"))
        before = self.rerun.get(index)
        redrives = 0
        if before is not None and not self.express:
            redrives = int(before.record.get("RedriveCount", 0)) + 1
        start = runtime.clock.time()
        arn = f"{self.child_prefix}:{name}"
        record = Execution(
            name=name,
            execution_arn=arn,
            state_machine_arn=self.map_run.state_machine_arn,
            input=data,
            start_posix=start,
        )
        history = History(runtime.clock.time, limit=MAX_HISTORY_EVENTS)
        record.history = history.events
        child = Runtime(
            record=record,
            history=history,
            clock=runtime.clock,
            seed=runtime.seed,
            calls=runtime.calls,
            tokens=runtime.tokens,
            region=runtime.region,
            context_execution={
                "Id": arn,
                "Input": data,
                "Name": name,
                "RoleArn": self.role_arn,
                "StartTime": format_context_timestamp(start),
                "RedriveCount": redrives,
            },
            context_state_machine={
                "Id": self.map_run.state_machine_arn,
                "Name": self.map_run.state_machine_arn.rsplit(":", 1)[-1],
            },
            runners=runtime.runners,
            mocked=runtime.mocked,
        )
        self.map_run.started(items)
        self.map_run.running[index] = (record, items)
        try:
            await execute(child, self.machine, ExecutionControl(), self.role_arn)
        finally:
            del self.map_run.running[index]
            self.map_run.ended(items, record.status)
            exported = _record(record)
            exported["RedriveCount"] = redrives
            log = runtime.map_run_log
            if log is not None and record.status in FINAL_STATUSES:
                ended = MapChild(items, record.status, exported, record.output)
                log.child_ended(self.map_run, index, ended, record.history)
            self.sink.add(index, exported, record.output)

    def limit(self) -> int:
        """How many children may run at once now (``UpdateMapRun`` may change it)."""
        return min(self.map_run.max_concurrency or LOCAL_MAX_CONCURRENCY, 10_000)

    async def run(self, feed: _Feed) -> None:
        clock = self.runtime.clock
        gate = clock.gate()
        state = {"running": 0}

        async def worker() -> None:
            try:
                while self.failure is None and state["running"] <= self.limit():
                    unit = await feed.next(self.runtime)
                    if unit is None:
                        return
                    index, (data, items) = unit
                    await self.child(index, data, items)
                    if self.failure is None and self.exceeded(final=False):
                        self.failure = StatesError(
                            EXCEED_TOLERATED_FAILURE_THRESHOLD, _THRESHOLD_CAUSE
                        )
                        gate.open()
            except Exception as exc:
                if self.failure is None:
                    self.failure = exc
                gate.open()
            finally:
                state["running"] -= 1
                if state["running"] == 0:
                    gate.open()
                clock.flow_finished()

        async with anyio.create_task_group() as tg:

            def resize() -> None:
                # More workers when the limit grew; fewer ones leave after their child.
                while state["running"] < self.limit() and not feed.done and self.failure is None:
                    state["running"] += 1
                    clock.flow_started()
                    tg.start_soon(worker)

            self.map_run.on_update = resize
            try:
                resize()
                await gate.wait()
                if self.failure is not None:
                    tg.cancel_scope.cancel()
            finally:
                self.map_run.on_update = None
        if self.failure is None and self.exceeded(final=True):
            self.failure = StatesError(EXCEED_TOLERATED_FAILURE_THRESHOLD, _THRESHOLD_CAUSE)
        if self.failure is not None:
            raise self.failure


def _map_run_identity(ctx: StateContext, state: MapState, earlier: int) -> tuple[str, str]:
    """The map run's ARN and its children's state machine ARN (``machine/label``).

    ``earlier`` counts the runs this visit started before a resume: a run again as a whole
    after it is told apart from them.
    """
    runtime = ctx.runtime
    machine_arn = str(runtime.context_state_machine.get("Id", ""))
    prefix, _, machine_name = machine_arn.rpartition(":stateMachine:")
    label = state.label or ctx.name
    key = f"{runtime.record.execution_arn}/{ctx.name}/{ctx.entered_id}/{ctx.retry_count}"
    if earlier:
        key += f"/resumed-{earlier}"
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"saga:map-run:{key}"))
    return (
        f"{prefix}:mapRun:{machine_name}/{label}:{run_id}",
        f"{prefix}:stateMachine:{machine_name}/{label}",
    )


async def run_distributed_map(
    ctx: StateContext, state: MapState, raw: Any
) -> tuple[Any, str | None]:
    """InputPath → items → child executions → ResultWriter → ResultSelector → ResultPath."""
    runtime = ctx.runtime
    log = runtime.map_run_log
    resumed = ctx.resumed
    continuing = [resumed.map_run_arn] if resumed is not None and resumed.map_run_arn else []
    earlier = resumed.map_runs_started if resumed is not None and not continuing else 0
    redriven = runtime.take_redriven(ctx.name)
    redriving = [redriven.map_run_arn] if redriven is not None and redriven.map_run_arn else []

    async def attempt() -> Any:
        fields = distributed_fields(ctx, state, raw)
        workers = fields.concurrency()
        invalid: StatesError | None = None
        try:
            count, percentage = fields.tolerance()
        except StatesError as error:
            if error.error != RUNTIME or ctx.jsonata:
                raise
            count, percentage, invalid = 0, 0.0, error  # AWS fails on it once the Map started
        listed: list[Any] | None = None
        if state.item_reader is None:
            listed = fields.items()
        map_run_arn, child_machine = _map_run_identity(ctx, state, earlier)
        map_run = MapRun(
            map_run_arn=map_run_arn,
            execution_arn=runtime.record.execution_arn,
            state_machine_arn=child_machine,
            start_posix=runtime.clock.time(),
            max_concurrency=workers,
            tolerated_failure_count=count,
            tolerated_failure_percentage=percentage,
        )
        ended: Mapping[int, MapChild] = {}
        rerun: Mapping[int, MapChild] = {}
        goes_on = bool(continuing)
        redrive = not goes_on and bool(redriving)
        if redrive:
            # The failed run is redriven (its first attempt only): succeeded children are kept.
            map_run.map_run_arn = map_run_arn = redriving.pop()
            kept, before = log.stored(map_run_arn) if log is not None else (None, {})
            if kept is not None:
                _carry_over(map_run, kept)
            map_run.redrive_count = (kept.redrive_count if kept is not None else 0) + 1
            map_run.redrive_posix = runtime.clock.time()
            ended = {i: child for i, child in before.items() if child.status == "SUCCEEDED"}
            rerun = {i: child for i, child in before.items() if child.status != "SUCCEEDED"}
        if goes_on:
            # A run under way before a resume goes on: its started events are in the history.
            map_run.map_run_arn = map_run_arn = continuing.pop()
            if log is not None:
                kept, ended = log.stored(map_run_arn)
                if kept is not None:
                    _carry_over(map_run, kept)
        else:
            ctx.add("MapStateStarted", {"length": len(listed) if listed is not None else 0})
        if invalid is not None:
            raise invalid
        runs = runtime.record.map_runs
        # A run again as a whole after a resume has its first run's ARN: it replaces it.
        runs[:] = [run for run in runs if run.map_run_arn != map_run_arn]
        runs.append(map_run)
        if log is not None:
            log.saved(map_run)
        if redrive:
            redriven_details = {"mapRunArn": map_run_arn, "redriveCount": map_run.redrive_count}
            ctx.add("MapRunRedriven", redriven_details)
        elif not goes_on:
            ctx.add("MapRunStarted", {"mapRunArn": map_run_arn})
        writer = state.result_writer
        sink: ResultSink | None = None
        try:
            parameters = fields.writer_parameters(writer) if writer is not None else {}
            sink = ResultSink(writer, parameters)
            source, blocking = _source(fields, listed)
            units = _units(fields, source)
            run = _Run(ctx, state, map_run, sink, ended, rerun=rerun)
            await run.run(_Feed(units, blocking))
            if sink.export and not commit_staged():  # the export acts: what it follows is kept
                await anyio.lowlevel.checkpoint_if_cancelled()
            output = sink.output(map_run_arn)
        except FatalError:
            _close(map_run, runtime, "FAILED", sink)
            raise
        except StatesError as failure:
            exc = failure.record() if isinstance(failure, DeferredQueryError) else failure
            _close(map_run, runtime, "FAILED", sink, exc)
            details = {k: v for k, v in (("error", exc.error), ("cause", exc.cause)) if v}
            ctx.add("MapRunFailed", details)
            ctx.add("MapStateFailed")
            if exc is failure:
                raise
            raise exc from None
        except anyio.get_cancelled_exc_class():
            _close(map_run, runtime, "ABORTED", sink)
            with contextlib.suppress(StatesError):
                ctx.add("MapRunAborted")
            raise
        _close(map_run, runtime, "SUCCEEDED", None)
        run_linked = ctx.flow.last_id
        ctx.add("MapRunSucceeded")
        ctx.add("MapStateSucceeded")
        ctx.flow.last_id = run_linked  # AWS (recorded since 2024-11): exit links as MapRunSucceeded
        return fields.finish(output)

    return await with_retry_and_catch(ctx, state, raw, attempt)


def _carry_over(map_run: MapRun, earlier: MapRun) -> None:
    """What a resumed run keeps of its record: its start and its (updated) limits."""
    map_run.start_posix = earlier.start_posix
    map_run.max_concurrency = earlier.max_concurrency
    map_run.tolerated_failure_count = earlier.tolerated_failure_count
    map_run.tolerated_failure_percentage = earlier.tolerated_failure_percentage


def _close(
    map_run: MapRun,
    runtime: Runtime,
    status: str,
    sink: ResultSink | None,
    error: StatesError | None = None,
) -> None:
    map_run.status = status  # type: ignore[assignment]
    map_run.stop_posix = runtime.clock.time()
    if error is not None:
        map_run.error, map_run.cause = error.error, error.cause
    if runtime.map_run_log is not None:
        runtime.map_run_log.saved(map_run)
    if sink is not None:
        sink.close()
