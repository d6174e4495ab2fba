"""``Type: Parallel`` — every branch on the same effective input; results in branch order.

The first branch to fail cancels the others (their running states record ``…Aborted``) and
the Parallel fails with that branch's own error and cause. A Retry re-runs every branch. Branch
events reach the history in branch order (see :mod:`engine.interpreter.ordering`). A redriven
Parallel's first attempt runs only the branches that did not succeed before, each from the last
state it entered that did not complete; the others give their recorded output and record no
events.
"""

from __future__ import annotations

from typing import Any

from engine.errors import StatesError
from engine.interpreter.concurrency import is_instant, run_children
from engine.interpreter.context import FatalError, StateContext
from engine.interpreter.dataflow import (
    apply_input_path,
    apply_parameters,
    apply_result_selector,
    evaluate_assign,
)
from engine.interpreter.jsonata_dataflow import (
    evaluate_field,
    jsonata_assign_and_output,
    states_variable,
)
from engine.interpreter.loop import run_states
from engine.interpreter.ordering import Sequencer
from engine.interpreter.recovery import with_retry_and_catch
from engine.model import ParallelState

__all__ = ["run_parallel"]


async def run_parallel(ctx: StateContext, state: ParallelState, raw: Any) -> tuple[Any, str | None]:
    """InputPath → Parameters → branches → ResultSelector → ResultPath → OutputPath."""
    redriven = [ctx.runtime.take_redriven(ctx.name)]

    async def attempt() -> Any:
        if ctx.jsonata:
            effective = raw
            if "arguments" in state.__pydantic_fields_set__:
                effective = evaluate_field(
                    ctx, state.arguments, "Arguments", states_variable(ctx, raw)
                )
        else:
            effective = apply_input_path(ctx, state, raw)
            if state.parameters is not None:
                effective = apply_parameters(ctx, state.parameters, effective)
        started_id = ctx.add("ParallelStateStarted")
        branches = len(state.branches)

        kept = redriven.pop() if redriven else None  # a retry runs every branch again
        reused = kept.outputs if kept is not None else {}
        going_on = kept.children if kept is not None else {}
        inline = all(
            is_instant(branch.states)
            for index, branch in enumerate(state.branches)
            if index not in reused
        )
        # Branches that run one at a time write straight through, in branch order.
        sequential = inline or branches == 1
        events = Sequencer(ctx.runtime, ctx.flow.sink, branches, sequential=sequential)
        failed_at: list[int] = []  # each failed branch's failure event (ParallelStateFailed's link)

        async def run_branch(index: int) -> Any:
            if index in reused:
                events.finished(index)
                return reused[index]
            branch = state.branches[index]
            flow = ctx.flow.child(started_id, events.sink(index), branch.query_language)
            try:
                child = going_on.get(index)
                if child is None:
                    return await run_states(flow, branch.states, branch.start_at, effective)
                flow.variables.update(child.variables)
                return await run_states(flow, branch.states, child.state, child.input)
            except StatesError:
                failed_at.append(flow.last_id)
                raise
            finally:
                events.finished(index)

        try:
            results, _ = await run_children(
                ctx.clock,
                branches,
                branches,
                run_branch,
                inline=inline,
            )
        except FatalError as exc:
            events.close(exc)
            raise
        except StatesError as exc:
            events.close(exc)
            ctx.flow.last_id = failed_at[0] if failed_at else events.last_id or started_id
            raise
        finally:
            events.close()
        ctx.flow.last_id = events.last_id or started_id
        ctx.add("ParallelStateSucceeded")
        ctx.flow.last_id = events.last_id or started_id  # AWS: the exit links where this does
        if ctx.jsonata:
            states = states_variable(ctx, raw, result=results)
            return jsonata_assign_and_output(ctx, state, states, results)
        evaluate_assign(ctx, state.assign, results)
        return apply_result_selector(ctx, state, results)

    return await with_retry_and_catch(
        ctx, state, raw, attempt, lambda: ctx.add("ParallelStateFailed")
    )
