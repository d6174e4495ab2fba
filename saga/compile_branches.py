"""The states a parallel group with a branch of several steps compiles to: each branch keeps
the record of what it did, so the unwind undoes only that.

Forward, for a group ``G`` (result path ``$.g``) with branches ``[A1, A2]`` and ``[B1, B2]``::

    G (Parallel)
      branch: A1 -> A2 -> "A2 (done)" (Pass {"done.$": "$"}, End)
              A1|A2 catch compensate_on (ResultPath $) -> "A1 (failed)" / "A2 (failed)"
              "A1 (failed)" (Pass {"failed.$": "$", "notRun": {"a2": true}}, End)
      ResultSelector {"records.$": "$", "done.$": "$[*].done", "failed.$": "$[*].failed"}
      ResultPath $.g
    "G (any failed?)" (Choice: IsPresent $.g.failed[0]) -> "G (record error)" else "G (result)"
    "G (record error)" (Pass: InputPath $.g.failed[0], ResultPath <error_path>) -> unwind
    "G (result)" (Pass: InputPath $.g.done, Parameters <the group's result shape>,
      ResultPath $.g) -> onward

A step's failure is caught inside its branch, so the branch ends with its record (a failure
escaping the branch would fail the ``Parallel`` and Step Functions would keep no branch's
output). The siblings are therefore not stopped: plain ASL has no way to stop a branch from
another one and keep the stopped branch's record, so each sibling runs on to its end or its
own failure, and the group fails once every branch has ended.

With ``fail_fast_on``, each step of a branch first catches those errors (``ResultPath $``)
into the branch's ``"<branch> in <group> (fail fast)"`` Choice, which re-raises the error
from the branch by a Fail state: ``"<branch> in <group> (re-raise)"`` (``ErrorPath $.Error``,
``CausePath $.Cause``) or, for an error without a cause, ``"... (re-raise, no cause)"``
(``ErrorPath`` only; a ``CausePath`` finding nothing would be ``States.Runtime``). The
``Parallel`` then fails with the step's own error and cause, Step Functions stops the
siblings, and the group's own fail-fast catcher (before its ``compensate_on`` catcher) takes
it to the saga's fail-fast state: no compensation runs, and the execution ends with exactly
the error and cause a plain step's ``fail_fast_on`` gives. The records of branches that ended
before are dropped with the ``Parallel``'s output, as nothing is undone.

In the unwind, each compensation of a step of ``G`` sits behind a Choice
``"<step> (if done)"`` that skips it when the step's branch record lists it under ``notRun``
(``IsPresent $.g.records[i].notRun.<step>``): a failed branch lists the steps after the
failed one, and the failed step itself when the group has ``compensate_self=False``. After
success ``$.g`` holds the group's result, which has no ``records``, so a later unit's failure
undoes every step of ``G``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.model import (
    Branch,
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    ParallelState,
    PassState,
    State,
)
from saga.steps import Step, Unset, camel_case
from saga.task_states import flow, task_states
from saga.templates import compile_template

if TYPE_CHECKING:
    from saga.parallel import GroupBranch, ParallelGroup

__all__ = ["group_states", "not_run_path", "record_names", "result_shape"]

_DONE = "done"
_FAILED = "failed"
_RECORDS = "records"
_NOT_RUN = "notRun"


def _fail_fast_state(group: ParallelGroup, branch: GroupBranch) -> str:
    return f"{branch.name} in {group.name} (fail fast)"


def _reraise_state(group: ParallelGroup, branch: GroupBranch, *, cause: bool) -> str:
    suffix = "re-raise" if cause else "re-raise, no cause"
    return f"{branch.name} in {group.name} ({suffix})"


def _failed_state(step: Step) -> str:
    return f"{step.name} (failed)"


def _done_state(branch: GroupBranch) -> str:
    return f"{branch.steps[-1].name} (done)"


def _any_failed_state(group: ParallelGroup) -> str:
    return f"{group.name} (any failed?)"


def _record_state(group: ParallelGroup) -> str:
    return f"{group.name} (record error)"


def _result_state(group: ParallelGroup) -> str:
    return f"{group.name} (result)"


def record_names(group: ParallelGroup) -> list[str]:
    """Every state name ``group`` adds besides its steps (checked against the saga's names)."""
    names = [_any_failed_state(group), _record_state(group), _result_state(group)]
    names += [_done_state(branch) for branch in group.branches]
    names += [_failed_state(step) for step in group.steps]
    if group.fail_fast_on:
        for branch in group.branches:
            names.append(_fail_fast_state(group, branch))
            names += [_reraise_state(group, branch, cause=c) for c in (True, False)]
    return names


def _records_path(group: ParallelGroup) -> str:
    assert group.result_path is not None
    return group.result_path.rstrip(".")


def not_run_path(group: ParallelGroup, step: Step) -> str:
    """Where the record of ``step``'s branch lists ``step`` when its compensation must not
    run (the branch failed before it, or at it with ``compensate_self=False``)."""
    index = next(i for i, branch in enumerate(group.branches) if step in branch.steps)
    return f"{_records_path(group)}.{_RECORDS}[{index}].{_NOT_RUN}.{camel_case(step.name)}"


def _branch(group: ParallelGroup, branch: GroupBranch) -> Branch:
    states: dict[str, State] = {}
    steps = branch.steps
    for position, step in enumerate(steps):
        after = steps[position + 1].name if position + 1 < len(steps) else _done_state(branch)
        catchers: list[Catcher] = []
        if group.fail_fast_on:
            catchers.append(
                Catcher(
                    error_equals=list(group.fail_fast_on),
                    result_path="$",
                    next=_fail_fast_state(group, branch),
                )
            )
        if group.compensate_on:
            catchers.append(
                Catcher(
                    error_equals=list(group.compensate_on),
                    result_path="$",
                    next=_failed_state(step),
                )
            )
        states.update(task_states(step, after, catchers))
        if group.compensate_on:
            skipped = steps[position + 1 :] if group.compensate_self else steps[position:]
            not_run = {camel_case(s.name): True for s in skipped if s.compensation is not None}
            states[_failed_state(step)] = PassState(
                type="Pass", parameters={f"{_FAILED}.$": "$", _NOT_RUN: not_run}, end=True
            )
    states[_done_state(branch)] = PassState(type="Pass", parameters={f"{_DONE}.$": "$"}, end=True)
    if group.fail_fast_on:
        states.update(_reraise_states(group, branch))
    return Branch(start_at=steps[0].name, states=states)


def _reraise_states(group: ParallelGroup, branch: GroupBranch) -> dict[str, State]:
    """The states re-raising a ``fail_fast_on`` error from ``branch`` as it was caught."""
    with_cause = _reraise_state(group, branch, cause=True)
    without_cause = _reraise_state(group, branch, cause=False)
    return {
        _fail_fast_state(group, branch): ChoiceState(
            type="Choice",
            choices=[ChoiceRule(variable="$.Cause", is_present=True, next=with_cause)],
            default=without_cause,
        ),
        with_cause: FailState(type="Fail", error_path="$.Error", cause_path="$.Cause"),
        without_cause: FailState(type="Fail", error_path="$.Error"),
    }


def group_states(
    group: ParallelGroup,
    following: str | None,
    catchers: Sequence[Catcher],
    result_shape: dict[str, Any] | None,
    unwind_entry: str,
) -> dict[str, State]:
    """The states of ``group`` (see the module docstring).

    ``following`` is the next unit (None: the group ends the execution); ``catchers`` catch a
    failure of the ``Parallel`` itself; ``result_shape`` is the ``Parameters`` turning the
    branches' outputs into the group's result (None: their list); ``unwind_entry`` is where a
    failed branch leads.
    """
    records = _records_path(group)
    fields: dict[str, Any] = {
        "type": "Parallel",
        "branches": [_branch(group, branch) for branch in group.branches],
        "result_selector": {
            f"{_RECORDS}.$": "$",
            f"{_DONE}.$": f"$[*].{_DONE}",
            f"{_FAILED}.$": f"$[*].{_FAILED}",
        },
        "result_path": group.result_path,
    }
    if group.comment is not None:
        fields["comment"] = group.comment
    if not isinstance(group.input_path, Unset):
        fields["input_path"] = group.input_path
    if not isinstance(group.parameters, Unset):
        fields["parameters"] = compile_template(group.parameters)
    if catchers:
        fields["catch"] = list(catchers)
    states: dict[str, State] = {}
    if group.compensate_on:
        fields["next"] = _any_failed_state(group)
        states[group.name] = ParallelState(**fields)
        states[_any_failed_state(group)] = ChoiceState(
            type="Choice",
            choices=[
                ChoiceRule(
                    variable=f"{records}.{_FAILED}[0]", is_present=True, next=_record_state(group)
                )
            ],
            default=_result_state(group),
        )
        states[_record_state(group)] = PassState(
            type="Pass",
            input_path=f"{records}.{_FAILED}[0]",
            result_path=group.error_path,
            next=unwind_entry,
        )
    else:
        fields["next"] = _result_state(group)
        states[group.name] = ParallelState(**fields)
    result: dict[str, Any] = {
        "type": "Pass",
        "input_path": f"{records}.{_DONE}",
        "result_path": group.result_path,
    }
    if result_shape is not None:
        result["parameters"] = result_shape
    flow(result, following)
    states[_result_state(group)] = PassState(**result)
    return states


def result_shape(group: ParallelGroup, by_branch: dict[str, Any]) -> dict[str, Any] | None:
    """The group's result shape: its ``result_selector``, else keyed by branch."""
    if not isinstance(group.result_selector, Unset):
        shape = compile_template(group.result_selector)
        assert isinstance(shape, dict)
        return shape
    return by_branch if group.named_branches else None
