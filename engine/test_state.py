"""TestState, offline: one state run on one input, answered in AWS TestState's response shape.

``status`` (``SUCCEEDED``, ``FAILED``, ``RETRIABLE``, ``CAUGHT_ERROR``), ``nextState``,
``output``, ``error``, ``cause``, and with inspection level ``DEBUG``/``TRACE`` the
``inspectionData`` of each data-flow step (``input``, ``afterInputPath``, ``afterParameters``,
``result``, ``afterResultSelector``, ``afterResultPath``, ``variables``; ``afterArguments`` for a
JSONata state). JSON values are JSON
text, as the API returns them. A Task runs its bound handler or integration, or answers from a
``mock`` (``result`` or ``errorOutput``, checked against the service's API model per
``fieldValidationMode``; see :mod:`engine.test_state_request`); Map and Parallel states need a
mock, as on AWS.
``stateConfiguration`` sets the situation to test: ``retrierRetryCount`` (retries already made:
is the error retried, ``RETRIABLE``, or caught, ``CAUGHT_ERROR``?), ``errorCausedByState`` (the
state fails with that error) and, for a Map, ``mapIterationFailureCount`` (items that failed,
against its tolerated failure count or percentage) and ``mapItemReaderData`` (its
``ItemReader``'s data, instead of reading S3). A Map's item stages are reported as AWS names
them (``afterItemsPath``, ``afterItemSelector``, ``afterItemBatcher``, ``maxConcurrency``,
``toleratedFailureCount``/``Percentage``; see :mod:`engine.test_state_map`).

AWS-recorded behaviour followed here (LocalStack's TestState snapshots recorded against AWS):
a Pass state with ``Result`` reports ``result`` but no ``afterInputPath``/``afterParameters``,
and places its result into the raw input; Choice, Wait, Succeed and Fail report ``input`` and
``afterInputPath`` only; Pass, Fail and Succeed refuse a mock; Map and Parallel need one.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import anyio

from engine.bindings import Handler, TaskRequest, resolve_binding
from engine.choice import choose_next
from engine.clock import format_context_timestamp
from engine.errors import NO_CHOICE_MATCHED, StatesError
from engine.expressions import evaluate_template
from engine.local_engine import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from engine.model import (
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    State,
    TaskState,
)
from engine.paths import apply_result_path, evaluate_path
from engine.payload_templates import apply_payload_template
from engine.retry import find_catcher, find_retrier, max_attempts, retry_delay
from engine.test_state_map import inspect_map, tolerance_exceeded
from engine.test_state_request import (
    TestStateError,
    check_context,
    check_mock,
    json_arg,
    map_configuration,
    select_state,
)

__all__ = ["InspectionLevel", "TestStateError", "test_state", "test_state_async"]

InspectionLevel = Literal["INFO", "DEBUG", "TRACE"]


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _context(
    state: State, data: Any, given: Any, retry_count: int, role_arn: str | None
) -> dict[str, Any]:
    """The context object: the request's ``context`` as given, else AWS's, with the request's
    ``roleArn`` (null without one) and a ``RetryCount`` only for the state types that retry."""
    run = str(uuid.uuid4())
    now = format_context_timestamp(datetime.now(UTC).timestamp())
    prefix = f"arn:aws:states:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}"
    context: dict[str, Any] = {
        "Execution": {
            "Id": f"{prefix}:express:TestStateMachine:{run}:{run}",
            "Input": data,
            "Name": run,
            "RoleArn": role_arn,
            "StartTime": now,
        },
        "StateMachine": {
            "Id": f"{prefix}:stateMachine:TestStateMachine",
            "Name": "TestStateMachine",
        },
        # AWS names the state under test "StateName" here, even one picked by ``stateName``.
        "State": {"Name": "StateName", "EnteredTime": now},
    }
    if isinstance(state, TaskState | MapState | ParallelState):
        context["State"]["RetryCount"] = retry_count
    if given is not None:
        check_context(given, state)
        return copy.deepcopy(dict(given))  # AWS uses a given context as it is, nothing added
    return context


class _Run:
    """One TestState call: the state, its input, context, variables and what it reports."""

    def __init__(
        self,
        name: str,
        state: State,
        *,
        data: Any,
        context: dict[str, Any],
        variables: dict[str, Any],
        level: InspectionLevel,
    ) -> None:
        self.name = name
        self.state = state
        self.data = data
        self.context = context
        self.variables = variables
        self.level = level
        self.jsonata = False
        self.inspection: dict[str, Any] = {"input": _text(data)}
        if variables:
            self.inspection["variables"] = _text(variables)
        self.rng = random.Random()

    def note(self, key: str, value: Any) -> None:
        self.inspection[key] = _text(value)

    def evaluate(self, value: Any, location: str, **states: Any) -> Any:
        """A JSONata-mode field: its ``{% … %}`` expressions evaluated with ``$states`` bound."""
        bindings = {
            **self.variables,
            "states": {"input": self.data, "context": self.context, **states},
        }
        return evaluate_template(value, location, bindings, self.rng)

    def path(self, field: str, value: Any) -> Any:
        """InputPath or OutputPath: absent or ``$`` keeps, ``null`` gives ``{}``."""
        if field not in self.state.model_fields_set:
            return value
        path = getattr(self.state, field)
        if path is None:
            return {}
        return value if path == "$" else evaluate_path(path, value, self.context, self.variables)

    def template(self, template: Any, data: Any, field: str) -> Any:
        return apply_payload_template(
            template, data, self.context, self.variables, field=field, rng=self.rng
        )

    def answer(self, status: str, **fields: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"status": status}
        for key, value in fields.items():
            if value is not None:
                out[key] = value
        if self.level != "INFO":
            out["inspectionData"] = self.inspection
        return out


def _result_path(state: Any) -> str | None:
    if "result_path" not in state.model_fields_set:
        return "$"
    path: str | None = state.result_path
    return path


def _finish(run: _Run, result: Any) -> dict[str, Any]:
    """ResultSelector → ResultPath → OutputPath, then SUCCEEDED with the next state."""
    state = run.state
    selector = getattr(state, "result_selector", None)
    selected = run.template(selector, result, "ResultSelector") if selector is not None else result
    run.note("afterResultSelector", selected)
    placed = apply_result_path(run.data, selected, _result_path(state))
    run.note("afterResultPath", placed)
    output = run.path("output_path", placed)
    return run.answer("SUCCEEDED", output=_text(output), nextState=getattr(state, "next", None))


def _failure(run: _Run, error: StatesError, retry_count: int) -> dict[str, Any]:
    """What an error leads to: a retry, a Catcher, or the state's failure."""
    state = run.state
    name = error.error or "States.Runtime"
    retriers = getattr(state, "retry", None) or []
    index = find_retrier(retriers, name)
    if index is not None and retry_count < max_attempts(retriers[index]):
        delay = retry_delay(retriers[index], retry_count + 1, run.rng)
        run.inspection["errorDetails"] = {
            "retryIndex": index,
            "retryBackoffIntervalSeconds": int(delay),
        }
        return run.answer("RETRIABLE", error=error.error, cause=error.cause)
    catchers = getattr(state, "catch", None) or []
    catcher = find_catcher(catchers, name)
    if catcher is not None:
        error_output: dict[str, Any] = {"Error": error.error}
        if error.cause is not None:
            error_output["Cause"] = error.cause
        if not run.jsonata:
            placed = apply_result_path(run.data, error_output, _result_path(catcher))
        elif "output" in catcher.model_fields_set:
            placed = run.evaluate(catcher.output, "Output", errorOutput=error_output)
        else:
            placed = error_output
        run.inspection["errorDetails"] = {"catchIndex": catchers.index(catcher)}
        return run.answer(
            "CAUGHT_ERROR",
            error=error.error,
            cause=error.cause,
            nextState=catcher.next,
            output=_text(placed),
        )
    if index is not None:  # AWS names the retrier whose attempts ran out
        run.inspection["errorDetails"] = {"retryIndex": index}
    return run.answer("FAILED", error=error.error, cause=error.cause)


