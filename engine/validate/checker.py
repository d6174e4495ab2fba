"""The walk over a whole definition: scopes, states, transitions, then the graph checks.

The walk is iterative (a queue of scopes, explicit stacks, no recursion), so machines with
thousands of states or deeply nested branches, processors and Choice rules are checked without
stack overflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine._pointer import join
from engine.diagnostics import Diagnostic
from engine.expressions import is_expression
from engine.model import (
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from engine.names import MAX_NAME_LENGTH
from engine.paths import is_valid_path
from engine.validate.distributed import distributed_field_diagnostics
from engine.validate.graph import Edge, Scope, check_graph
from engine.validate.jsonata import (
    JSONATA_STATE_FIELDS,
    assign_keys,
    assigned_names,
    expression_diagnostics,
    scope_collisions,
)
from engine.validate.lints import integration_prefix
from engine.validate.messages import json_type
from engine.validate.state_types import StateTypeChecks
from engine.validate.values import (
    JSONATA,
    JSONPATH,
    MAX_SECONDS,
    PATH_HINT,
    set_fields,
)

__all__ = ["validate_machine"]

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


def validate_machine(machine: StateMachine) -> list[Diagnostic]:
    """Every diagnostic (errors and warnings) of ``machine``, in document order per check."""
    checker = _Checker()
    checker.run(machine)
    return checker.diagnostics


@dataclass(frozen=True, slots=True)
class _PendingScope:
    location: str
    start_at: str
    states: Mapping[str, State]
    query_language: str
    machine_query_language: str
    outer_variables: frozenset[str] = frozenset()


class _Checker(StateTypeChecks):
    """Collects the diagnostics of one machine in a single iterative pass plus graph checks."""

    def __init__(self) -> None:
        super().__init__()
        self._scopes: list[Scope] = []
        self._owners: dict[str, list[int]] = {}
        self._first_location: dict[str, str] = {}
        self._pending: list[_PendingScope] = []

    def run(self, machine: StateMachine) -> None:
        fields = set_fields(machine)
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
            if len(name) > MAX_NAME_LENGTH:
                self._add(
                    "STATE_NAME_TOO_LONG",
                    location,
                    f"state name has {len(name)} characters; expected at most {MAX_NAME_LENGTH}",
                )
            self._check_state(scope, name, state, location, pending)

    def _check_state(
        self, scope: Scope, name: str, state: State, location: str, pending: _PendingScope
    ) -> None:
        fields = set_fields(state)
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
            if "Items" in fields and not (isinstance(items, list | dict) or is_expression(items)):
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
            prefix = integration_prefix(state.resource) if isinstance(state, TaskState) else None
            self._check_retry(state.retry, join(location, "Retry"), prefix)
            self._check_catch(
                scope, name, state.catch, join(location, "Catch"), prefix=prefix, jsonpath=jsonpath
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

    def _nested_scope(
        self,
        location: str,
        start_at: str,
        states: Mapping[str, State],
        declared: str | None,
        pending: _PendingScope,
        *,
        owner: State,
    ) -> None:
        """Queue the scope of a branch or iteration of ``owner`` for checking.

        Its enclosing variables are those the enclosing scopes assign, less the names only
        ``owner``'s catchers assign: a catcher runs after the branches end, and AWS runs a
        branch assigning the name its Parallel's catcher assigns.
        """
        others = {n: s for n, s in pending.states.items() if s is not owner}
        outer = (
            pending.outer_variables
            | frozenset(assigned_names(others))
            | frozenset(assign_keys(getattr(owner, "assign", None)))
        )
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
                outer,
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
                where, branch.start_at, branch.states, branch.query_language, pending, owner=state
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
        self.diagnostics.extend(distributed_field_diagnostics(fields, location, jsonpath))
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
                    f"ItemsPath {fields['ItemsPath']!r} is not a valid Path; {PATH_HINT}",
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
                where,
                processor.start_at,
                processor.states,
                processor.query_language,
                pending,
                owner=state,
            )
