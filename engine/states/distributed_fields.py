"""A distributed Map's fields, read in the state's query language.

JSONPath: ``InputPath`` first, then ``ItemsPath``, ``Parameters`` payload templates
(``ItemReader``, ``ItemSelector``, ``BatchInput``, ``ResultWriter``), ``…Path`` twins of the
number fields, and ``ResultSelector``/``Assign`` on the result. JSONata: the raw input,
``Items``, ``Arguments``, ``{% … %}`` expressions anywhere in those and in the number fields
(``MaxConcurrency``, ``ToleratedFailure…``, ``ReaderConfig.MaxItems``, ``MaxItemsPerBatch``,
``MaxInputBytesPerBatch``), ``$states.context.Map.Item`` in ``ItemSelector``, and
``Assign``/``Output`` with ``$states.result``. Both hand the run the same plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.distributed.readers import ITEM_READER_FAILED
from engine.errors import (
    RUNTIME,
    StatesError,
    items_not_an_array,
    negative_tolerated_failure_count,
    path_value_invalid,
)
from engine.expressions import QueryEvaluationError, evaluate_template
from engine.interpreter.context import StateContext
from engine.interpreter.dataflow import apply_input_path, apply_result_selector, evaluate_assign
from engine.interpreter.jsonata_dataflow import (
    evaluate_field,
    evaluation_failed,
    expected_type,
    jsonata_assign_and_output,
    jsonata_items,
    jsonata_number,
    states_variable,
)
from engine.model import MapState
from engine.paths import PathNotFound, evaluate_path
from engine.payload_templates import apply_payload_template

__all__ = ["DeferredQueryError", "DistributedFields", "distributed_fields"]


def _non_negative(value: Any, field: str, error: str = RUNTIME) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StatesError(error, f"field {field} must be positive")
    return value


def _digits_as_integer(value: Any) -> Any:
    """A value read through a ``…Path`` field: AWS reads a string of digits as its integer."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


class DeferredQueryError(StatesError):
    """An ``ItemSelector`` expression failed off the event loop; :meth:`record` logs it."""

    def __init__(self, ctx: StateContext, error: QueryEvaluationError) -> None:
        super().__init__(error.error, error.cause)
        self._ctx = ctx
        self._error = error

    def record(self) -> StatesError:
        """Record ``EvaluationFailed`` and return the error the Map fails with."""
        return evaluation_failed(self._ctx, self._error.cause or "", self._error.location)


class DistributedFields:
    """The JSONPath reading of a distributed Map's fields (the JSONata one overrides)."""

    def __init__(self, ctx: StateContext, state: MapState, raw: Any) -> None:
        self.ctx = ctx
        self.state = state
        self.raw = raw
        self.effective = self._effective()

    def _effective(self) -> Any:
        return apply_input_path(self.ctx, self.state, self.raw)

    def _path(self, path: str) -> Any:
        ctx = self.ctx
        return evaluate_path(path, self.effective, ctx.context, ctx.variables)

    def _template(self, template: Any, field: str, context: Any = None) -> Any:
        ctx = self.ctx
        return apply_payload_template(
            template,
            self.effective,
            ctx.context if context is None else context,
            ctx.variables,
            field=field,
            rng=ctx.runtime.rng,
        )

    def _field(self, spec: Mapping[str, Any], name: str) -> Any:
        """A literal field, or its ``…Path`` twin evaluated on the input (None when neither);
        a string of digits read through the path is its integer, as AWS reads it."""
        path = spec.get(f"{name}Path")
        if isinstance(path, str):
            try:
                return _digits_as_integer(self._path(path))
            except PathNotFound as exc:
                raise StatesError(RUNTIME, exc.cause) from None
        return spec.get(name)

    def concurrency(self) -> int:
        """``MaxConcurrency`` (0: no bound)."""
        state = self.state
        value: Any = state.max_concurrency
        if state.max_concurrency_path is not None:
            value = _digits_as_integer(self._path(state.max_concurrency_path))
            if isinstance(value, bool) or not isinstance(value, int):
                raise path_value_invalid("MaxConcurrency", value, state.max_concurrency_path)
        return _non_negative(value, "MaxConcurrency") if value is not None else 0

    def tolerance(self) -> tuple[int, float]:
        """``ToleratedFailureCount`` and ``ToleratedFailurePercentage`` (0 when absent)."""
        state = self.state
        count: Any = state.tolerated_failure_count
        if state.tolerated_failure_count_path is not None:
            count = _digits_as_integer(self._path(state.tolerated_failure_count_path))
            if isinstance(count, bool) or not isinstance(count, int):
                raise path_value_invalid(
                    "ToleratedFailureCount", count, state.tolerated_failure_count_path
                )
            if count < 0:
                raise negative_tolerated_failure_count()
        percentage: Any = state.tolerated_failure_percentage
        if state.tolerated_failure_percentage_path is not None:
            percentage = _digits_as_integer(self._path(state.tolerated_failure_percentage_path))
            if isinstance(percentage, bool) or not isinstance(percentage, int | float):
                raise path_value_invalid(
                    "ToleratedFailurePercentage",
                    percentage,
                    state.tolerated_failure_percentage_path,
                    "float",
                )
        tolerated = _non_negative(count, "ToleratedFailureCount") if count is not None else 0
        if percentage is None:
            return tolerated, 0.0
        if isinstance(percentage, bool) or not isinstance(percentage, int | float):
            raise StatesError(RUNTIME, "ToleratedFailurePercentage must be a number.")
        if not 0 <= percentage <= 100:
            raise StatesError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
        return tolerated, float(percentage)

    def items(self) -> list[Any]:
        """The items of a Map without ``ItemReader``."""
        path = self.state.items_path
        items = self.effective if path is None or path == "$" else self._path(path)
        if not isinstance(items, list):
            raise items_not_an_array(path)
        return items

    def reader_parameters(self, reader: Mapping[str, Any]) -> Any:
        """What ``ItemReader`` passes to S3."""
        return self._template(reader.get("Parameters", {}), "ItemReader.Parameters")

    def max_items(self, config: Mapping[str, Any]) -> int:
        """``ReaderConfig.MaxItems`` (0: no limit)."""
        value = self._field(config, "MaxItems")
        return _non_negative(value, "MaxItems", ITEM_READER_FAILED) if value else 0

    def select(self, selector: Any, index: int, value: Any) -> Any:
        """``ItemSelector`` applied to item ``index``."""
        context = self.ctx.map_item_context(index, value)
        return self._template(selector, "ItemSelector", context)

    def batch_input(self, template: Any) -> Any:
        """``ItemBatcher.BatchInput``."""
        return self._template(template, "ItemBatcher.BatchInput")

    def batch_limit(self, batcher: Mapping[str, Any], name: str) -> int:
        """``MaxItemsPerBatch`` or ``MaxInputBytesPerBatch`` (0: no limit)."""
        value = self._field(batcher, name)
        return _non_negative(value, name) if value else 0

    def writer_parameters(self, writer: Mapping[str, Any]) -> Any:
        """What ``ResultWriter`` passes to S3."""
        parameters = writer.get("Parameters")
        return {} if parameters is None else self._template(parameters, "ResultWriter.Parameters")

    def finish(self, output: Any) -> Any:
        """The state's result from the Map's output (``Assign``, then ``ResultSelector``)."""
        evaluate_assign(self.ctx, self.state.assign, output)
        return apply_result_selector(self.ctx, self.state, output)


