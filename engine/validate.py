"""Schema and graph checks of a whole definition: every problem, each with a code and a location.

The walk is iterative (explicit stacks, no recursion), so machines with thousands of states
or deeply nested branches, processors and Choice rules are checked without stack overflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from engine._pointer import join
from engine._schema_messages import (
    describe_annotation,
    diagnostics_from_validation_error,
    json_type,
)
from engine._validate_graph import Edge, Scope, check_graph
from engine._validate_jsonata import (
    JSONATA_STATE_FIELDS,
    assigned_names,
    expression_diagnostics,
    scope_collisions,
)
from engine.choice import is_timestamp
from engine.diagnostics import Diagnostic, Severity
from engine.errors import ALL
from engine.intrinsics import intrinsic_syntax_error
from engine.model import (
    CHOICE_OPERATORS,
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from engine.paths import is_valid_path, is_valid_reference_path, is_valid_result_path
from engine.retry import JITTER_FULL, JITTER_NONE

__all__ = ["CODES", "PREDEFINED_ERRORS", "diagnostics_from_validation_error", "validate_machine"]

JSONPATH = "JSONPath"
JSONATA = "JSONata"
MAX_STATE_NAME = 80
MAX_SECONDS = 99_999_999
MAX_DELAY_SECONDS = 31_622_400

PREDEFINED_ERRORS = frozenset(
    {
        "States.ALL",
        "States.BranchFailed",
        "States.DataLimitExceeded",
        "States.ExceedToleratedFailureThreshold",
        "States.HeartbeatTimeout",
        "States.Http.Socket",
        "States.IntrinsicFailure",
        "States.ItemReaderFailed",
        "States.NoChoiceMatched",
        "States.ParameterPathFailure",
        "States.Permissions",
        "States.QueryEvaluationError",
        "States.ResultPathMatchFailure",
        "States.ResultWriterFailed",
        "States.Runtime",
        "States.TaskFailed",
        "States.Timeout",
    }
)
"""Error names Step Functions defines; any other ``States.`` name is reserved."""

CODES: dict[str, str] = {
    "INVALID_JSON": "the text is not JSON (loader)",
    "INVALID_TYPE": "the document is not a JSON object (loader)",
    "TOO_DEEP": "nested more deeply than the parser can follow (loader)",
    "UNKNOWN_FIELD": "a field ASL does not define",
    "FIELD_NOT_ALLOWED": "an ASL field this object may not have",
    "WRONG_TYPE": "a value of the wrong JSON type",
    "MISSING_FIELD": "a required field is absent",
    "UNKNOWN_STATE_TYPE": "Type is not one of the eight state types",
    "SCHEMA_VIOLATION": "any other schema error",
    "NEXT_AND_END": "a state has both Next and End",
    "MISSING_TRANSITION": "a state has neither Next nor End: true",
    "OUT_OF_RANGE": "a number outside its allowed range",
    "HEARTBEAT_NOT_BELOW_TIMEOUT": "HeartbeatSeconds is not smaller than TimeoutSeconds",
    "INVALID_VALUE": "a value outside its enumeration (JitterStrategy, QueryLanguage, Mode…)",
    "STATE_NAME_TOO_LONG": "a state name over 80 characters",
    "RESERVED_ERROR_NAME": "a custom error name starting with 'States.'",
    "INVALID_PATH": "a malformed Path",
    "INVALID_REFERENCE_PATH": "a malformed Reference Path (ResultPath, *Path fields)",
    "INVALID_INTRINSIC": "a malformed intrinsic function call in a '.$' field",
    "INVALID_TIMESTAMP": "a timestamp not in RFC 3339 form",
    "INVALID_JSONATA": "a string that should be a JSONata expression '{% … %}'",
    "INVALID_RESOURCE": "an empty Task Resource",
    "INVALID_VARIABLE_NAME": "an Assign key that is not a variable name",
    "INVALID_STATES_REFERENCE": "$states.result or $states.errorOutput where it does not exist",
    "OUTER_SCOPE_ASSIGNMENT": "a branch or iteration assigning a variable of an enclosing scope",
    "CHOICE_RULE_OPERATORS": "a Choice rule without exactly one operator",
    "MUTUALLY_EXCLUSIVE": "two fields that may not appear together",
    "DUPLICATE_TEMPLATE_KEY": "two payload-template keys equal after '.$' stripping",
    "QUERY_LANGUAGE_MISMATCH": "a JSONPath-only field in JSONata or the reverse",
    "QUERY_LANGUAGE_DOWNGRADE": "a JSONPath state inside a JSONata machine",
    "EMPTY_ARRAY": "Choices, Branches, ErrorEquals, And or Or is empty",
    "DUPLICATE_STATE_NAME": "a state name used twice in the machine",
    "START_AT_NOT_FOUND": "StartAt names no state of its States object",
    "MISSING_TRANSITION_TARGET": "Next/Default/catcher Next names no state",
    "TRANSITION_OUT_OF_SCOPE": "a transition into or out of a branch or item processor",
    "UNREACHABLE_STATE": "a state StartAt cannot reach",
    "NO_TERMINAL_PATH": "a state from which no terminal state can be reached",
    "STATES_ALL_NOT_ALONE": "States.ALL shares its ErrorEquals with other names",
    "STATES_ALL_NOT_LAST": "States.ALL in a retrier or catcher that is not the last",
    "UNPREFIXED_INTEGRATION_ERROR": "(warning) an error name an optimised integration never raises",
    "CATCHER_DISCARDS_INPUT": "(warning) a catcher without ResultPath replaces the state input",
}
"""Every diagnostic code with what it means."""

_JSONPATH_ONLY = (
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Result",
    "ItemsPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
)
_JSONATA_ONLY = ("Arguments", "Output", "Items", "Condition")
_RULE_JSONPATH_ONLY = ("Variable", "And", "Or", "Not", *CHOICE_OPERATORS)
_NULLABLE = frozenset({"InputPath", "OutputPath", "ResultPath"})
_NOT_NULL_ANY = frozenset({"Credentials"})
_INTEGRATION_PREFIXES = {
    "dynamodb": "DynamoDB",
    "sqs": "SQS",
    "sns": "SNS",
    "events": "EventBridge",
    "states": "StepFunctions",
}
_OPTIMISED_RESOURCE = re.compile(r"^arn:aws[\w-]*:states:::(?P<service>[a-z0-9]+):")
_PATH_HINT = "expected '$', '$.field', '$$.Context' or '$variable' syntax"
_TIMESTAMP_HINT = "expected RFC 3339 such as '2016-03-14T01:59:00Z'"
_VARIABLE_NAME = re.compile(r"[^\W\d]\w*")


def validate_machine(machine: StateMachine) -> list[Diagnostic]:
    """Every diagnostic (errors and warnings) of ``machine``, in document order per check."""
    checker = _Checker()
    checker.run(machine)
    return checker.diagnostics


def _set_fields(obj: BaseModel) -> dict[str, Any]:
    """The fields ``obj`` was given, by ASL name (explicit ``null`` included)."""
    fields = type(obj).model_fields
    return {
        fields[name].alias or name: getattr(obj, name)
        for name in obj.model_fields_set
        if name in fields
    }


def _is_expression(value: object) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


@dataclass(frozen=True, slots=True)
class _PendingScope:
    location: str
    start_at: str
    states: Mapping[str, State]
    query_language: str
    machine_query_language: str
    outer_variables: frozenset[str] = frozenset()


class _Checker:
    """Collects the diagnostics of one machine in a single iterative pass plus graph checks."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self._scopes: list[Scope] = []
        self._owners: dict[str, list[int]] = {}
        self._first_location: dict[str, str] = {}
        self._pending: list[_PendingScope] = []
        self._scope_variables: frozenset[str] = frozenset()

    # -- reporting -------------------------------------------------------------------------

    def _add(self, code: str, location: str, message: str, severity: Severity = "error") -> None:
        self.diagnostics.append(Diagnostic(code, location, message, severity))

    # -- driver ----------------------------------------------------------------------------

    def run(self, machine: StateMachine) -> None:
        fields = _set_fields(machine)
        self._check_nulls(machine, "")
        language = JSONPATH
        if "QueryLanguage" in fields:
            language = self._query_language(machine.query_language, "/QueryLanguage", JSONPATH)
        if machine.timeout_seconds is not None:
            self._range(machine.timeout_seconds, "/TimeoutSeconds", 1, MAX_SECONDS)
        self._pending.append(
            _PendingScope("", machine.start_at, machine.states, language, language)
        )
        queue_index = 0
        while queue_index < len(self._pending):
            self._check_scope(self._pending[queue_index])
            queue_index += 1
        self.diagnostics.extend(check_graph(self._scopes, self._owners))

    def _check_scope(self, pending: _PendingScope) -> None:
        scope = Scope(pending.location, pending.start_at, list(pending.states))
        index = len(self._scopes)
        self._scopes.append(scope)
        self._scope_variables = pending.outer_variables | frozenset(assigned_names(pending.states))
        self.diagnostics.extend(
            scope_collisions(
                pending.states,
                {name: scope.state_location(name) for name in pending.states},
                pending.outer_variables,
            )
        )
        for name, state in pending.states.items():
            location = scope.state_location(name)
            self._owners.setdefault(name, []).append(index)
            if name in self._first_location:
                self._add(
                    "DUPLICATE_STATE_NAME",
                    location,
                    f"state name '{name}' is already used at {self._first_location[name]}; "
                    "expected names unique across the whole machine",
                )
            else:
                self._first_location[name] = location
            if len(name) > MAX_STATE_NAME:
                self._add(
                    "STATE_NAME_TOO_LONG",
                    location,
                    f"state name has {len(name)} characters; expected at most {MAX_STATE_NAME}",
                )
            self._check_state(scope, name, state, location, pending)

    # -- common fields ---------------------------------------------------------------------

    def _query_language(self, value: str | None, location: str, default: str) -> str:
        if value in (JSONPATH, JSONATA):
            return value
        self._add(
            "INVALID_VALUE",
            location,
            f"QueryLanguage is {value!r}; expected 'JSONPath' or 'JSONata'",
        )
        return default

    def _check_nulls(self, obj: BaseModel, location: str) -> None:
        fields = type(obj).model_fields
        for name in obj.model_fields_set:
            info = fields.get(name)
            if info is None or getattr(obj, name) is not None:
                continue
            alias = info.alias or name
            if alias in _NULLABLE or (info.annotation is Any and alias not in _NOT_NULL_ANY):
                continue
            self._add(
                "WRONG_TYPE",
                join(location, alias),
                f"expected {describe_annotation(info.annotation)}, got null",
            )

    def _check_state(
        self, scope: Scope, name: str, state: State, location: str, pending: _PendingScope
    ) -> None:
        fields = _set_fields(state)
        self._check_nulls(state, location)
        language = pending.query_language
        if "QueryLanguage" in fields:
            language = self._query_language(
                state.query_language, join(location, "QueryLanguage"), language
            )
            if language == JSONPATH and pending.machine_query_language == JSONATA:
                self._add(
                    "QUERY_LANGUAGE_DOWNGRADE",
                    join(location, "QueryLanguage"),
                    "QueryLanguage cannot be 'JSONPath' in a machine whose QueryLanguage is "
                    "'JSONata'; expected 'JSONata' or no QueryLanguage",
                )
        jsonpath = language == JSONPATH
        self._check_language_fields(fields, location, language, _JSONPATH_ONLY, _JSONATA_ONLY)
        if jsonpath:
            for key in ("InputPath", "OutputPath"):
                value = fields.get(key)
                if value is not None and not is_valid_path(value):
                    self._add(
                        "INVALID_PATH",
                        join(location, key),
                        f"{key} {value!r} is not a valid Path; expected '$', '$.field', "
                        "'$$.Context' or '$variable' syntax",
                    )
            if fields.get("ResultPath") is not None:
                self._result_path(fields["ResultPath"], join(location, "ResultPath"))
            for key in ("Parameters", "ResultSelector", "ItemSelector", "Credentials"):
                if key in fields and fields[key] is not None:
                    self._template(fields[key], join(location, key))
        if fields.get("Assign") is not None:
            self._assign(fields["Assign"], join(location, "Assign"), jsonpath)
        if not jsonpath:
            works = isinstance(state, TaskState | ParallelState | MapState)
            for key in JSONATA_STATE_FIELDS:
                if fields.get(key) is not None:
                    self.diagnostics.extend(
                        expression_diagnostics(
                            fields[key],
                            join(location, key),
                            result=works and key in ("Output", "Assign"),
                        )
                    )
            items = fields.get("Items")
            if "Items" in fields and not (isinstance(items, list | dict) or _is_expression(items)):
                self._add(
                    "INVALID_JSONATA",
                    join(location, "Items"),
                    f"Items is {json_type(items)}; expected an array, an object or a JSONata "
                    "expression '{% … %}'",
                )
        self._check_transition(scope, name, state, fields, location)
        if isinstance(state, TaskState):
            self._check_task(state, fields, location, jsonpath)
        elif isinstance(state, ChoiceState):
            self._check_choice(scope, name, state, location, jsonpath)
        elif isinstance(state, WaitState):
            self._check_wait(fields, location, jsonpath)
        elif isinstance(state, FailState):
            self._check_fail(fields, location, jsonpath)
        elif isinstance(state, ParallelState):
            self._check_parallel(state, location, pending)
        elif isinstance(state, MapState):
            self._check_map(state, fields, location, jsonpath, pending)
        if isinstance(state, TaskState | ParallelState | MapState):
            prefix = None
            if isinstance(state, TaskState):
                match = _OPTIMISED_RESOURCE.match(state.resource)
                if match:
                    prefix = _INTEGRATION_PREFIXES.get(match.group("service"))
            self._check_retry(state.retry, join(location, "Retry"), prefix)
            self._check_catch(
                scope, name, state.catch, join(location, "Catch"), prefix=prefix, jsonpath=jsonpath
            )

    def _check_language_fields(
        self,
        fields: Mapping[str, Any],
        location: str,
        language: str,
        jsonpath_only: tuple[str, ...],
        jsonata_only: tuple[str, ...],
    ) -> None:
        wrong = jsonata_only if language == JSONPATH else jsonpath_only
        for key in fields:
            if key in wrong:
                other = JSONATA if language == JSONPATH else JSONPATH
                self._add(
                    "QUERY_LANGUAGE_MISMATCH",
                    join(location, key),
                    f"'{key}' is a {other} field but this object uses {language}; "
                    f"expected only {language} fields (or QueryLanguage '{other}')",
                )

    def _check_transition(
        self, scope: Scope, name: str, state: State, fields: Mapping[str, Any], location: str
    ) -> None:
        if isinstance(state, SucceedState | FailState):
            scope.terminal.add(name)
            return
        if isinstance(state, ChoiceState):
            return
        has_next = fields.get("Next") is not None
        ends = fields.get("End") is True
        if has_next and ends:
            self._add(
                "NEXT_AND_END",
                join(location, "End"),
                "a state has either 'Next' or 'End': true, not both",
            )
        if ends:
            scope.terminal.add(name)
        elif not has_next:
            scope.broken.add(name)
            self._add(
                "MISSING_TRANSITION",
                location,
                "expected 'Next' (a state name) or 'End': true",
            )
        if has_next:
            next_name = fields["Next"]
            scope.edges.setdefault(name, []).append(Edge(next_name, join(location, "Next")))

    # -- values ----------------------------------------------------------------------------

    def _range(self, value: object, location: str, low: float, high: float | None = None) -> None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return
        if value < low or (high is not None and value > high):
            upper = f" and at most {high}" if high is not None else ""
            self._add(
                "OUT_OF_RANGE", location, f"{value} is out of range; expected at least {low}{upper}"
            )

    def _seconds_value(
        self, value: object, location: str, jsonpath: bool, low: int, high: int = MAX_SECONDS
    ) -> None:
        """An integer field that JSONata states may also give as an expression."""
        if isinstance(value, str):
            if jsonpath:
                self._add(
                    "WRONG_TYPE",
                    location,
                    "expected an integer, got string (expressions need QueryLanguage JSONata)",
                )
            elif not _is_expression(value):
                self._add(
                    "INVALID_JSONATA",
                    location,
                    f"{value!r} is neither a number nor a JSONata expression '{{% … %}}'",
                )
            return
        self._range(value, location, low, high)

    def _result_path(self, value: object, location: str) -> None:
        if not is_valid_result_path(value):
            self._add(
                "INVALID_REFERENCE_PATH",
                location,
                f"ResultPath {value!r} is not a valid Reference Path; expected '$' or a "
                "single-node path such as '$.result' (no '$$', variables, wildcards or filters)",
            )

    def _reference_path(self, value: object, location: str, key: str) -> None:
        if value is not None and not is_valid_reference_path(value):
            self._add(
                "INVALID_REFERENCE_PATH",
                location,
                f"{key} {value!r} is not a valid Reference Path; expected a single-node "
                "path such as '$.field' (no wildcards or filters)",
            )

    def _dynamic(self, value: object, location: str) -> None:
        """The value of a ``.$`` field: a Path or an intrinsic function call."""
        if not isinstance(value, str):
            self._add(
                "WRONG_TYPE",
                location,
                f"expected a path or intrinsic function string, got {json_type(value)}",
            )
        elif value.startswith("$"):
            if not is_valid_path(value):
                self._add(
                    "INVALID_PATH",
                    location,
                    f"{value!r} is not a valid Path; {_PATH_HINT}",
                )
        else:
            problem = intrinsic_syntax_error(value)
            if problem is not None:
                self._add(
                    "INVALID_INTRINSIC",
                    location,
                    f"{value!r} is neither a Path nor a valid intrinsic function call "
                    f"(States.Name(args)): {problem}",
                )

    def _template(self, template: Any, location: str) -> None:
        """A payload template: ``.$`` values checked, duplicate keys after stripping found."""
        stack: list[tuple[Any, str]] = [(template, location)]
        while stack:
            node, where = stack.pop()
            if isinstance(node, dict):
                produced: dict[str, str] = {}
                children: list[tuple[Any, str]] = []
                for key, child in node.items():
                    key_location = join(where, key)
                    if key.endswith(".$"):
                        field = key[:-2]
                        self._dynamic(child, key_location)
                    else:
                        field = key
                        children.append((child, key_location))
                    if field in produced:
                        self._add(
                            "DUPLICATE_TEMPLATE_KEY",
                            key_location,
                            f"'{key}' and '{produced[field]}' both produce field '{field}'; "
                            "expected each field once",
                        )
                    else:
                        produced[field] = key
                stack.extend(reversed(children))
            elif isinstance(node, list):
                stack.extend(reversed([(c, join(where, i)) for i, c in enumerate(node)]))

    def _assign(self, assign: Mapping[str, Any], location: str, jsonpath: bool) -> None:
        for key in assign:
            name = key[:-2] if jsonpath and key.endswith(".$") else key
            if not _VARIABLE_NAME.fullmatch(name) or len(name) > MAX_STATE_NAME or name == "states":
                self._add(
                    "INVALID_VARIABLE_NAME",
                    join(location, key),
                    f"'{name}' is not a variable name; expected an identifier of at most "
                    f"{MAX_STATE_NAME} characters other than 'states'",
                )
        if jsonpath:
            self._template(assign, location)

    def _exclusive(self, fields: Mapping[str, Any], location: str, *group: str) -> list[str]:
        present = [key for key in group if key in fields]
        for key in present[1:]:
            self._add(
                "MUTUALLY_EXCLUSIVE",
                join(location, key),
                f"'{key}' cannot be used together with '{present[0]}'; "
                f"expected at most one of {', '.join(group)}",
            )
        return present

    # -- retriers and catchers -------------------------------------------------------------

    def _error_equals(
        self, names: list[str], location: str, prefix: str | None, last: bool, what: str
    ) -> None:
        where = join(location, "ErrorEquals")
        if not names:
            self._add("EMPTY_ARRAY", where, "ErrorEquals is empty; expected at least one name")
        for position, error in enumerate(names):
            error_location = join(where, position)
            if error == ALL:
                if len(names) > 1:
                    self._add(
                        "STATES_ALL_NOT_ALONE",
                        error_location,
                        "States.ALL must be the only name in its ErrorEquals",
                    )
                if not last:
                    self._add(
                        "STATES_ALL_NOT_LAST",
                        error_location,
                        f"States.ALL may appear only in the last {what}",
                    )
            elif error.startswith("States.") and error not in PREDEFINED_ERRORS:
                self._add(
                    "RESERVED_ERROR_NAME",
                    error_location,
                    f"'{error}' uses the reserved 'States.' prefix but is not a predefined "
                    "error; expected a predefined States.* name or a name without that prefix",
                )
            elif prefix is not None and not error.startswith(prefix + "."):
                bare = error.split(".", 1)[1] if "." in error else error
                self._add(
                    "UNPREFIXED_INTEGRATION_ERROR",
                    error_location,
                    f"'{error}' never matches: this integration reports its errors as "
                    f"'{prefix}.<Code>' (e.g. '{prefix}.{bare}')",
                    "warning",
                )

    def _check_retry(self, retry: list[Retrier] | None, location: str, prefix: str | None) -> None:
        for position, retrier in enumerate(retry or []):
            where = join(location, position)
            self._check_nulls(retrier, where)
            last = position == len(retry or []) - 1
            self._error_equals(retrier.error_equals, where, prefix, last, "retrier")
            if retrier.interval_seconds is not None:
                self._range(
                    retrier.interval_seconds, join(where, "IntervalSeconds"), 0, MAX_SECONDS
                )
            if retrier.max_attempts is not None:
                self._range(retrier.max_attempts, join(where, "MaxAttempts"), 0, MAX_SECONDS)
            if retrier.backoff_rate is not None:
                self._range(retrier.backoff_rate, join(where, "BackoffRate"), 1.0)
            if retrier.max_delay_seconds is not None:
                self._range(
                    retrier.max_delay_seconds, join(where, "MaxDelaySeconds"), 1, MAX_DELAY_SECONDS
                )
            jitter = retrier.jitter_strategy
            if jitter is not None and jitter not in (JITTER_FULL, JITTER_NONE):
                self._add(
                    "INVALID_VALUE",
                    join(where, "JitterStrategy"),
                    f"JitterStrategy is {jitter!r}; expected 'FULL' or 'NONE'",
                )

    def _check_catch(
        self,
        scope: Scope,
        name: str,
        catch: list[Catcher] | None,
        location: str,
        *,
        prefix: str | None,
        jsonpath: bool,
    ) -> None:
        language = JSONPATH if jsonpath else JSONATA
        for position, catcher in enumerate(catch or []):
            where = join(location, position)
            fields = _set_fields(catcher)
            self._check_nulls(catcher, where)
            last = position == len(catch or []) - 1
            self._error_equals(catcher.error_equals, where, prefix, last, "catcher")
            self._check_language_fields(fields, where, language, ("ResultPath",), ("Output",))
            scope.edges.setdefault(name, []).append(Edge(catcher.next, join(where, "Next")))
            if fields.get("Assign") is not None:
                self._assign(fields["Assign"], join(where, "Assign"), jsonpath)
            if not jsonpath:
                for key in ("Output", "Assign"):
                    if fields.get(key) is not None:
                        self.diagnostics.extend(
                            expression_diagnostics(fields[key], join(where, key), error_output=True)
                        )
                continue
            if "ResultPath" not in fields:
                self._add(
                    "CATCHER_DISCARDS_INPUT",
                    where,
                    "this catcher has no ResultPath, so the default '$' replaces the state "
                    "input with the error output; set ResultPath (e.g. '$.error') to keep it",
                    "warning",
                )
            elif catcher.result_path is not None:
                self._result_path(catcher.result_path, join(where, "ResultPath"))

    # -- state types -----------------------------------------------------------------------

    def _check_task(
        self, state: TaskState, fields: Mapping[str, Any], location: str, jsonpath: bool
    ) -> None:
        if not state.resource.strip():
            self._add(
                "INVALID_RESOURCE",
                join(location, "Resource"),
                "Resource is empty; expected an ARN or URI",
            )
        timeouts = self._exclusive(fields, location, "TimeoutSeconds", "TimeoutSecondsPath")
        self._exclusive(fields, location, "HeartbeatSeconds", "HeartbeatSecondsPath")
        timeout = state.timeout_seconds
        heartbeat = state.heartbeat_seconds
        if timeout is not None:
            self._seconds_value(timeout, join(location, "TimeoutSeconds"), jsonpath, 1)
        if heartbeat is not None:
            self._seconds_value(heartbeat, join(location, "HeartbeatSeconds"), jsonpath, 1)
        for key in ("TimeoutSecondsPath", "HeartbeatSecondsPath"):
            if jsonpath:
                self._reference_path(fields.get(key), join(location, key), key)
        limit = timeout if isinstance(timeout, int) else (MAX_SECONDS if not timeouts else None)
        if isinstance(heartbeat, int) and limit is not None and heartbeat >= limit:
            self._add(
                "HEARTBEAT_NOT_BELOW_TIMEOUT",
                join(location, "HeartbeatSeconds"),
                f"HeartbeatSeconds {heartbeat} must be smaller than TimeoutSeconds {limit}",
            )
        if "Credentials" in fields and not isinstance(state.credentials, dict):
            self._add(
                "WRONG_TYPE",
                join(location, "Credentials"),
                f"expected an object, got {json_type(state.credentials)}",
            )

    def _check_wait(self, fields: Mapping[str, Any], location: str, jsonpath: bool) -> None:
        group = ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
        present = self._exclusive(fields, location, *group)
        if not present:
            self._add(
                "MISSING_FIELD",
                location,
                "a Wait state requires exactly one of Seconds, Timestamp, SecondsPath, "
                "TimestampPath",
            )
        if fields.get("Seconds") is not None:
            self._seconds_value(fields["Seconds"], join(location, "Seconds"), jsonpath, 0)
        timestamp = fields.get("Timestamp")
        if (
            isinstance(timestamp, str)
            and not (not jsonpath and _is_expression(timestamp))
            and not is_timestamp(timestamp)
        ):
            self._add(
                "INVALID_TIMESTAMP",
                join(location, "Timestamp"),
                f"{timestamp!r} is not a timestamp; {_TIMESTAMP_HINT}",
            )
        if jsonpath:
            for key in ("SecondsPath", "TimestampPath"):
                self._reference_path(fields.get(key), join(location, key), key)

    def _check_fail(self, fields: Mapping[str, Any], location: str, jsonpath: bool) -> None:
        self._exclusive(fields, location, "Error", "ErrorPath")
        self._exclusive(fields, location, "Cause", "CausePath")
        if jsonpath:
            for key in ("ErrorPath", "CausePath"):
                if fields.get(key) is not None:
                    self._dynamic(fields[key], join(location, key))

    def _check_choice(
        self, scope: Scope, name: str, state: ChoiceState, location: str, jsonpath: bool
    ) -> None:
        choices_location = join(location, "Choices")
        if not state.choices:
            self._add(
                "EMPTY_ARRAY", choices_location, "Choices is empty; expected at least one rule"
            )
        if state.default is not None:
            scope.edges.setdefault(name, []).append(Edge(state.default, join(location, "Default")))
        stack: list[tuple[ChoiceRule, str, bool]] = [
            (rule, join(choices_location, i), True) for i, rule in enumerate(state.choices)
        ]
        stack.reverse()
        while stack:
            rule, where, top = stack.pop()
            stack.extend(
                reversed(
                    list(self._check_rule(scope, name, rule, where, top=top, jsonpath=jsonpath))
                )
            )

    def _check_rule(
        self, scope: Scope, name: str, rule: ChoiceRule, where: str, *, top: bool, jsonpath: bool
    ) -> Iterator[tuple[ChoiceRule, str, bool]]:
        fields = _set_fields(rule)
        self._check_nulls(rule, where)
        language = JSONPATH if jsonpath else JSONATA
        if top:
            if rule.next is None:
                self._add(
                    "MISSING_FIELD", join(where, "Next"), "a top-level Choice rule requires 'Next'"
                )
            else:
                scope.edges.setdefault(name, []).append(Edge(rule.next, join(where, "Next")))
            if fields.get("Assign") is not None:
                self._assign(fields["Assign"], join(where, "Assign"), jsonpath)
        else:
            for key in ("Next", "Assign", "Output"):
                if key in fields:
                    self._add(
                        "FIELD_NOT_ALLOWED",
                        join(where, key),
                        f"'{key}' is allowed only on top-level Choice rules, not inside And/Or/Not",
                    )
        self._check_language_fields(
            fields,
            where,
            language,
            _RULE_JSONPATH_ONLY,
            ("Condition", "Output") if top else ("Condition",),
        )
        if not jsonpath:
            if top and "Condition" not in fields:
                self._add(
                    "MISSING_FIELD",
                    join(where, "Condition"),
                    "a JSONata Choice rule requires 'Condition'",
                )
            condition = fields.get("Condition")
            if "Condition" in fields and not _is_expression(condition):
                self._add(
                    "INVALID_JSONATA",
                    join(where, "Condition"),
                    f"Condition is {condition!r}; expected a JSONata expression '{{% … %}}'",
                )
            for key in ("Condition", "Output", "Assign"):
                if fields.get(key) is not None:
                    self.diagnostics.extend(expression_diagnostics(fields[key], join(where, key)))
            return
        combinators = [key for key in ("And", "Or", "Not") if key in fields]
        operators = [key for key in fields if key in CHOICE_OPERATORS]
        if combinators:
            if len(combinators) + len(operators) > 1:
                self._add(
                    "CHOICE_RULE_OPERATORS",
                    where,
                    f"found {', '.join(combinators + operators)}; expected exactly one of And, "
                    "Or, Not or one comparison operator",
                )
            if "Variable" in fields:
                self._add(
                    "FIELD_NOT_ALLOWED",
                    join(where, "Variable"),
                    "'Variable' is not allowed in an And/Or/Not rule; "
                    "expected it only on data-test rules",
                )
            for key, children in (("And", rule.and_), ("Or", rule.or_)):
                if key in fields and children is not None:
                    if not children:
                        self._add(
                            "EMPTY_ARRAY",
                            join(where, key),
                            f"{key} is empty; expected at least one rule",
                        )
                    for i, child in enumerate(children):
                        yield child, join(where, key, i), False
            if rule.not_ is not None:
                yield rule.not_, join(where, "Not"), False
            return
        if len(operators) != 1:
            found = ", ".join(operators) if operators else "none"
            self._add(
                "CHOICE_RULE_OPERATORS",
                where,
                f"a data-test rule needs exactly one comparison operator (found: {found})",
            )
        if rule.variable is None:
            if "Variable" not in fields:
                self._add(
                    "MISSING_FIELD",
                    join(where, "Variable"),
                    "a data-test rule requires 'Variable' (a Path)",
                )
        elif not is_valid_path(rule.variable):
            self._add(
                "INVALID_PATH",
                join(where, "Variable"),
                f"Variable {rule.variable!r} is not a valid Path; {_PATH_HINT}",
            )
        for key in operators:
            value = fields[key]
            if key.endswith("Path") and isinstance(value, str) and not is_valid_path(value):
                self._add(
                    "INVALID_PATH",
                    join(where, key),
                    f"{key} {value!r} is not a valid Path; {_PATH_HINT}",
                )
            elif (
                key.startswith("Timestamp")
                and not key.endswith("Path")
                and isinstance(value, str)
                and not is_timestamp(value)
            ):
                self._add(
                    "INVALID_TIMESTAMP",
                    join(where, key),
                    f"{value!r} is not a timestamp; {_TIMESTAMP_HINT}",
                )

    def _nested_scope(
        self,
        location: str,
        start_at: str,
        states: Mapping[str, State],
        declared: str | None,
        pending: _PendingScope,
    ) -> None:
        scope_language = pending.machine_query_language
        if declared is not None:
            scope_language = self._query_language(
                declared, join(location, "QueryLanguage"), scope_language
            )
        self._pending.append(
            _PendingScope(
                location,
                start_at,
                states,
                scope_language,
                pending.machine_query_language,
                frozenset(self._scope_variables),
            )
        )

    def _check_parallel(self, state: ParallelState, location: str, pending: _PendingScope) -> None:
        branches_location = join(location, "Branches")
        if not state.branches:
            self._add(
                "EMPTY_ARRAY", branches_location, "Branches is empty; expected at least one branch"
            )
        for i, branch in enumerate(state.branches):
            where = join(branches_location, i)
            self._check_nulls(branch, where)
            self._nested_scope(
                where, branch.start_at, branch.states, branch.query_language, pending
            )

    def _check_map(
        self,
        state: MapState,
        fields: Mapping[str, Any],
        location: str,
        jsonpath: bool,
        pending: _PendingScope,
    ) -> None:
        processors = self._exclusive(fields, location, "ItemProcessor", "Iterator")
        if not processors:
            self._add(
                "MISSING_FIELD",
                join(location, "ItemProcessor"),
                "a Map state requires 'ItemProcessor' (or the legacy 'Iterator')",
            )
        self._exclusive(fields, location, "ItemSelector", "Parameters")
        self._exclusive(fields, location, "ItemsPath", "Items")
        self._exclusive(fields, location, "MaxConcurrency", "MaxConcurrencyPath")
        self._exclusive(fields, location, "ToleratedFailureCount", "ToleratedFailureCountPath")
        self._exclusive(
            fields, location, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath"
        )
        if state.max_concurrency is not None:
            self._seconds_value(
                state.max_concurrency, join(location, "MaxConcurrency"), jsonpath, 0
            )
        if state.tolerated_failure_count is not None:
            self._seconds_value(
                state.tolerated_failure_count, join(location, "ToleratedFailureCount"), jsonpath, 0
            )
        if state.tolerated_failure_percentage is not None:
            self._seconds_value(
                state.tolerated_failure_percentage,
                join(location, "ToleratedFailurePercentage"),
                jsonpath,
                0,
                100,
            )
        if jsonpath:
            if fields.get("ItemsPath") is not None and not is_valid_path(fields["ItemsPath"]):
                self._add(
                    "INVALID_PATH",
                    join(location, "ItemsPath"),
                    f"ItemsPath {fields['ItemsPath']!r} is not a valid Path; {_PATH_HINT}",
                )
            for key in (
                "MaxConcurrencyPath",
                "ToleratedFailureCountPath",
                "ToleratedFailurePercentagePath",
            ):
                self._reference_path(fields.get(key), join(location, key), key)
        for key in processors:
            processor = state.item_processor if key == "ItemProcessor" else state.iterator
            if processor is None:
                continue
            where = join(location, key)
            self._check_nulls(processor, where)
            config = processor.processor_config
            if config is not None:
                config_location = join(where, "ProcessorConfig")
                self._check_nulls(config, config_location)
                for field, allowed in (
                    ("mode", ("INLINE", "DISTRIBUTED")),
                    ("execution_type", ("STANDARD", "EXPRESS")),
                ):
                    value = getattr(config, field)
                    alias = type(config).model_fields[field].alias or field
                    if value is not None and value not in allowed:
                        self._add(
                            "INVALID_VALUE",
                            join(config_location, alias),
                            f"{alias} is {value!r}; expected one of {', '.join(allowed)}",
                        )
            self._nested_scope(
                where, processor.start_at, processor.states, processor.query_language, pending
            )
