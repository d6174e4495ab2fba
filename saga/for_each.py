"""The :class:`ForEach` group: steps run once per item of a list, each item undone on failure.

Declaring::

    seats = booking.for_each("Reserve Seats", items_path="$.passengers", max_concurrency=2)

    @seats.step("Reserve Seat")
    def reserve_seat(event: dict[str, Any]) -> dict[str, Any]: ...   # event["item"]

    @reserve_seat.compensate("Release Seat")
    def release_seat(event: dict[str, Any]) -> None: ...             # event["reserveSeat"]

compiles (see :mod:`saga.compile_for_each`) to a ``Map`` whose item processor runs the steps
in order and records what the item did in the item's own output — and, after it, to an undo
``Map`` that compensates each item's completed steps in reverse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypedDict, TypeVar

from saga.errors import SagaDefinitionError
from saga.steps import (
    MAX_NAME_LENGTH,
    UNSET,
    Role,
    Step,
    StepAdder,
    Unset,
    camel_case,
    new_step,
    path_problems,
)
from saga.templates import Template, template_problems

if TYPE_CHECKING:
    from saga.declaration import SagaDeclaration

__all__ = ["ITEM_ERROR_KEY", "ITEM_INDEX_KEY", "ITEM_KEY", "ForEach", "ForEachOptions"]

P = ParamSpec("P")
R = TypeVar("R")

ITEM_KEY: Final = "item"
"""The field of an item's input holding the list element."""
ITEM_INDEX_KEY: Final = "index"
"""The field of an item's input holding the element's position in the list."""
ITEM_ERROR_KEY: Final = "error"
"""The field of an item's record holding its failure (``{"Error", "Cause"}``)."""
_RESERVED: Final = frozenset({ITEM_KEY, ITEM_INDEX_KEY, ITEM_ERROR_KEY})


class ForEachOptions(TypedDict, total=False):
    """Options of a for-each group (a ``Map`` state)."""

    items_path: str
    max_concurrency: int
    item_fields: Template
    result_path: str
    comment: str


_KEYS: Final = frozenset(ForEachOptions.__annotations__)


