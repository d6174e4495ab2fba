"""The states a :class:`~saga.for_each.ForEach` group compiles to.

Forward, for a group ``G`` over ``items_path`` with steps ``A, B``::

    G (Map: ItemsPath, MaxConcurrency, ItemSelector {"item", "index", **item_fields})
      item: A -> B -> End            each step's result stays in the item at $.<step>
            A|B catch States.ALL (ResultPath $.error) -> "G (item failed)" (Pass, End)
      ResultSelector {"items.$": "$", "failed.$": "$[*].error"}, ResultPath $.g
    "G (any failed?)" (Choice: IsPresent $.g.failed[0]) -> "G (record error)" else onward
    "G (record error)" (Pass: InputPath $.g.failed[0], ResultPath <saga error_path>)
      -> "Undo G"

An item's failure is caught inside the item so that its record — and every other item's —
survives in the Map's result (a failure escaping an item would fail the Map and lose them).
The unwind entry is the undo Map ``"Undo G"`` (ItemsPath ``$.g.items``, ``MaxConcurrency``
1, ``ResultPath`` null): for each record, the compensations in reverse step order, each
behind a Choice ``"<compensation> (if done)"`` that runs it only if the record holds its
step's result (``IsPresent``); each compensation catches ``States.ALL`` and goes on, like
every compensation of the saga.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.model import (
    Catcher,
    ChoiceRule,
    ChoiceState,
    ItemProcessor,
    MapState,
    PassState,
    State,
)
from saga.for_each import ITEM_ERROR_KEY, ITEM_INDEX_KEY, ITEM_KEY, ForEach
from saga.steps import ALL, Unset
from saga.task_states import task_states
from saga.templates import compile_template

__all__ = ["for_each_states", "undo_states"]


def for_each_states(
    group: ForEach,
    following: str | None,
    catchers: Sequence[Catcher],
    unwind_entry: str,
) -> dict[str, State]:
    """The forward states of ``group``: the Map, the failure check and the error record.

    ``following`` is the next unit (None: the group ends the execution); ``catchers`` catch a
    failure of the Map itself; ``unwind_entry`` is where a failed item leads (the undo Map).
    """
    item_states: dict[str, State] = {}
    failed = Catcher(
        error_equals=[ALL], result_path=f"$.{ITEM_ERROR_KEY}", next=group.item_failed_state
    )
    for position, step in enumerate(group.steps):
        after = group.steps[position + 1].name if position + 1 < len(group.steps) else None
        item_states.update(task_states(step, after, [failed]))
    item_states[group.item_failed_state] = PassState(type="Pass", end=True)
    selector: dict[str, Any] = {
        f"{ITEM_KEY}.$": "$$.Map.Item.Value",
        f"{ITEM_INDEX_KEY}.$": "$$.Map.Item.Index",
    }
    if not isinstance(group.item_fields, Unset):
        selector.update(compile_template(group.item_fields))
    fields: dict[str, Any] = {
        "type": "Map",
        "items_path": group.items_path,
        "item_selector": selector,
        "item_processor": ItemProcessor(start_at=group.steps[0].name, states=item_states),
        "result_selector": {"items.$": "$", "failed.$": f"$[*].{ITEM_ERROR_KEY}"},
        "result_path": group.result_path,
        "next": group.check_state,
    }
    if group.comment is not None:
        fields["comment"] = group.comment
    if group.max_concurrency:
        fields["max_concurrency"] = group.max_concurrency
    if catchers:
        fields["catch"] = list(catchers)
    records = group.result_path.rstrip(".")
    states: dict[str, State] = {group.name: MapState(**fields)}
    onward = following if following is not None else group.done_state
    states[group.check_state] = ChoiceState(
        type="Choice",
        choices=[
            ChoiceRule(variable=f"{records}.failed[0]", is_present=True, next=group.record_state)
        ],
        default=onward,
    )
    record: dict[str, Any] = {
        "type": "Pass",
        "input_path": f"{records}.failed[0]",
        "result_path": group.error_path,
        "next": unwind_entry,
    }
    states[group.record_state] = PassState(**record)
    if following is None:
        states[group.done_state] = PassState(type="Pass", end=True)
    return states


def undo_states(group: ForEach, following: str) -> dict[str, State]:
    """The undo Map of ``group``: each item's completed steps compensated in reverse."""
    undone = [step for step in reversed(group.steps) if step.compensation is not None]
    item_states: dict[str, State] = {}
    for position, step in enumerate(undone):
        compensation = step.compensation
        assert compensation is not None and step.result_path is not None
        after = (
            ForEach.if_done_state(undone[position + 1])
            if position + 1 < len(undone)
            else group.item_undone_state
        )
        item_states[ForEach.if_done_state(step)] = ChoiceState(
            type="Choice",
            choices=[
                ChoiceRule(variable=step.result_path, is_present=True, next=compensation.name)
            ],
            default=after,
        )
        catch = [Catcher(error_equals=[ALL], result_path=compensation.error_path, next=after)]
        item_states.update(task_states(compensation, after, catch))
    item_states[group.item_undone_state] = PassState(type="Pass", end=True)
    processor = ItemProcessor(start_at=ForEach.if_done_state(undone[0]), states=item_states)
    undo = MapState(
        type="Map",
        items_path=f"{group.result_path.rstrip('.')}.items",
        max_concurrency=1,
        item_processor=processor,
        result_path=None,
        next=following,
    )
    return {group.undo_state: undo}
