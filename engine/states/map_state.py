"""``Type: Map`` (inline) — the item processor once per array element; results in item order.

``ItemsPath`` selects the array from the effective input; ``ItemSelector`` (or the older
``Parameters``) builds each iteration's input with ``$$.Map.Item.Index``/``Value``;
``MaxConcurrency`` bounds how many run at once (0 = unbounded, 1 = one after another). Without
a tolerated-failure setting the first failing iteration cancels the rest and the Map fails with
its error; with one, failures are counted and ``States.ExceedToleratedFailureThreshold`` is
raised when the count or percentage is exceeded. A redriven Map's first attempt runs only the
iterations that did not succeed before, each from the last state it entered that did not
complete; the others give their recorded output and record no events.
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio

from engine.errors import (
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    RUNTIME,
    StatesError,
    items_not_an_array,
    negative_tolerated_failure_count,
    path_value_invalid,
)
from engine.interpreter.concurrency import is_instant, run_children
from engine.interpreter.context import FatalError, StateContext
from engine.interpreter.dataflow import (
    apply_input_path,
    apply_result_selector,
    evaluate_assign,
)
from engine.interpreter.jsonata_dataflow import (
    evaluate_field,
    jsonata_assign_and_output,
    jsonata_items,
    jsonata_number,
    states_variable,
)
from engine.interpreter.loop import run_states
from engine.interpreter.ordering import Sequencer
from engine.interpreter.recovery import error_output, with_retry_and_catch
from engine.model import MapState
from engine.paths import evaluate_path
from engine.payload_templates import apply_payload_template
from engine.states.distributed_map_state import run_distributed_map

__all__ = ["run_map"]


def _integer_from_path(ctx: StateContext, path: str, data: Any, field: str) -> int:
    value = evaluate_path(path, data, ctx.context, ctx.variables)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(
            value
        )  # AWS reads a string of digits as its integer (recorded for MaxConcurrencyPath)
    if isinstance(value, bool) or not isinstance(value, int):
        raise path_value_invalid(field, value, path)
    if value < 0:
        if field == "ToleratedFailureCount":
            raise negative_tolerated_failure_count()
        raise path_value_invalid(field, value, path)
    return value


def _max_concurrency(ctx: StateContext, state: MapState, data: Any) -> int:
    if ctx.jsonata and isinstance(state.max_concurrency, str):
        return int(jsonata_number(ctx, state.max_concurrency, "MaxConcurrency", data, None))
    if state.max_concurrency_path is not None:
        return _integer_from_path(ctx, state.max_concurrency_path, data, "MaxConcurrency")
    if isinstance(state.max_concurrency, int):
        return state.max_concurrency
    return 0


def _tolerance(ctx: StateContext, state: MapState, data: Any) -> tuple[int | None, float | None]:
    count: int | None = None
    if ctx.jsonata:
        raw_count = jsonata_number(
            ctx, state.tolerated_failure_count, "ToleratedFailureCount", data, None
        )
        raw_share = jsonata_number(
            ctx, state.tolerated_failure_percentage, "ToleratedFailurePercentage", data, 100
        )
        return (
            None if raw_count is None else int(raw_count),
            None if raw_share is None else float(raw_share),
        )
    if state.tolerated_failure_count_path is not None:
        count = _integer_from_path(
            ctx, state.tolerated_failure_count_path, data, "ToleratedFailureCount"
        )
    elif isinstance(state.tolerated_failure_count, int):
        count = state.tolerated_failure_count
    percentage: float | None = None
    raw_percentage: Any = state.tolerated_failure_percentage
    if state.tolerated_failure_percentage_path is not None:
        raw_percentage = evaluate_path(
            state.tolerated_failure_percentage_path, data, ctx.context, ctx.variables
        )
        if (
            isinstance(raw_percentage, str)
            and raw_percentage.isascii()
            and raw_percentage.isdigit()
        ):
            raw_percentage = int(raw_percentage)  # read as its integer, as the count's path is
    if raw_percentage is not None and not isinstance(raw_percentage, str):
        if isinstance(raw_percentage, bool) or not 0 <= raw_percentage <= 100:
            raise StatesError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
        percentage = float(raw_percentage)
    return count, percentage


def _items(ctx: StateContext, state: MapState, effective: Any) -> list[Any]:
    path = state.items_path
    items = (
        effective
        if path is None or path == "$"
        else evaluate_path(path, effective, ctx.context, ctx.variables)
    )
    if not isinstance(items, list):
        raise items_not_an_array(path)
    return items


async def run_map(ctx: StateContext, state: MapState, raw: Any) -> tuple[Any, str | None]:
    """InputPath → ItemsPath → iterations → ResultSelector → ResultPath → OutputPath."""
    if state.is_distributed:
        return await run_distributed_map(ctx, state, raw)

    processor = state.processor
    selector = state.item_selector if state.item_selector is not None else state.parameters
    runtime = ctx.runtime
    redriven = [runtime.take_redriven(ctx.name)]

    async def attempt() -> Any:
        kept = redriven.pop() if redriven else None  # a retry runs every iteration again
        reused = kept.outputs if kept is not None else {}
        going_on = kept.children if kept is not None else {}
        if ctx.jsonata:
            effective = raw
            items = jsonata_items(ctx, state, raw)
        else:
            effective = apply_input_path(ctx, state, raw)
            items = _items(ctx, state, effective)
        workers = _max_concurrency(ctx, state, effective) or len(items)
        count, percentage = _tolerance(ctx, state, effective)
        tolerant = bool(count) or bool(percentage)
        started_id = ctx.add("MapStateStarted", {"length": len(items)})
        name = ctx.name
        inline = is_instant(processor.states)
        # Children that run one at a time write straight through, in index order.
        sequential = inline or workers == 1
        events = Sequencer(runtime, ctx.flow.sink, len(items), sequential=sequential)
        # As AWS links them: iterations run one after another (inline, or MaxConcurrency 1)
        # link each start to the previous iteration's last event before its MapIteration* end,
        # concurrent ones to MapStateStarted (so the links stay deterministic); a failure (and
        # a retry) links to the failed iteration's last event.
        ends: dict[int, int] = {}
        failed: dict[int, int] = {}

        async def run_item(index: int) -> Any:
            if index in reused:
                events.finished(index)
                return reused[index]
            value = items[index]
            if selector is not None and ctx.jsonata:
                item_states = states_variable(ctx, raw)
                item_states["context"] = ctx.map_item_context(index, value)
                value = evaluate_field(ctx, selector, "ItemSelector", item_states)
            elif selector is not None:
                value = apply_payload_template(
                    selector,
                    effective,
                    ctx.map_item_context(index, value),
                    ctx.variables,
                    field="ItemSelector",
                    rng=runtime.rng,
                )
            link = ends.get(index - 1, started_id) if sequential else started_id
            flow = ctx.flow.child(link, events.sink(index), processor.query_language)
            detail = {"index": index, "name": name}
            try:
                flow.add("MapIterationStarted", detail)
                try:
                    start, child = processor.start_at, going_on.get(index)
                    if child is not None:
                        flow.variables.update(child.variables)
                        start, value = child.state, child.input
                    output = await run_states(flow, processor.states, start, value)
                except FatalError:
                    raise
                except StatesError:
                    ends[index] = failed[index] = flow.last_id
                    flow.add("MapIterationFailed", detail)
                    raise
                except anyio.get_cancelled_exc_class():
                    with contextlib.suppress(StatesError):
                        flow.add("MapIterationAborted", detail)
                    raise
                ends[index] = flow.last_id
                flow.add("MapIterationSucceeded", detail)
                return output
            finally:
                events.finished(index)

        try:
            results, errors = await run_children(
                ctx.clock,
                len(items),
                workers,
                run_item,
                fail_fast=not tolerant,
                inline=inline,
            )
            events.close(*errors)
            failures = [index for index, error in enumerate(errors) if error is not None]
            if failures:
                exceeded = (count is not None and len(failures) > count) or (
                    percentage is not None and len(failures) * 100.0 > percentage * len(items)
                )
                if exceeded or (count is None and percentage is None):
                    raise StatesError(
                        EXCEED_TOLERATED_FAILURE_THRESHOLD,
                        "The specified tolerated failure threshold was exceeded",
                    )
                for index in failures:
                    error = errors[index]
                    assert error is not None
                    results[index] = error_output(error)
        except FatalError as exc:
            events.close(exc)
            raise
        except StatesError as exc:
            events.close(exc)
            # AWS links MapStateFailed past the failed iteration's MapIterationFailed (a tolerance
            # exceeded: to the last event).
            link = failed[min(failed)] if failed and not tolerant else events.last_id
            ctx.flow.last_id = link or started_id
            raise
        finally:
            events.close()
        ctx.flow.last_id = events.last_id or started_id
        ctx.add("MapStateSucceeded")
        ctx.flow.last_id = events.last_id or started_id  # AWS: the exit links where this does
        if ctx.jsonata:
            states = states_variable(ctx, raw, result=results)
            return jsonata_assign_and_output(ctx, state, states, results)
        evaluate_assign(ctx, state.assign, results)
        return apply_result_selector(ctx, state, results)

    return await with_retry_and_catch(ctx, state, raw, attempt, lambda: ctx.add("MapStateFailed"))
