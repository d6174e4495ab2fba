"""Parallel groups of a saga: steps (or branches of several steps) run side by side.

A group compiles to a ``Parallel`` state with one branch per step or per :meth:`branch
<ParallelGroup.branch>`; see :mod:`saga.compile` and :mod:`saga.compile_branches` for the shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypedDict

from saga.errors import SagaDefinitionError
from saga.policies import ErrorSpec, Retry, error_names
from saga.steps import (
    ALL,
    UNSET,
    Role,
    Step,
    StepAdder,
    Unset,
    camel_case,
    catch_problems,
    new_step,
    path_problems,
    retry_list_problems,
    retry_tuple,
    template_option_problems,
)
from saga.templates import Template

if TYPE_CHECKING:
    from saga.declaration import SagaDeclaration

__all__ = ["GroupBranch", "GroupOptions", "ParallelGroup"]


class GroupOptions(TypedDict, total=False):
    """Options of a parallel group (a ``Parallel`` state)."""

    retry: Sequence[Retry]
    input_path: str | None
    parameters: Template
    result_selector: Template
    result_path: str | None
    error_path: str | None
    compensate_on: Sequence[ErrorSpec]
    fail_fast_on: Sequence[ErrorSpec]
    compensate_self: bool
    comment: str


_GROUP_KEYS: Final = frozenset(GroupOptions.__annotations__)


class ParallelGroup(StepAdder):
    """Steps run side by side in a ``Parallel`` state (one branch per step).

    The group is one forward unit of the saga: it succeeds when every step succeeds and its
    result (at ``result_path``, default ``$.<groupName>``) is the list of the steps' results in
    declaration order. When any step fails (after its own retries) the others are stopped and
    the group fails with that step's error; since a stopped step's effect may have landed, the
    unwind starts with the compensations of *every* step of the group (in reverse declaration
    order) — ``compensate_self=False`` skips them. ``retry`` on the group re-runs every step.

    With a branch of several steps (:meth:`branch`), each branch catches its own failure and
    keeps the record of what it did; the siblings run on to their end, and the unwind
    compensates, branch by branch (the last first), each branch's completed steps in reverse,
    plus the failed step with ``compensate_self`` (see :mod:`saga.compile_branches`). A
    ``fail_fast_on`` error in any branch is re-raised from its branch, which stops the
    siblings, and ends the saga in its fail-fast state without the unwind.
    """

    _step_role: Role = "branch step"

    def __init__(self, saga: SagaDeclaration, name: str, options: Mapping[str, Any]) -> None:
        self.saga = saga
        self.name = name
        self.branches: list[GroupBranch] = []
        self.retry: tuple[Retry, ...] = retry_tuple(options.get("retry", ()))
        self.input_path: str | Unset | None = options.get("input_path", UNSET)
        self.parameters: Template | Unset = options.get("parameters", UNSET)
        self.result_selector: Template | Unset = options.get("result_selector", UNSET)
        self.result_path_is_default = "result_path" not in options
        self.result_path: str | None = options.get("result_path", f"$.{camel_case(name)}")
        self.error_path: str | None = options.get("error_path", saga.error_path)
        self.comment: str | None = options.get("comment")
        self.compensate_self_is_default = "compensate_self" not in options
        self.compensate_self: bool = options.get("compensate_self", True)
        self._check(options)
        self.compensate_on: tuple[str, ...] = (
            tuple(error_names(options["compensate_on"])) if "compensate_on" in options else (ALL,)
        )
        self.fail_fast_on: tuple[str, ...] = tuple(error_names(options.get("fail_fast_on", ())))

    @property
    def label(self) -> str:
        """How messages refer to this group."""
        return f"parallel group {self.name!r}"

    @property
    def steps(self) -> list[Step]:
        """Every step of the group: branch by branch, each branch's steps in order."""
        return [step for branch in self.branches for step in branch.steps]

    @property
    def keeps_records(self) -> bool:
        """Whether a branch has several steps: then each branch catches its own failure and
        keeps the record of what it did, and the unwind undoes only that
        (:mod:`saga.compile_branches`)."""
        return any(len(branch.steps) > 1 for branch in self.branches)

    @property
    def named_branches(self) -> bool:
        """Whether the group was declared with :meth:`branch` (its result is keyed by branch)."""
        return any(branch.named for branch in self.branches)

    def branch(self, name: str, /) -> GroupBranch:
        """Add a branch of several steps run in order (each with its compensation); the
        group's result becomes an object keyed by each branch's name in camelCase."""
        if not isinstance(name, str) or not name.strip():
            raise SagaDefinitionError(
                f"{self.label}: branch name {name!r}; give every branch a non-empty name",
                step=self.name,
            )
        key = camel_case(name)
        if not key or any(camel_case(b.name) == key for b in self.branches):
            raise SagaDefinitionError(
                f"{self.label}: branch {name!r} has the result key {key!r} of another branch "
                "(or none); give each branch a distinct name",
                step=self.name,
            )
        added = GroupBranch(self, name, named=True)
        self.branches.append(added)
        return added

    def _check(self, options: Mapping[str, Any]) -> None:
        problems: list[str] = []
        for key in options:
            if key not in _GROUP_KEYS:
                hint = (
                    "set it on the group's steps"
                    if key in ("timeout", "heartbeat", "resource")
                    else f"use one of {', '.join(sorted(_GROUP_KEYS))}"
                )
                problems.append(f"unknown option {key!r}; {hint}")
        problems += catch_problems(
            options.get("compensate_on"), options.get("fail_fast_on"), set(options)
        )
        problems += retry_list_problems(options.get("retry", ()), None)
        problems += path_problems("input_path", self.input_path, result=False)
        problems += path_problems("result_path", self.result_path, result=True)
        problems += path_problems("error_path", self.error_path, result=True)
        problems += template_option_problems(self)
        if not isinstance(self.compensate_self, bool):
            problems.append(f"compensate_self is {self.compensate_self!r}; use True or False")
        if problems:
            raise SagaDefinitionError(f"{self.label}: {'; '.join(problems)}", step=self.name)

    def _add_step(self, name: str, action: object, options: Mapping[str, Any]) -> Step:
        """A step of its own branch (``group.step(...)``)."""
        step = new_step(self.saga, name, "branch step", action, options)
        step.group = self
        self.saga._register(step)
        self.branches.append(GroupBranch(self, name, named=False, steps=[step]))
        return step

    def __repr__(self) -> str:
        return f"<ParallelGroup {self.name!r}: {[s.name for s in self.steps]}>"


