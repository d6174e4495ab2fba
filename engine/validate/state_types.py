"""Checks of the fields particular to Task, Wait, Fail and Choice states."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine._pointer import join
from engine.choice import is_timestamp
from engine.expressions import is_expression
from engine.model import CHOICE_OPERATORS, ChoiceRule, ChoiceState, TaskState
from engine.paths import is_valid_path
from engine.validate.error_handling import ErrorHandlingChecks
from engine.validate.graph import Edge, Scope
from engine.validate.jsonata import expression_diagnostics
from engine.validate.messages import json_type
from engine.validate.values import JSONATA, JSONPATH, MAX_SECONDS, PATH_HINT, set_fields

_RULE_JSONPATH_ONLY = ("Variable", "And", "Or", "Not", *CHOICE_OPERATORS)
_TIMESTAMP_HINT = "expected RFC 3339 such as '2016-03-14T01:59:00Z'"


class StateTypeChecks(ErrorHandlingChecks):
    """Task timeouts and heartbeats, Wait times, Fail error and cause, Choice rules."""

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
            and not (not jsonpath and is_expression(timestamp))
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
        fields = set_fields(rule)
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
            # A boolean literal is a constant condition: AWS accepts it (recorded).
            if "Condition" in fields and not (
                is_expression(condition) or isinstance(condition, bool)
            ):
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
                f"Variable {rule.variable!r} is not a valid Path; {PATH_HINT}",
            )
        for key in operators:
            value = fields[key]
            if key.endswith("Path") and isinstance(value, str) and not is_valid_path(value):
                self._add(
                    "INVALID_PATH",
                    join(where, key),
                    f"{key} {value!r} is not a valid Path; {PATH_HINT}",
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