async def _invoke(
    run: _Run, state: TaskState, payload: Any, handlers: Mapping[str, Handler]
) -> Any:
    binding = resolve_binding(state.resource, handlers, parameters=state.parameters)
    if binding is None:
        raise TestStateError(
            "ValidationException",
            f"Nothing is bound to resource '{state.resource}': give a mock, or a handler "
            "keyed by the resource or function name",
        )
    request = TaskRequest(
        state_name=run.name,
        resource=state.resource,
        payload=payload,
        context=run.context,
        execution_name=run.context["Execution"]["Name"],
    )
    return await binding.invoke(request)


def _check_tolerance(
    run: _Run, failures: Any, total: int, retry_count: int
) -> dict[str, Any] | None:
    """With ``mapIterationFailureCount`` failed items: the threshold error, or None within it."""
    if not isinstance(failures, int) or isinstance(failures, bool) or failures <= 0:
        return None
    if failures > total:
        raise TestStateError(
            "ValidationException",
            "Map iteration failure count must be less than or equal to the number of Map "
            "iterations",
        )
    if not tolerance_exceeded(run.inspection, failures, total):
        return None
    error = StatesError(
        "States.ExceedToleratedFailureThreshold",
        "The specified tolerated failure threshold was exceeded",
    )
    return _failure(run, error, retry_count)


