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

__all__ = ["TestStateError", "check_mock", "json_arg", "map_configuration", "select_state"]

_DEFAULT_STATE_NAME: Final = "StateName"
"""What AWS names a state given alone (``/States/StateName/…`` in its findings)."""
_UNSUPPORTED_WITHOUT_MOCK: Final = (
    "TestState API does not support Map or Parallel states. Supported state types include: "
    "[Task, Wait, Pass, Succeed, Fail, Choice]"
)
_SDK_EXTRAS: Final = frozenset({"SdkHttpMetadata", "SdkResponseMetadata"})


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
    state = machine.states.get(name)
    if state is None:
        raise TestStateError(
            "ValidationException", f"State '{name}' is not a top-level state of the definition"
        )
    # Validate the state in a machine where its transitions lead somewhere.
    stubs = {target: {"Type": "Succeed"} for target in _targets(state) if target != name}
    check_doc = {"StartAt": name, "States": {name: machine_doc["States"][name], **stubs}}
    if "QueryLanguage" in machine_doc:
        check_doc["QueryLanguage"] = machine_doc["QueryLanguage"]
    try:
        load(check_doc)
    except DefinitionError as exc:
        raise _invalid(exc, check_doc) from None
    language = state.query_language or machine_doc.get("QueryLanguage") or "JSONPath"
    return name, state, str(language)


def _invalid(exc: DefinitionError, document: Any) -> TestStateError:
    diagnostics = aws_diagnostics(exc.diagnostics, document)
    errors = [d for d in diagnostics if d.severity == "error"] or diagnostics
    text = "; ".join(f"{d.code}: {d.message} at {d.location or '/'}" for d in errors[:10])
    return TestStateError("InvalidDefinition", f"Invalid State Machine Definition: '{text}'")


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
        result = json_arg(mock["result"], "mock.result")
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
    session = botocore.session.get_session()
    if service not in session.get_available_services():
        return None
    model = session.get_service_model(service)
    operation = action[:1].upper() + action[1:]
    if operation not in model.operation_names:
        return None
    return model.operation_model(operation).output_shape


def _conforms(shape: Any, value: Any, where: str, strict: bool) -> str | None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return f"{where} must be an object"
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                if key in _SDK_EXTRAS and not where:
                    continue
                return f"{where + '.' if where else ''}{key} is not a field of the API's response"
            problem = _conforms(member, item, f"{where + '.' if where else ''}{key}", strict)
            if problem:
                return problem
        if strict:
            for key in shape.required_members:
                if key not in value:
                    return f"{where + '.' if where else ''}{key} is required"
        return None
    checks: dict[str, Any] = {
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "timestamp": lambda v: isinstance(v, str | int | float) and not isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "map": lambda v: isinstance(v, dict),
    }
    check = checks.get(kind)
    if check is None:  # blobs and documents carry any JSON (a Lambda's Payload)
        return None
    if not check(value):
        return f"{where} must be of type {kind}"
    if kind == "list":
        for index, item in enumerate(value):
            problem = _conforms(shape.member, item, f"{where}[{index}]", strict)
            if problem:
                return problem
    if kind == "map":
        for key, item in value.items():
            problem = _conforms(shape.value, item, f"{where}.{key}", strict)
            if problem:
                return problem
    return None


def _validate_mocked_result(resource: str, result: Any, mode: str | None) -> None:
    mode = mode or "STRICT"
    if mode == "NONE":
        return
    shape = _output_shape(resource)
    if shape is None:
        return
    problem = _conforms(shape, result, "", strict=mode == "STRICT")
    if problem:
        raise TestStateError(
            "ValidationException", f"Mocked result does not match the API's response: {problem}"
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
