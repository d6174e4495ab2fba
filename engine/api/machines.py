"""State machine operations: create, describe, update, delete, list, validate."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from engine.api.arns import check_name
from engine.api.errors import ApiError
from engine.api.json_errors import describe_json_error
from engine.api.paging import page
from engine.api.registry import MachineRecord, VersionRecord
from engine.api.variable_references import variable_references
from engine.api.versions import check_version_description, publish
from engine.api.wire import encryption, posix
from engine.aws_diagnostics import aws_diagnostics
from engine.diagnostics import DefinitionError, Diagnostic
from engine.lambda_shapes import activity_name
from engine.loader import load
from engine.model import MapState, ParallelState, State, StateMachine, TaskState

if TYPE_CHECKING:
    from engine.api.service import StepFunctionsService

__all__ = [
    "iter_tasks",
    "definition_error",
    "parse_definition",
    "create_state_machine",
    "delete_state_machine",
    "describe_state_machine",
    "list_state_machines",
    "update_state_machine",
    "validate_state_machine_definition",
]


def definition_error(diagnostics: list[Diagnostic], document: Any = None) -> ApiError:
    """``InvalidDefinition`` naming the errors found (code, message, JSON-pointer location)."""
    diagnostics = aws_diagnostics(diagnostics, document)
    errors = [d for d in diagnostics if d.severity == "error"] or diagnostics
    text = "; ".join(f"{d.code}: {d.message} at {d.location or '/'}" for d in errors[:10])
    return ApiError("InvalidDefinition", f"Invalid State Machine Definition: '{text}'")


def parse_definition(text: str) -> StateMachine:
    """A definition's model; ``InvalidDefinition`` when it is not JSON or not valid ASL."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(
            "InvalidDefinition",
            "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: "
            f"{exc.msg} at line {exc.lineno}, column {exc.colno}'",
        ) from None
    except RecursionError:
        raise ApiError(
            "InvalidDefinition", "Invalid State Machine Definition: 'TOO_DEEP: nested too deeply'"
        ) from None
    if not isinstance(document, dict):
        raise ApiError(
            "InvalidDefinition",
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
            "the definition must be a JSON object at /'",
        )
    try:
        return load(document)
    except DefinitionError as exc:
        raise definition_error(exc.diagnostics, document) from None


def iter_tasks(
    states: Mapping[str, State], where: str = ""
) -> Iterator[tuple[str, str, TaskState]]:
    """Every Task state with its name and JSON-pointer location, nested states included."""
    for name, state in states.items():
        at = f"{where}/States/{name}"
        if isinstance(state, TaskState):
            yield at, name, state
        elif isinstance(state, ParallelState):
            for index, branch in enumerate(state.branches):
                yield from iter_tasks(branch.states, f"{at}/Branches/{index}")
        elif isinstance(state, MapState) and (state.item_processor or state.iterator):
            key = "ItemProcessor" if state.item_processor is not None else "Iterator"
            yield from iter_tasks(state.processor.states, f"{at}/{key}")


def _express_problems(model: StateMachine) -> Iterator[tuple[str, str]]:
    """What an Express machine cannot run (callbacks, ``.sync`` jobs, activities): each Task's
    ``Resource`` location with AWS's text."""
    for location, _, task in iter_tasks(model.states):
        resource = task.resource
        if resource.endswith(".waitForTaskToken"):
            problem = (
                "Express state machine does not support '.waitForTaskToken' service integration "
            )
        elif resource.endswith((".sync", ".sync:2")):
            problem = "Express state machine does not support '.sync' service integration"
        elif activity_name(resource) is not None:
            problem = "Express state machine does not support Activity ARN"
        else:
            continue
        yield f"{location}/Resource", problem


def _check_express(model: StateMachine) -> None:
    """``InvalidDefinition`` for the first thing an Express machine cannot run."""
    for location, problem in _express_problems(model):
        raise ApiError(
            "InvalidDefinition",
            f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {problem} at "
            f"{location}'",
        )


def add_variable_references(out: dict[str, Any], definition: str) -> None:
    """``variableReferences`` for a definition whose states read variables (AWS omits it else)."""
    try:
        document = json.loads(definition)
    except ValueError:
        return
    references = variable_references(document)
    if references:
        out["variableReferences"] = references


def logging_configuration(given: dict[str, Any] | None) -> dict[str, Any]:
    """A machine's ``loggingConfiguration`` with AWS's defaults (level ``OFF``, no execution
    data); logging at a level other than ``OFF`` needs exactly one destination, and no level
    takes more than one (``InvalidLoggingConfiguration``, as AWS answers)."""
    config = {"level": "OFF", "includeExecutionData": False, **(given or {})}
    count = len(config.get("destinations") or [])
    if count > 1 or (config["level"] != "OFF" and count != 1):
        raise ApiError(
            "InvalidLoggingConfiguration",
            "Invalid Logging Configuration: Must specify exactly one Log Destination.",
        )
    return config


