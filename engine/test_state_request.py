"""A TestState request, checked: the state under test, JSON arguments, the mock, the Map set-up.

Each check raises :class:`TestStateError` with AWS's error name (``InvalidDefinition``,
``InvalidExecutionInput`` or ``ValidationException``) and message. A mocked ``result`` is checked
against the output shape of the API the Task calls (botocore's service model), per
``fieldValidationMode``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, Final

from engine.aws_diagnostics import aws_diagnostics
from engine.diagnostics import DefinitionError
from engine.lambda_shapes import LAMBDA_INVOKE, classify_resource
from engine.loader import load
from engine.model import (
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    State,
    SucceedState,
    TaskState,
    WaitState,
)

__all__ = [
    "TestStateError",
    "check_context",
    "check_mock",
    "json_arg",
    "map_configuration",
    "select_state",
]

_DEFAULT_STATE_NAME: Final = "StateName"
"""What AWS names a state given alone (``/States/StateName/…`` in its findings)."""
_UNSUPPORTED_WITHOUT_MOCK: Final = (
    "TestState API does not support Map or Parallel states. Supported state types include: "
    "[Task, Wait, Pass, Succeed, Fail, Choice]"
)


class TestStateError(ValueError):
    """A TestState request that cannot run: AWS's error name and message."""

    __test__ = False  # not a pytest test class

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def json_arg(value: Any, what: str, error_type: str = "ValidationException") -> Any:
    if value is None or not isinstance(value, str | bytes):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise TestStateError(error_type, f"{what} is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise TestStateError(error_type, f"{what} is nested too deeply") from None


def _targets(state: State) -> list[str]:
    names: list[str] = []
    if isinstance(state, ChoiceState):
        names += [rule.next for rule in state.choices if rule.next]
        names += [state.default] if state.default else []
    nxt = getattr(state, "next", None)
    if isinstance(nxt, str):
        names.append(nxt)
    for catcher in getattr(state, "catch", None) or []:
        names.append(catcher.next)
    return names


def select_state(definition: Any, state_name: str | None) -> tuple[str, State, str]:
    """The state under test: from a whole machine (``stateName`` or its StartAt) or alone."""
    document = json_arg(definition, "definition", "InvalidDefinition")
    if not isinstance(document, dict):
        raise TestStateError("InvalidDefinition", "The definition must be a JSON object")
    if "States" in document:
        machine_doc = document
    else:
        name = state_name or _DEFAULT_STATE_NAME
        machine_doc = {"StartAt": name, "States": {name: document}}
    try:
        machine = load(machine_doc, validate=False)
    except DefinitionError as exc:
        raise _invalid(exc, machine_doc) from None
    name = state_name or machine.start_at
    found = _find_state(machine_doc["States"], name)
    if found is None:
        raise TestStateError("ValidationException", "State not found in definition")
    state = machine.states.get(name)
    if state is None:  # a state inside a Map or a Parallel
        alone = {"StartAt": name, "States": {name: found}}
        try:
            state = load(alone, validate=False).states[name]
        except DefinitionError as exc:
            raise _invalid(exc, alone) from None
    # Validate the state in a machine where its transitions lead somewhere.
    stubs = {target: {"Type": "Succeed"} for target in _targets(state) if target != name}
    check_doc = {"StartAt": name, "States": {name: found, **stubs}}
    if "QueryLanguage" in machine_doc:
        check_doc["QueryLanguage"] = machine_doc["QueryLanguage"]
    try:
        load(check_doc)
    except DefinitionError as exc:
        raise _invalid(exc, check_doc) from None
    language = state.query_language or machine_doc.get("QueryLanguage") or "JSONPath"
    return name, state, str(language)


def _find_state(states: Any, name: str) -> dict[str, Any] | None:
    """The JSON of the state called ``name``: a top-level one, or (as AWS finds them) one
    inside a Map's item processor or a Parallel's branch."""
    if not isinstance(states, dict):
        return None
    found = states.get(name)
    if isinstance(found, dict):
        return found
    for outer in states.values():
        if not isinstance(outer, dict):
            continue
        branches = outer.get("Branches")
        scopes = [outer.get("ItemProcessor"), outer.get("Iterator")]
        scopes += branches if isinstance(branches, list) else []
        for scope in scopes:
            inner = _find_state(scope.get("States"), name) if isinstance(scope, dict) else None
            if inner is not None:
                return inner
    return None


def _invalid(exc: DefinitionError, document: Any) -> TestStateError:
    diagnostics = aws_diagnostics(exc.diagnostics, document)
    errors = [d for d in diagnostics if d.severity == "error"] or diagnostics
    text = "; ".join(f"{d.code}: {d.message} at {d.location or '/'}" for d in errors[:10])
    return TestStateError("InvalidDefinition", f"Invalid State Machine Definition: '{text}'")


_CONTEXT_FIELDS: Final = {
    "Execution": {"Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount", "RedriveTime"},
    "State": {"EnteredTime", "Name", "RetryCount"},
    "StateMachine": {"Id", "Name"},
    "Task": {"Token"},
}
_CONTEXT_STRINGS: Final = {
    "Execution": {"Id", "Name", "RoleArn", "StartTime", "RedriveTime"},
    "State": {"EnteredTime", "Name"},
    "StateMachine": {"Id", "Name"},
    "Task": {"Token"},
}


def check_context(context: Any, state: State) -> None:
    """A ``context`` given to TestState, checked as AWS checks it (``ValidationException``
    "Invalid Context object provided: …")."""

    def invalid(reason: str) -> TestStateError:
        return TestStateError("ValidationException", f"Invalid Context object provided: {reason}")

    if not isinstance(context, dict):
        raise invalid("The context object must be a JSON object")
    for key, value in context.items():
        if key == "Map":
            raise invalid("'Map' field is not supported when mocking a Context object")
        allowed = _CONTEXT_FIELDS.get(key)
        if allowed is None:
            raise invalid(f"Field '{key}' is not allowed")
        if not isinstance(value, dict):
            raise invalid(f"{key} must be an object")
        for field, item in value.items():
            if field not in allowed:
                raise invalid(f"Field '{field}' is not allowed")
            if field in _CONTEXT_STRINGS[key] and not isinstance(item, str):
                raise invalid(f"{key}.{field} must be a string")
    if "Task" in context:
        info = classify_resource(state.resource) if isinstance(state, TaskState) else None
        if info is None or not (info.sync or info.wait_for_task_token):
            raise invalid(
                "Context object contains 'Task' when state is not a Task state with a '.sync' "
                "or '.waitForTaskToken' service integration pattern"
            )


def check_mock(mock: Mapping[str, Any] | None, state: State) -> Mapping[str, Any] | None:
    if mock is None:
        if isinstance(state, MapState | ParallelState):
            raise TestStateError("InvalidDefinition", _UNSUPPORTED_WITHOUT_MOCK)
        return None
    if isinstance(state, PassState | FailState | SucceedState | ChoiceState | WaitState):
        raise TestStateError(
            "ValidationException",
            f"State type '{state.type}' is not supported when a mock is specified",
        )
    if ("result" in mock) == ("errorOutput" in mock):
        raise TestStateError(
            "ValidationException",
            "A test mock should have only one of the following fields: [result, errorOutput].",
        )
    if "result" in mock:
        try:
            result = json_arg(mock["result"], "mock.result")
        except TestStateError:
            raise TestStateError(
                "ValidationException", "Mocked result must be valid JSON"
            ) from None
        if isinstance(state, MapState) and state.result_writer is not None:
            # A Map writing its results to S3 answers ResultWriter's summary object.
            if not isinstance(result, dict):
                raise TestStateError("ValidationException", "Mocked result must be a JSON object.")
        elif isinstance(state, MapState | ParallelState) and not isinstance(result, list):
            raise TestStateError("ValidationException", "Mocked result must be an array.")
        if isinstance(state, ParallelState) and len(result) != len(state.branches):
            raise TestStateError(
                "ValidationException",
                "Mocked result must contain the same number of items as number of Parallel "
                "branches.",
            )
        if isinstance(state, TaskState):
            _validate_mocked_result(state.resource, result, mock.get("fieldValidationMode"))
    return mock


@functools.cache
def _output_shape(resource: str) -> Any:
    """The botocore output shape of the API a Task resource calls (None when unknown)."""
    try:
        import botocore.session
    except ImportError:  # pragma: no cover - botocore comes with the 'aws' extra
        return None
    info = classify_resource(resource)
    base = info.base_resource
    if base == LAMBDA_INVOKE:
        service, action = "lambda", "invoke"
    elif base.startswith("arn:aws:states:::aws-sdk:"):
        service, _, action = base.removeprefix("arn:aws:states:::aws-sdk:").partition(":")
    elif base.startswith("arn:aws:states:::"):
        service, _, action = base.removeprefix("arn:aws:states:::").partition(":")
    else:
        return None
    service = _BOTOCORE_NAMES.get(service, service)
    session = botocore.session.get_session()
    if service not in session.get_available_services():
        return None
    model = session.get_service_model(service)
    operation = action[:1].upper() + action[1:]
    if operation not in model.operation_names:
        return None
    return model.operation_model(operation).output_shape


_BOTOCORE_NAMES: Final = {"states": "stepfunctions", "sfn": "stepfunctions"}
"""Services a resource names otherwise than botocore does (``states:startExecution``)."""
_NUMBERS: Final = frozenset({"integer", "long", "float", "double"})


def _field(name: str) -> str:
    """A response member as Step Functions writes it: ``executionArn`` is ``ExecutionArn``."""
    return name[:1].upper() + name[1:]


def _conforms(shape: Any, value: Any, name: str, strict: bool, free_blobs: bool) -> str | None:
    """What is wrong with ``value`` as the member ``name`` of ``shape``, in AWS's words, or None.

    As AWS checks a mocked result: only the API's own fields are checked (others pass),
    ``STRICT`` also wants the required ones, and each field's type, enum, length and range.
    """
    kind = shape.type_name
    problem = _wrong_type(kind, value, free_blobs)
    if problem is not None:
        return f"Field '{name}' {problem}"
    if kind == "structure":
        members = {_field(key): member for key, member in shape.members.items()}
        for key, item in value.items():
            member = members.get(key)
            if member is not None:
                found = _conforms(member, item, key, strict, free_blobs)
                if found:
                    return found
        if strict:
            for key in shape.required_members:
                if _field(key) not in value:
                    return f"Required field '{_field(key)}' is missing"
        return None
    if kind == "list":
        for item in value:
            found = _conforms(shape.member, item, name, strict, free_blobs)
            if found:
                return found
        return None
    if kind == "map":
        for item in value.values():
            found = _conforms(shape.value, item, name, strict, free_blobs)
            if found:
                return found
        return None
    return _out_of_bounds(shape, kind, value, name)


def _wrong_type(kind: str, value: Any, free_blobs: bool) -> str | None:
    if kind in {"structure", "map"}:
        return None if isinstance(value, dict) else "must be an object"
    if kind == "list":
        return None if isinstance(value, list) else "must be an array"
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be a boolean"
    if kind in _NUMBERS:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return None if number else "must be a number"
    if kind in ("string", "timestamp") or (kind == "blob" and not free_blobs):
        return None if isinstance(value, str) else "must be a string"
    return None  # documents, and a Lambda's Payload, carry any JSON


def _out_of_bounds(shape: Any, kind: str, value: Any, name: str) -> str | None:
    enum = getattr(shape, "enum", None)
    if kind == "string" and enum and value not in enum:
        return f"Field '{name}' is not an expected value"
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if kind in ("string", "blob") and isinstance(value, str):
        if low is not None and len(value) < low:
            return f"Field '{name}' is smaller than the minimum length"
    elif kind in _NUMBERS:
        if low is not None and value < low:
            return f"Field '{name}' is less than the minimum value"
        if high is not None and value > high:
            return f"Field '{name}' exceeds the maximum value"
    return None


def _validate_mocked_result(resource: str, result: Any, mode: str | None) -> None:
    mode = mode or "STRICT"
    if mode == "NONE":
        return
    shape = _output_shape(resource)
    if shape is None:
        return
    free_blobs = classify_resource(resource).base_resource == LAMBDA_INVOKE
    problem = _conforms(shape, result, "", mode == "STRICT", free_blobs)
    if problem:
        raise TestStateError(
            "ValidationException", f"Mock result schema validation error: {problem}"
        )


def map_configuration(config: Mapping[str, Any], state: State) -> str | None:
    """Check the Map settings of ``stateConfiguration``; ``mapItemReaderData`` or None."""
    failures = config.get("mapIterationFailureCount")
    if failures is not None and (
        isinstance(failures, bool) or not isinstance(failures, int) or failures < 0
    ):
        raise TestStateError(
            "ValidationException",
            "stateConfiguration.mapIterationFailureCount must be an integer of at least 0",
        )
    data = config.get("mapItemReaderData")
    if data is None:
        return None
    if not isinstance(data, str):
        raise TestStateError(
            "ValidationException", "stateConfiguration.mapItemReaderData must be a string"
        )
    if not isinstance(state, MapState) or state.item_reader is None:
        raise TestStateError(
            "ValidationException",
            "stateConfiguration.mapItemReaderData is only for a Map state with an ItemReader",
        )
    return data
