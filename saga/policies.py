"""Retry policies and error names: how a step's ``Retry`` and ``Catch`` entries are written.

An error is named by a string (``"States.Timeout"``, ``"DynamoDB.ConditionalCheckFailedException"``)
or by a Python exception class. A class's ASL name is its ``error_name`` class attribute when it
has one, else its class name — what AWS Lambda's Python runtime reports as ``errorType`` and what
the local engine reports too, so a retrier matches the same errors locally and when deployed.
ASL matches names exactly: naming a base class does not match its subclasses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from engine.errors import ALL, StatesError, error_name_of_class
from engine.model import Retrier

__all__ = ["ErrorSpec", "Jitter", "Retry", "error_name", "error_names"]

ErrorSpec: TypeAlias = str | type[BaseException]
"""An ASL error name, or a Python exception class standing for its ASL name."""

Jitter: TypeAlias = Literal["FULL", "NONE"] | bool
"""``JitterStrategy``: ``"FULL"``/``True`` draws each delay uniformly in ``[0, delay]``."""

_MAX_ATTEMPTS_LIMIT = 99_999_999
_TOO_BROAD = (BaseException, Exception)


@dataclass(frozen=True, init=False)
class Retry:
    """One retrier: retry the listed errors with exponential backoff.

    ``Retry(BookingReservationException, interval=1, backoff_rate=2.0, max_retries=2)`` writes
    ``{"ErrorEquals": ["BookingReservationException"], "IntervalSeconds": 1, "BackoffRate": 2.0,
    "MaxAttempts": 2}``. Only the options given are written; Step Functions' defaults are
    ``interval=1``, ``backoff_rate=2.0``, ``max_retries=3``. ``max_retries`` counts *retries*
    (ASL ``MaxAttempts``): ``max_retries=2`` means up to three attempts, ``0`` never retries.
    The delay before retry *n* is ``min(interval * backoff_rate ** (n - 1), max_delay)``,
    drawn uniformly from ``[0, that]`` with ``jitter="FULL"``.

    ``backoff_rate`` is written as a JSON float (``2.0``), which every validator accepts; pass
    ``exact_backoff_rate=True`` to write it exactly as given (e.g. the integer ``2`` of an
    existing definition you reproduce). Retriers are scanned in order and only the first
    whose errors match applies.
    """

    errors: tuple[ErrorSpec, ...]
    interval: int | None
    backoff_rate: float | None
    max_retries: int | None
    max_delay: int | None
    jitter: Jitter | None
    exact_backoff_rate: bool
    comment: str | None

    def __init__(
        self,
        *errors: ErrorSpec,
        interval: int | None = None,
        backoff_rate: float | None = None,
        max_retries: int | None = None,
        max_delay: int | None = None,
        jitter: Jitter | None = None,
        exact_backoff_rate: bool = False,
        comment: str | None = None,
    ) -> None:
        object.__setattr__(self, "errors", tuple(errors))
        object.__setattr__(self, "interval", interval)
        object.__setattr__(self, "backoff_rate", backoff_rate)
        object.__setattr__(self, "max_retries", max_retries)
        object.__setattr__(self, "max_delay", max_delay)
        object.__setattr__(self, "jitter", jitter)
        object.__setattr__(self, "exact_backoff_rate", exact_backoff_rate)
        object.__setattr__(self, "comment", comment)

    def problems(self) -> list[str]:
        """What is wrong with this retrier, each with what to write instead (empty when fine)."""
        out = error_problems(self.errors, "errors")
        out += _whole_number(self.interval, "interval", minimum=0, hint="0 or more seconds")
        out += _whole_number(
            self.max_retries, "max_retries", minimum=0, hint="0 (never retry) or more"
        )
        if isinstance(self.max_retries, int) and self.max_retries > _MAX_ATTEMPTS_LIMIT:
            out.append(f"max_retries is {self.max_retries}; use at most {_MAX_ATTEMPTS_LIMIT}")
        out += _whole_number(self.max_delay, "max_delay", minimum=1, hint="1 or more seconds")
        rate = self.backoff_rate
        if rate is not None:
            if (
                isinstance(rate, bool)
                or not isinstance(rate, int | float)
                or not math.isfinite(rate)
            ):
                out.append(f"backoff_rate is {rate!r}; use a number of at least 1.0")
            elif rate < 1:
                out.append(f"backoff_rate is {rate!r}; use 1.0 (a constant interval) or more")
        jitter = self.jitter
        if jitter is not None and not isinstance(jitter, bool) and jitter not in ("FULL", "NONE"):
            out.append(f"jitter is {jitter!r}; use 'FULL', 'NONE', True or False")
        return out

    def to_retrier(self) -> Retrier:
        """The ASL ``Retrier`` holding exactly the options that were given."""
        fields: dict[str, object] = {"error_equals": error_names(self.errors)}
        if self.interval is not None:
            fields["interval_seconds"] = self.interval
        if self.backoff_rate is not None:
            rate = self.backoff_rate
            fields["backoff_rate"] = rate if self.exact_backoff_rate else float(rate)
        if self.max_retries is not None:
            fields["max_attempts"] = self.max_retries
        if self.max_delay is not None:
            fields["max_delay_seconds"] = self.max_delay
        if self.jitter is not None:
            jitter = self.jitter
            fields["jitter_strategy"] = (
                ("FULL" if jitter else "NONE") if isinstance(jitter, bool) else jitter
            )
        if self.comment is not None:
            fields["comment"] = self.comment
        return Retrier.model_validate(fields)


def _whole_number(value: object, name: str, *, minimum: int, hint: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int):
        return [f"{name} is {value!r}; use a whole number: {hint}"]
    if value < minimum:
        return [f"{name} is {value}; use {hint}"]
    return []


def error_name(spec: ErrorSpec) -> str:
    """The ASL error name ``spec`` stands for (see the module docstring)."""
    if isinstance(spec, str):
        return spec
    return error_name_of_class(spec)


def error_names(specs: Sequence[ErrorSpec]) -> list[str]:
    """The ASL names of ``specs``, in order."""
    return [error_name(spec) for spec in specs]


def error_problems(specs: Sequence[object], what: str) -> list[str]:
    """What is wrong with a list of errors given for ``what`` (a retrier, ``fail_fast_on`` …)."""
    if not specs:
        return [f"{what} is empty; name at least one error (or 'States.ALL')"]
    out: list[str] = []
    for spec in specs:
        if isinstance(spec, str):
            if not spec:
                out.append(f"{what} holds an empty error name")
            continue
        if isinstance(spec, list | tuple):
            out.append(f"{what} holds a list {spec!r}; pass each error as its own argument")
            continue
        if not (isinstance(spec, type) and issubclass(spec, BaseException)):
            out.append(f"{what} holds {spec!r}; use an exception class or an error name string")
            continue
        if spec in _TOO_BROAD:
            out.append(
                f"{what} names {spec.__name__}, which in ASL matches only errors named "
                f"'{spec.__name__}', not its subclasses; name the exception classes, or use "
                "'States.ALL' (any error) or 'States.TaskFailed' (any error but a timeout)"
            )
        elif issubclass(spec, StatesError):
            out.append(
                f"{what} names {spec.__name__}, whose ASL name is set per instance; "
                "name the error as a string instead"
            )
        elif not isinstance(getattr(spec, "error_name", ""), str):
            out.append(
                f"{what} names {spec.__name__}, whose error_name is not a plain class "
                "attribute string; set error_name = '...' on the class"
            )
    names = [error_name(s) for s in specs if isinstance(s, str | type)]
    if ALL in names and len(names) > 1:
        out.append(f"{what} lists States.ALL with other errors; States.ALL must stand alone")
    return out