class _JsonataFields(DistributedFields):
    """The JSONata reading: ``Items``, ``Arguments`` and ``{% … %}`` expressions."""

    def _effective(self) -> Any:
        return self.raw

    def _evaluate(self, template: Any, field: str, expected: str, ok: type) -> Any:
        value = evaluate_field(self.ctx, template, field, states_variable(self.ctx, self.raw))
        expected_type(self.ctx, template, value, field, expected, ok=isinstance(value, ok))
        return value

    def _integer(self, value: Any, field: str) -> int:
        return int(jsonata_number(self.ctx, value, field, self.raw, None) or 0)

    def concurrency(self) -> int:
        return self._integer(self.state.max_concurrency, "MaxConcurrency")

    def tolerance(self) -> tuple[int, float]:
        state = self.state
        count = self._integer(state.tolerated_failure_count, "ToleratedFailureCount")
        percentage = jsonata_number(
            self.ctx,
            state.tolerated_failure_percentage,
            "ToleratedFailurePercentage",
            self.raw,
            100,
        )
        return count, float(percentage or 0)

    def items(self) -> list[Any]:
        return jsonata_items(self.ctx, self.state, self.raw)

    def reader_parameters(self, reader: Mapping[str, Any]) -> Any:
        return self._evaluate(reader.get("Arguments", {}), "ItemReader.Arguments", "object", dict)

    def max_items(self, config: Mapping[str, Any]) -> int:
        return self._integer(config.get("MaxItems"), "ItemReader.ReaderConfig.MaxItems")

    def select(self, selector: Any, index: int, value: Any) -> Any:
        # Items may be selected in a worker thread (S3 reads): the failure is recorded in the
        # history later, from the event loop (DeferredQueryError.record).
        ctx = self.ctx
        states = states_variable(ctx, self.raw)
        states["context"] = ctx.map_item_context(index, value)
        bindings = {**ctx.variables, "states": states}
        try:
            return evaluate_template(selector, "ItemSelector", bindings, ctx.runtime.rng)
        except QueryEvaluationError as exc:
            raise DeferredQueryError(ctx, exc) from None

    def batch_input(self, template: Any) -> Any:
        return self._evaluate(template, "ItemBatcher.BatchInput", "object", dict)

    def batch_limit(self, batcher: Mapping[str, Any], name: str) -> int:
        return self._integer(batcher.get(name), f"ItemBatcher.{name}")

    def writer_parameters(self, writer: Mapping[str, Any]) -> Any:
        arguments = writer.get("Arguments")
        if arguments is None:
            return {}
        return self._evaluate(arguments, "ResultWriter.Arguments", "object", dict)

    def finish(self, output: Any) -> Any:
        states = states_variable(self.ctx, self.raw, result=output)
        return jsonata_assign_and_output(self.ctx, self.state, states, output)


def distributed_fields(ctx: StateContext, state: MapState, raw: Any) -> DistributedFields:
    """The fields of ``state`` for this attempt, read in its query language."""
    return _JsonataFields(ctx, state, raw) if ctx.jsonata else DistributedFields(ctx, state, raw)
