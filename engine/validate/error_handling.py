"""Checks of Retry and Catch: ErrorEquals names, retrier numbers, catcher fields and edges."""

from __future__ import annotations

from engine._pointer import join
from engine.errors import ALL
from engine.model import Catcher, Retrier
from engine.retry import JITTER_FULL, JITTER_NONE
from engine.validate.codes import PREDEFINED_ERRORS
from engine.validate.graph import Edge, Scope
from engine.validate.jsonata import expression_diagnostics
from engine.validate.lints import catcher_discards_input, unprefixed_integration_error
from engine.validate.values import (
    JSONATA,
    JSONPATH,
    MAX_DELAY_SECONDS,
    MAX_SECONDS,
    ValueChecks,
    set_fields,
)


class ErrorHandlingChecks(ValueChecks):
    """Retriers and catchers of Task, Parallel and Map states."""

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
            elif prefix is not None:
                lint = unprefixed_integration_error(error, prefix, error_location)
                if lint is not None:
                    self.diagnostics.append(lint)

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
            fields = set_fields(catcher)
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
                self.diagnostics.append(catcher_discards_input(where))
            elif catcher.result_path is not None:
                self._result_path(catcher.result_path, join(where, "ResultPath"))