async def _run_task(
    run: _Run,
    state: TaskState | MapState | ParallelState,
    mock: Mapping[str, Any] | None,
    handlers: Mapping[str, Handler],
    retry_count: int,
) -> dict[str, Any]:
    effective = run.path("input_path", run.data)
    # A mocked Parallel reports only its input and what follows its result (AWS).
    parallel = isinstance(state, ParallelState)
    if not parallel:
        run.note("afterInputPath", effective)
    template = state.parameters
    if isinstance(state, MapState):
        template = None  # a Map's Parameters select each item, not the state's input
    payload = run.template(template, effective, "Parameters") if template is not None else effective
    if not isinstance(state, MapState | ParallelState):
        run.note("afterParameters", payload)
    try:
        result = await _work(run, state, payload, mock, handlers)
    except StatesError as exc:
        return _failure(run, exc, retry_count)
    if not isinstance(state, MapState | ParallelState):  # AWS reports no raw result for these
        run.note("result", result)
    return _finish(run, result)


async def _work(
    run: _Run,
    state: State,
    payload: Any,
    mock: Mapping[str, Any] | None,
    handlers: Mapping[str, Handler],
) -> Any:
    """The state's result: the mock's ``result``, its ``errorOutput`` raised, or the Task run."""
    if mock is not None and "errorOutput" in mock:
        error = mock["errorOutput"] or {}
        raise StatesError(error.get("error"), error.get("cause"))
    if mock is not None:
        return json_arg(mock["result"], "mock.result")
    assert isinstance(state, TaskState)
    return await _invoke(run, state, payload, handlers)


def _run_pass(run: _Run, state: PassState) -> dict[str, Any]:
    if "result" in state.model_fields_set:
        run.note("result", state.result)
        return _finish(run, state.result)
    effective = run.path("input_path", run.data)
    run.note("afterInputPath", effective)
    payload = (
        run.template(state.parameters, effective, "Parameters")
        if state.parameters is not None
        else effective
    )
    run.note("afterParameters", payload)
    return _finish(run, payload)


