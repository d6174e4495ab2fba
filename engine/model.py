"""Pydantic models of the Amazon States Language, JSONPath and JSONata fields alike.

Every model keeps exactly the fields the source set, so dumping a loaded definition gives
back the same JSON object: no defaults injected, explicit ``null`` kept, integers kept.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal

if TYPE_CHECKING:
    from engine.diagnostics import Diagnostic

__all__ = [
    "Branch",
    "Catcher",
    "ChoiceRule",
    "ChoiceState",
    "FailState",
    "ItemProcessor",
    "MapState",
    "ParallelState",
    "PassState",
    "ProcessorConfig",
    "Retrier",
    "State",
    "StateMachine",
    "SucceedState",
    "TaskState",
    "WaitState",
    "Number",
]

Number = int | float
"""A JSON number; ``int`` first so integers stay integers through a round trip."""


class _AslModel(BaseModel):
    """Base for every ASL object: PascalCase aliases, unknown fields rejected, strict types."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        extra="forbid",
        strict=True,
        validate_assignment=False,
        revalidate_instances="never",
    )

    def to_dict(self) -> dict[str, Any]:
        """The ASL JSON object, holding only the fields that were set."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class Retrier(_AslModel):
    """One entry of a state's ``Retry`` array."""

    error_equals: list[str]
    interval_seconds: int | None = None
    max_attempts: int | None = None
    backoff_rate: Number | None = None
    max_delay_seconds: int | None = None
    jitter_strategy: str | None = None
    comment: str | None = None


class Catcher(_AslModel):
    """One entry of a state's ``Catch`` array."""

    error_equals: list[str]
    next: str
    result_path: str | None = None
    assign: dict[str, Any] | None = None
    output: Any = None
    comment: str | None = None


class ChoiceRule(_AslModel):
    """A Choice rule: a boolean combination (``And``/``Or``/``Not``) or a data test.

    Top-level rules carry ``Next``; nested rules must not. Which operator is set is
    checked by the validator, so a malformed rule still loads and is reported in full.
    """

    next: str | None = None
    comment: str | None = None
    assign: dict[str, Any] | None = None
    output: Any = None
    condition: Any = None
    variable: str | None = None
    and_: list[ChoiceRule] | None = Field(default=None, alias="And")
    or_: list[ChoiceRule] | None = Field(default=None, alias="Or")
    not_: ChoiceRule | None = Field(default=None, alias="Not")
    string_equals: str | None = None
    string_equals_path: str | None = None
    string_less_than: str | None = None
    string_less_than_path: str | None = None
    string_greater_than: str | None = None
    string_greater_than_path: str | None = None
    string_less_than_equals: str | None = None
    string_less_than_equals_path: str | None = None
    string_greater_than_equals: str | None = None
    string_greater_than_equals_path: str | None = None
    string_matches: str | None = None
    numeric_equals: Number | None = None
    numeric_equals_path: str | None = None
    numeric_less_than: Number | None = None
    numeric_less_than_path: str | None = None
    numeric_greater_than: Number | None = None
    numeric_greater_than_path: str | None = None
    numeric_less_than_equals: Number | None = None
    numeric_less_than_equals_path: str | None = None
    numeric_greater_than_equals: Number | None = None
    numeric_greater_than_equals_path: str | None = None
    boolean_equals: bool | None = None
    boolean_equals_path: str | None = None
    timestamp_equals: str | None = None
    timestamp_equals_path: str | None = None
    timestamp_less_than: str | None = None
    timestamp_less_than_path: str | None = None
    timestamp_greater_than: str | None = None
    timestamp_greater_than_path: str | None = None
    timestamp_less_than_equals: str | None = None
    timestamp_less_than_equals_path: str | None = None
    timestamp_greater_than_equals: str | None = None
    timestamp_greater_than_equals_path: str | None = None
    is_null: bool | None = None
    is_present: bool | None = None
    is_numeric: bool | None = None
    is_string: bool | None = None
    is_boolean: bool | None = None
    is_timestamp: bool | None = None

    def operators(self) -> dict[str, Any]:
        """The comparison operators set on this rule, by ASL name (``StringEquals`` …)."""
        return {
            name: value for name, value in self.to_dict().items() if name not in _RULE_NON_OPERATORS
        }


_RULE_NON_OPERATORS = frozenset(
    {"Next", "Comment", "Assign", "Output", "Condition", "Variable", "And", "Or", "Not"}
)
CHOICE_OPERATORS: tuple[str, ...] = tuple(
    info.alias
    for name, info in ChoiceRule.model_fields.items()
    if info.alias is not None and info.alias not in _RULE_NON_OPERATORS
)
"""Every data-test comparison operator name, in ASL spelling."""


class _StateBase(_AslModel):
    comment: str | None = None
    query_language: str | None = None


class _Flow(_AslModel):
    next: str | None = None
    end: bool | None = None


class PassState(_StateBase, _Flow):
    """``Type: Pass`` — passes its input (or ``Result``) to its output."""

    type: Literal["Pass"]
    input_path: str | None = None
    output_path: str | None = None
    parameters: Any = None
    result: Any = None
    result_path: str | None = None
    assign: dict[str, Any] | None = None
    output: Any = None