class GroupBranch(StepAdder):
    """One branch of a parallel group: its steps run in order.

    A branch made by ``group.step(...)`` holds that one step, whose result is the branch's
    output. A branch made by ``group.branch(name)`` holds the steps added with
    :meth:`step`; each stores its result at ``$.<stepNameInCamelCase>`` in the branch's state
    (its ``result_path``), and the group's result holds them under the branch's name.
    """

    _step_role: Role = "branch step"

    def __init__(
        self, group: ParallelGroup, name: str, *, named: bool, steps: list[Step] | None = None
    ) -> None:
        self.group = group
        self.name = name
        self.named = named
        self.steps: list[Step] = steps or []

    @property
    def key(self) -> str:
        """The branch's key in the group's result."""
        return camel_case(self.name)

    def _add_step(self, name: str, action: object, options: Mapping[str, Any]) -> Step:
        """The branch's next step; its result goes to ``$.<stepName>`` unless told otherwise."""
        if "result_path" not in options:
            options = {**options, "result_path": f"$.{camel_case(name)}"}
        step = new_step(self.group.saga, name, "branch step", action, options)
        step.group = self.group
        self.group.saga._register(step)
        self.steps.append(step)
        return step

    def __repr__(self) -> str:
        return f"<GroupBranch {self.name!r}: {[s.name for s in self.steps]}>"