async def _run_jsonata(
    run: _Run,
    state: State,
    mock: Mapping[str, Any] | None,
    handlers: Mapping[str, Handler],
    retry_count: int,
) -> dict[str, Any]:
    """A ``QueryLanguage: JSONata`` state: ``Arguments``, the work, ``Output``."""
    run.jsonata = True
    if isinstance(state, FailState):
        error = run.evaluate(state.error, "Error") if state.error is not None else None
        cause = run.evaluate(state.cause, "Cause") if state.cause is not None else None
        return run.answer("FAILED", error=error, cause=cause)
    if isinstance(state, ChoiceState):
        for rule in state.choices:
            if run.evaluate(rule.condition, "Condition") is True:
                output = _jsonata_output(run, rule, run.data)
                return run.answer("SUCCEEDED", output=_text(output), nextState=rule.next)
        if state.default is None:
            raise StatesError(NO_CHOICE_MATCHED, "No Choice rule matched and there is no Default")
        output = _jsonata_output(run, state, run.data)
        return run.answer("SUCCEEDED", output=_text(output), nextState=state.default)
    next_state = getattr(state, "next", None)
    if not isinstance(state, TaskState | MapState | ParallelState):
        output = _jsonata_output(run, state, run.data)
        return run.answer("SUCCEEDED", output=_text(output), nextState=next_state)
    arguments = getattr(state, "arguments", None)
    payload = run.evaluate(arguments, "Arguments") if arguments is not None else run.data
    if not isinstance(state, MapState | ParallelState):  # a Map reports its item stages
        run.note("afterArguments", payload)
    try:
        result = await _work(run, state, payload, mock, handlers)
    except StatesError as exc:
        return _failure(run, exc, retry_count)
    if not isinstance(state, MapState | ParallelState):
        run.note("result", result)
    output = _jsonata_output(run, state, result, result=result)
    return run.answer("SUCCEEDED", output=_text(output), nextState=next_state)


def _jsonata_output(run: _Run, owner: Any, default: Any, **states: Any) -> Any:
    """``Output`` evaluated when the state (or Choice rule) has one, else ``default``."""
    if "output" in owner.model_fields_set:
        return run.evaluate(owner.output, "Output", **states)
    return default


def _dynamic(run: _Run, expression: str) -> Any:
    return run.template({"value.$": expression}, run.data, "ErrorPath")["value"]


def _run_state(run: _Run, state: State) -> dict[str, Any]:
    """Choice, Wait, Succeed and Fail: input path, then their own work."""
    effective = run.path("input_path", run.data) if not isinstance(state, FailState) else run.data
    run.note("afterInputPath", effective)
    if isinstance(state, FailState):
        error = _dynamic(run, state.error_path) if state.error_path else state.error
        cause = _dynamic(run, state.cause_path) if state.cause_path else state.cause
        return run.answer("FAILED", error=error, cause=cause)
    if isinstance(state, ChoiceState):
        next_state = choose_next(state, effective, run.context, run.variables)
        return run.answer(
            "SUCCEEDED", output=_text(run.path("output_path", effective)), nextState=next_state
        )
    output = run.path("output_path", effective)
    return run.answer("SUCCEEDED", output=_text(output), nextState=getattr(state, "next", None))