class TaskState(_StateBase, _Flow):
    """``Type: Task`` — runs the work named by ``Resource``."""

    type: Literal["Task"]
    resource: str
    input_path: str | None = None
    output_path: str | None = None
    parameters: Any = None
    result_selector: Any = None
    result_path: str | None = None
    retry: list[Retrier] | None = None
    catch: list[Catcher] | None = None
    timeout_seconds: int | str | None = None
    timeout_seconds_path: str | None = None
    heartbeat_seconds: int | str | None = None
    heartbeat_seconds_path: str | None = None
    credentials: Any = None
    assign: dict[str, Any] | None = None
    arguments: Any = None
    output: Any = None


class ChoiceState(_StateBase):
    """``Type: Choice`` — branches on the first matching rule."""

    type: Literal["Choice"]
    choices: list[ChoiceRule]
    default: str | None = None
    input_path: str | None = None
    output_path: str | None = None
    assign: dict[str, Any] | None = None
    output: Any = None


class WaitState(_StateBase, _Flow):
    """``Type: Wait`` — delays for a time or until a timestamp."""

    type: Literal["Wait"]
    seconds: int | str | None = None
    timestamp: str | None = None
    seconds_path: str | None = None
    timestamp_path: str | None = None
    input_path: str | None = None
    output_path: str | None = None
    assign: dict[str, Any] | None = None
    output: Any = None


class SucceedState(_StateBase):
    """``Type: Succeed`` — ends the execution (or branch) successfully."""

    type: Literal["Succeed"]
    input_path: str | None = None
    output_path: str | None = None
    output: Any = None


class FailState(_StateBase):
    """``Type: Fail`` — ends the execution (or branch) with ``Error`` and ``Cause``."""

    type: Literal["Fail"]
    error: str | None = None
    cause: str | None = None
    error_path: str | None = None
    cause_path: str | None = None


class Branch(_AslModel):
    """A closed sub-machine: one Parallel branch."""

    start_at: str
    states: dict[str, State]
    comment: str | None = None
    query_language: str | None = None


class ProcessorConfig(_AslModel):
    """``ItemProcessor.ProcessorConfig`` (``Mode`` INLINE or DISTRIBUTED)."""

    mode: str | None = None
    execution_type: str | None = None


class ItemProcessor(_AslModel):
    """The sub-machine a Map state runs per item (``ItemProcessor`` or legacy ``Iterator``)."""

    start_at: str
    states: dict[str, State]
    comment: str | None = None
    processor_config: ProcessorConfig | None = None
    query_language: str | None = None


class ParallelState(_StateBase, _Flow):
    """``Type: Parallel`` — runs every branch on the same input."""

    type: Literal["Parallel"]
    branches: list[Branch]
    input_path: str | None = None
    output_path: str | None = None
    parameters: Any = None
    result_selector: Any = None
    result_path: str | None = None
    retry: list[Retrier] | None = None
    catch: list[Catcher] | None = None
    assign: dict[str, Any] | None = None
    arguments: Any = None
    output: Any = None


class MapState(_StateBase, _Flow):
    """``Type: Map`` — runs its item processor for each element of an array."""

    type: Literal["Map"]
    item_processor: ItemProcessor | None = None
    iterator: ItemProcessor | None = None
    items_path: str | None = None
    items: Any = None
    item_selector: Any = None
    parameters: Any = None
    max_concurrency: int | str | None = None
    max_concurrency_path: str | None = None
    input_path: str | None = None
    output_path: str | None = None
    result_selector: Any = None
    result_path: str | None = None
    retry: list[Retrier] | None = None
    catch: list[Catcher] | None = None
    assign: dict[str, Any] | None = None
    output: Any = None
    tolerated_failure_count: int | str | None = None
    tolerated_failure_count_path: str | None = None
    tolerated_failure_percentage: Number | str | None = None
    tolerated_failure_percentage_path: str | None = None
    item_reader: dict[str, Any] | None = None
    item_batcher: dict[str, Any] | None = None
    result_writer: dict[str, Any] | None = None
    label: str | None = None

    @property
    def processor(self) -> ItemProcessor:
        """The item processor, whichever of ``ItemProcessor``/``Iterator`` holds it."""
        processor = self.item_processor or self.iterator
        if processor is None:
            raise ValueError("Map state has neither ItemProcessor nor Iterator")
        return processor

    @property
    def is_distributed(self) -> bool:
        """True for a distributed-mode Map (each item a child execution)."""
        config = self.processor.processor_config if (self.item_processor or self.iterator) else None
        return config is not None and config.mode == "DISTRIBUTED"


State = Annotated[
    PassState
    | TaskState
    | ChoiceState
    | WaitState
    | SucceedState
    | FailState
    | ParallelState
    | MapState,
    Field(discriminator="type"),
]
"""Any state, selected by its ``Type`` field."""


class StateMachine(_AslModel):
    """A whole ASL definition."""

    comment: str | None = None
    start_at: str
    states: dict[str, State]
    version: str | None = None
    timeout_seconds: int | None = None
    query_language: str | None = None

    def to_json(self, *, indent: int | None = 2) -> str:
        """The definition as JSON text (fields in model order; see ``asl_export`` for rendering)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def validate(self) -> list[Diagnostic]:  # type: ignore[override]
        """Every diagnostic (errors and warnings) of the schema and graph checks."""
        from engine.validate import validate_machine

        return validate_machine(self)


Branch.model_rebuild()
ItemProcessor.model_rebuild()
ChoiceRule.model_rebuild()
StateMachine.model_rebuild()