class ForEach(StepAdder):
    """Steps run in order for each element of a list (``ItemsPath``), compiled to a ``Map``.

    Each item's input is ``{"item": <element>, "index": <position>, **item_fields}``; every
    step stores its result in it at ``$.<stepNameInCamelCase>`` (its ``result_path``), so the
    item's output is the record of what it did. A step's failure (after its retries) is caught
    inside the item and recorded at ``$.error``: the item stops, the others run to their end.
    The group's result (at ``result_path``, default ``$.<groupName>``) is ``{"items": [the
    records, in list order], "failed": [the errors of the failed items]}``. When an item
    failed, the saga records the first error at its ``error_path`` and unwinds: every item's
    completed steps are compensated in reverse (items in list order), then the units before
    the group. When a later unit fails, every item is undone the same way.
    """

    _step_role: Role = "item step"

    def __init__(self, saga: SagaDeclaration, name: str, options: Mapping[str, Any]) -> None:
        self.saga = saga
        self.name = name
        self.steps: list[Step] = []
        self.items_path: str = options.get("items_path", "$")
        self.max_concurrency: int = options.get("max_concurrency", 0)
        self.item_fields: Template | Unset = options.get("item_fields", UNSET)
        self.result_path_is_default = "result_path" not in options
        self.result_path: str = options.get("result_path", f"$.{camel_case(name)}")
        self.error_path: str | None = saga.error_path
        self.comment: str | None = options.get("comment")
        # the Unit interface shared with steps and parallel groups
        self.compensate_on: tuple[str, ...] = ("States.ALL",)
        self.fail_fast_on: tuple[str, ...] = ()
        self.compensate_self = True
        self.retry: tuple[()] = ()
        self.parameters: Unset = UNSET
        self.result_selector: Unset = UNSET
        self._check(options)

    @property
    def label(self) -> str:
        """How messages refer to this group."""
        return f"for-each group {self.name!r}"

    # Names of the states the group compiles to besides its steps and compensations.
    @property
    def check_state(self) -> str:
        """The Choice after the Map that asks whether an item failed."""
        return f"{self.name} (any failed?)"

    @property
    def record_state(self) -> str:
        """The Pass that records the first item's error at the saga's ``error_path``."""
        return f"{self.name} (record error)"

    @property
    def item_failed_state(self) -> str:
        """The Pass ending a failed item (its record carries the error)."""
        return f"{self.name} (item failed)"

    @property
    def undo_state(self) -> str:
        """The Map that compensates every item's completed steps."""
        return f"Undo {self.name}"

    @property
    def item_undone_state(self) -> str:
        """The Pass ending an item's undo."""
        return f"{self.name} (item undone)"

    @property
    def done_state(self) -> str:
        """The Pass ending the execution after the group when no unit follows it."""
        return f"{self.name} (done)"

    @staticmethod
    def if_done_state(step: Step) -> str:
        """The Choice that runs ``step``'s compensation only if the item completed ``step``."""
        return f"{step.name} (if done)"

    def generated_states(self) -> list[str]:
        """Every state name the group adds (checked against the saga's names)."""
        names = [
            self.check_state,
            self.record_state,
            self.item_failed_state,
            self.undo_state,
            self.item_undone_state,
            self.done_state,
        ]
        return names + [self.if_done_state(s) for s in self.steps if s.compensation is not None]

    def _check(self, options: Mapping[str, Any]) -> None:
        problems: list[str] = []
        for key in options:
            if key not in _KEYS:
                problems.append(f"unknown option {key!r}; use one of {', '.join(sorted(_KEYS))}")
        if not isinstance(self.items_path, str):
            problems.append(f"items_path is {self.items_path!r}; use a JSONPath such as '$.legs'")
        else:
            problems += path_problems("items_path", self.items_path, result=False)
        concurrency = self.max_concurrency
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 0:
            problems.append(
                f"max_concurrency is {concurrency!r}; use a whole number, 0 for no limit"
            )
        if self.result_path is None:
            problems.append(
                "result_path is None; the group's records are what the unwind reads, give a path"
            )
        else:
            problems += path_problems("result_path", self.result_path, result=True)
        if not isinstance(self.item_fields, Unset):
            if not isinstance(self.item_fields, Mapping):
                problems.append("item_fields must be a JSON object (a dict)")
            else:
                clash = sorted(
                    key for key in self.item_fields if key.removesuffix(".$") in _RESERVED
                )
                if clash:
                    problems.append(
                        f"item_fields sets {', '.join(map(repr, clash))}, which each item's "
                        f"input already holds ({', '.join(sorted(_RESERVED))}); rename it"
                    )
                problems += template_problems(self.item_fields, "item_fields")
        if self.comment is not None and not isinstance(self.comment, str):
            problems.append("comment must be a string")
        if problems:
            raise SagaDefinitionError(f"{self.label}: {'; '.join(problems)}", step=self.name)

    def _add_step(self, name: str, action: object, options: Mapping[str, Any]) -> Step:
        """A step run for each item, after the group's earlier steps; its compensation
        (``step.compensate(...)``) undoes it per item."""
        step = new_step(self.saga, name, "item step", action, options)
        if step.result_path is None:
            raise SagaDefinitionError(
                f"{step.label}: result_path=None would leave no record that the item "
                "completed it, so it could not be undone; give it a result path",
                step=name,
            )
        key = step.result_path.removeprefix("$.")
        if key in _RESERVED or step.result_path.strip() == "$":
            raise SagaDefinitionError(
                f"{step.label}: its result path {step.result_path} is where each item holds "
                f"its {'whole record' if key == '$' else key}; give it another result_path",
                step=name,
            )
        step.group = self
        self.saga._register(step)
        self.steps.append(step)
        return step

    def __repr__(self) -> str:
        return f"<ForEach {self.name!r}: {[s.name for s in self.steps]}>"


def check_length(group: ForEach) -> list[str]:
    """Generated names longer than Step Functions allows."""
    return [
        f"the state {name!r} it adds is {len(name)} characters long; shorten the name to fit "
        f"in {MAX_NAME_LENGTH}"
        for name in group.generated_states()
        if len(name) > MAX_NAME_LENGTH
    ]