async def test_state_async(
    definition: str | Mapping[str, Any],
    input: Any = None,
    *,
    state_name: str | None = None,
    inspection_level: InspectionLevel | str = "INFO",
    variables: Any = None,
    context: Any = None,
    mock: Mapping[str, Any] | None = None,
    state_configuration: Mapping[str, Any] | None = None,
    handlers: Mapping[str, Handler] | None = None,
    role_arn: str | None = None,
) -> dict[str, Any]:
    """Run one state once and answer as TestState does (see the module docstring).

    ``definition`` is a state (or a whole machine with ``state_name``), as JSON text or data;
    ``input``, ``variables`` and ``context`` are JSON text or data; ``role_arn`` is the
    request's ``roleArn`` (the context's ``Execution.RoleArn``, null without one). Raises
    :class:`TestStateError` (AWS's ``InvalidDefinition``, ``InvalidExecutionInput`` or
    ``ValidationException``) for a request that cannot run.
    """
    if inspection_level not in ("INFO", "DEBUG", "TRACE"):
        raise TestStateError(
            "ValidationException",
            f"inspectionLevel must be one of INFO, DEBUG, TRACE (got {inspection_level!r})",
        )
    level: InspectionLevel = inspection_level
    name, state, language = select_state(
        dict(definition) if isinstance(definition, Mapping) else definition, state_name
    )
    data = json_arg(input, "input", "InvalidExecutionInput")
    data = {} if data is None else data
    given_variables = json_arg(variables, "variables") or {}
    if not isinstance(given_variables, dict):
        raise TestStateError("ValidationException", "variables must be a JSON object")
    config = dict(state_configuration or {})
    retry_count = int(config.get("retrierRetryCount", 0) or 0)
    run = _Run(
        name,
        state,
        data=data,
        context=_context(state, data, json_arg(context, "context"), retry_count, role_arn),
        variables=given_variables,
        level=level,
    )
    run.jsonata = language == "JSONata"
    if mock is None and config.get("mapIterationFailureCount") is not None:
        raise TestStateError(
            "ValidationException",
            "TestState does not support MapIterationFailureCount when a mock is not specified.",
        )
    checked_mock = check_mock(mock, state)
    reader_data = map_configuration(config, state)
    try:
        items: list[Any] | None = None
        if isinstance(state, MapState):
            effective = run.data
            if not run.jsonata:
                effective = run.path("input_path", run.data)
                run.note("afterInputPath", effective)
            items = inspect_map(run, state, effective, reader_data)
        if "errorCausedByState" in config and isinstance(
            state, TaskState | MapState | ParallelState
        ):
            error = StatesError(config["errorCausedByState"], None)
            if checked_mock is not None and "errorOutput" in checked_mock:
                error_output = checked_mock["errorOutput"] or {}
                error = StatesError(
                    error_output.get("error", config["errorCausedByState"]),
                    error_output.get("cause"),
                )
            if not run.jsonata:
                run.note("afterInputPath", run.path("input_path", run.data))
            return _failure(run, error, retry_count)
        if items is not None:
            exceeded = _check_tolerance(
                run, config.get("mapIterationFailureCount"), len(items), retry_count
            )
            if exceeded is not None:
                return exceeded
        if language == "JSONata":
            return await _run_jsonata(run, state, checked_mock, handlers or {}, retry_count)
        if isinstance(state, TaskState | MapState | ParallelState):
            return await _run_task(run, state, checked_mock, handlers or {}, retry_count)
        if isinstance(state, PassState):
            return _run_pass(run, state)
        return _run_state(run, state)
    except StatesError as exc:
        if isinstance(state, TaskState | MapState | ParallelState | PassState):
            return _failure(run, exc, retry_count)
        return run.answer("FAILED", error=exc.error, cause=exc.cause)


def test_state(
    definition: str | Mapping[str, Any],
    input: Any = None,
    *,
    state_name: str | None = None,
    inspection_level: InspectionLevel | str = "INFO",
    variables: Any = None,
    context: Any = None,
    mock: Mapping[str, Any] | None = None,
    state_configuration: Mapping[str, Any] | None = None,
    handlers: Mapping[str, Handler] | None = None,
    role_arn: str | None = None,
) -> dict[str, Any]:
    """:func:`test_state_async`, run synchronously in a new event loop."""
    return anyio.run(
        functools.partial(
            test_state_async,
            definition,
            input,
            state_name=state_name,
            inspection_level=inspection_level,
            variables=variables,
            context=context,
            mock=mock,
            state_configuration=state_configuration,
            handlers=handlers,
            role_arn=role_arn,
        )
    )


test_state.__test__ = False  # type: ignore[attr-defined]
test_state_async.__test__ = False  # type: ignore[attr-defined]