def _describe_machine(record: MachineRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stateMachineArn": record.arn,
        "name": record.name,
        "status": "ACTIVE",
        "definition": record.definition,
        "roleArn": record.role_arn,
        "type": record.type,
        "creationDate": posix(record.creation_posix),
        "loggingConfiguration": record.logging_configuration
        or {"level": "OFF", "includeExecutionData": False},
        "tracingConfiguration": record.tracing_configuration or {"enabled": False},
        "encryptionConfiguration": encryption(record.encryption_configuration),
    }
    if record.revision_id:  # the revision a machine is created with has no id (AWS)
        out["revisionId"] = record.revision_id
    add_variable_references(out, record.definition)
    if record.description:
        out["description"] = record.description
    return out


async def create_state_machine(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """CreateStateMachine: validate the definition and register the machine."""
    name = params["name"]
    check_name(name)
    check_version_description(params)
    machine_type = params.get("type", "STANDARD")
    model = parse_definition(params["definition"])
    if machine_type == "EXPRESS":
        _check_express(model)
    logging = logging_configuration(params.get("loggingConfiguration"))
    existing = service.registry.machines.get(name)
    if existing is not None:
        if (
            existing.definition == params["definition"]
            and existing.role_arn == params["roleArn"]
            and existing.type == machine_type
        ):
            return {
                "stateMachineArn": existing.arn,
                "creationDate": posix(existing.creation_posix),
            }
        raise ApiError(
            "StateMachineAlreadyExists", f"State Machine Already Exists: '{existing.arn}'"
        )
    service.models[params["definition"]] = model
    service.bind(name, model)
    record = MachineRecord(
        name=name,
        arn=service.arns.state_machine(name),
        definition=params["definition"],
        role_arn=params["roleArn"],
        type=machine_type,
        creation_posix=time.time(),
        revision_id="",  # AWS gives a revision an id from the first update that changes it
        logging_configuration=logging,
        tracing_configuration=params.get("tracingConfiguration") or {},
        encryption_configuration=params.get("encryptionConfiguration") or {},
    )
    service.registry.put_machine(record)
    tags = {tag["key"]: tag.get("value", "") for tag in params.get("tags", [])}
    service.registry.set_tags(record.arn, tags)
    out = {"stateMachineArn": record.arn, "creationDate": posix(record.creation_posix)}
    if params.get("publish", False):
        version = publish(service, record, params.get("versionDescription", ""))
        out["stateMachineVersionArn"] = version.arn
    return out


async def describe_state_machine(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """DescribeStateMachine of a machine or of one of its versions (``…:Name:N``)."""
    target = service.target(params["stateMachineArn"])
    if target.alias is not None:
        raise ApiError.invalid_arn(f"Invalid ARN prefix: {params['stateMachineArn']}")
    if target.version is not None:
        return _describe_version(target.version)
    return _describe_machine(target.record)


def _describe_version(version: VersionRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stateMachineArn": version.arn,
        "name": version.machine,
        "status": "ACTIVE",
        "definition": version.definition,
        "roleArn": version.role_arn,
        "type": version.type,
        "creationDate": posix(version.creation_posix),
        "loggingConfiguration": version.logging_configuration
        or {"level": "OFF", "includeExecutionData": False},
        "tracingConfiguration": version.tracing_configuration or {"enabled": False},
        "encryptionConfiguration": encryption(version.encryption_configuration),
    }
    if version.revision_id:
        out["revisionId"] = version.revision_id
    add_variable_references(out, version.definition)
    if version.description:
        out["description"] = version.description
    return out


async def update_state_machine(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """UpdateStateMachine: a new definition, role or configuration for new executions."""
    _, qualifier, _ = service.arns.parse_qualified(params["stateMachineArn"])
    if qualifier is not None and qualifier.isdigit():  # a version is not a machine to update
        raise ApiError.state_machine_does_not_exist(params["stateMachineArn"])
    record, _ = service.machine_record(params["stateMachineArn"])
    check_version_description(params)
    changes = (
        "definition",
        "roleArn",
        "loggingConfiguration",
        "tracingConfiguration",
        "encryptionConfiguration",
    )
    if not any(key in params for key in changes):
        raise ApiError(
            "MissingRequiredParameter",
            "Either the definition, the role ARN, the LoggingConfiguration, "
            "or the TracingConfiguration must be specified",
        )
    logging = None
    if "loggingConfiguration" in params:
        logging = logging_configuration(params["loggingConfiguration"])
    before = (
        record.definition,
        record.role_arn,
        record.logging_configuration,
        record.tracing_configuration,
        record.encryption_configuration,
    )
    if "definition" in params:
        model = parse_definition(params["definition"])
        if record.type == "EXPRESS":
            _check_express(model)
        service.models[params["definition"]] = model
        service.bind(record.name, model)
        record.definition = params["definition"]
    if "roleArn" in params:
        record.role_arn = params["roleArn"]
    if logging is not None:
        record.logging_configuration = logging
    if "tracingConfiguration" in params:
        record.tracing_configuration = params["tracingConfiguration"]
    if "encryptionConfiguration" in params:
        record.encryption_configuration = params["encryptionConfiguration"]
    record.update_posix = time.time()
    after = (
        record.definition,
        record.role_arn,
        record.logging_configuration,
        record.tracing_configuration,
        record.encryption_configuration,
    )
    if after != before:  # an update changing nothing keeps the revision
        record.revision_id = str(uuid.uuid4())
    service.registry.put_machine(record)
    out: dict[str, Any] = {"updateDate": posix(record.update_posix)}
    if record.revision_id:
        out["revisionId"] = record.revision_id
    if params.get("publish", False):
        version = publish(service, record, params.get("versionDescription", ""))
        out["stateMachineVersionArn"] = version.arn
    return out


async def delete_state_machine(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """DeleteStateMachine: stop its running executions and forget it."""
    name, _ = service.arns.parse_state_machine(params["stateMachineArn"])
    record = service.registry.machines.get(name)
    if record is None:
        return {}
    for key in [key for key in service.hosts if key[0] == name]:
        host = service.hosts.pop(key)
        for execution in host.engine.executions():
            if not execution.done:
                await host.engine.stop(execution.name, cause="The state machine was deleted.")
        host.closing.set()
    service.machine_handlers.pop(name, None)
    service.machine_bindings.pop(name, None)
    service.registry.drop_machine(name)
    return {}


async def list_state_machines(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """ListStateMachines, by name (AWS lists them in the names' code-point order), paged."""
    machines = sorted(service.registry.machines.values(), key=lambda record: record.name)
    chunk, token = page(
        machines, params.get("maxResults"), params.get("nextToken"), "ListStateMachines"
    )
    out: dict[str, Any] = {
        "stateMachines": [
            {
                "stateMachineArn": record.arn,
                "name": record.name,
                "type": record.type,
                "creationDate": posix(record.creation_posix),
            }
            for record in chunk
        ]
    }
    if token:
        out["nextToken"] = token
    return out


async def validate_state_machine_definition(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """ValidateStateMachineDefinition: the validator's diagnostics, errors first."""
    text = params["definition"]
    document: Any = None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if not text.strip():
            return _validation_answer([_NOT_AN_OBJECT])
        problem = describe_json_error(text, exc)
        located = f"{problem.message}\n at {problem.location}"
        diagnostics = [Diagnostic("INVALID_JSON_DESCRIPTION", problem.location, located)]
    except RecursionError:
        diagnostics = [Diagnostic("TOO_DEEP", "", "the definition is nested too deeply")]
    else:
        try:
            if not isinstance(document, dict):
                return _validation_answer([_NOT_AN_OBJECT])
            model = load(document, validate=False)
            diagnostics = model.validate()
            if params.get("type") == "EXPRESS" and not diagnostics:
                diagnostics = [
                    Diagnostic("SCHEMA_VALIDATION_FAILED", location, problem)
                    for location, problem in _express_problems(model)
                ]
        except DefinitionError as exc:
            diagnostics = exc.diagnostics
    if params.get("severity", "ERROR") == "ERROR":
        diagnostics = [d for d in diagnostics if d.severity == "error"]
    return _validation_answer(
        aws_diagnostics(diagnostics, document), params.get("maxResults") or 100
    )


_NOT_AN_OBJECT = Diagnostic(
    "SCHEMA_VALIDATION_FAILED", "", "Definition must be a valid JSON object"
)
"""AWS's answer for a definition that is blank or not a JSON object (it names no location)."""


def _validation_answer(diagnostics: list[Diagnostic], limit: int = 100) -> dict[str, Any]:
    ordered = sorted(diagnostics, key=lambda d: d.severity != "error")
    shown = ordered[:limit]
    return {
        "result": "FAIL" if any(d.severity == "error" for d in diagnostics) else "OK",
        "diagnostics": [_diagnostic(d) for d in shown],
        "truncated": len(ordered) > len(shown),
    }


def _diagnostic(diagnostic: Diagnostic) -> dict[str, Any]:
    out = {
        "severity": diagnostic.severity.upper(),
        "code": diagnostic.code,
        "message": diagnostic.message,
    }
    if diagnostic is not _NOT_AN_OBJECT:
        out["location"] = diagnostic.location or "/"
    return out
