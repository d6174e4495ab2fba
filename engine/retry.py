"""Retrier and Catcher semantics: which error a Retry or Catch entry matches, and retry delays.

Matching follows what AWS does rather than the letter of the spec: ``States.Runtime`` is
never retried or caught (even when named), ``States.ALL`` matches every other error (including
``States.DataLimitExceeded``, as observed), and ``States.TaskFailed`` matches every error except
``States.Timeout``. An error's aliases match too: a missed heartbeat is ``States.Timeout``,
matched also by ``States.HeartbeatTimeout``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Final

from engine.errors import ALL, RUNTIME, TASK_FAILED, TIMEOUT
from engine.model import Catcher, Retrier

__all__ = [
    "DEFAULT_BACKOFF_RATE",
    "DEFAULT_INTERVAL_SECONDS",
    "DEFAULT_MAX_ATTEMPTS",
    "JITTER_FULL",
    "JITTER_NONE",
    "error_matches",
    "find_catcher",
    "find_retrier",
    "is_catchable",
    "is_retryable",
    "max_attempts",
    "retry_delay",
    "uncapped_delay",
]

DEFAULT_INTERVAL_SECONDS: Final = 1
DEFAULT_MAX_ATTEMPTS: Final = 3
DEFAULT_BACKOFF_RATE: Final = 2.0
JITTER_FULL: Final = "FULL"
JITTER_NONE: Final = "NONE"


def is_retryable(error: str) -> bool:
    """Whether a Retrier may ever retry ``error`` (everything except ``States.Runtime``)."""
    return error != RUNTIME


def is_catchable(error: str) -> bool:
    """Whether a Catcher may ever catch ``error`` (everything except ``States.Runtime``)."""
    return error != RUNTIME


def error_matches(error_equals: Sequence[str], error: str, aliases: Sequence[str] = ()) -> bool:
    """Whether an ``ErrorEquals`` list matches the error name ``error`` (or one of ``aliases``).

    Names match exactly and case-sensitively; ``States.ALL`` matches any error and
    ``States.TaskFailed`` any error but ``States.Timeout``. ``States.Runtime`` matches nothing.
    """
    if error == RUNTIME:
        return False
    for name in error_equals:
        if name in (error, ALL) or name in aliases:
            return True
        if name == TASK_FAILED and error != TIMEOUT:
            return True
    return False


def find_retrier(
    retriers: Sequence[Retrier], error: str, aliases: Sequence[str] = ()
) -> int | None:
    """Index of the first Retrier whose ``ErrorEquals`` matches ``error``, else ``None``.

    Only this Retrier applies: when it is exhausted the state goes to Catch processing and
    later Retriers are not consulted.
    """
    if not is_retryable(error):
        return None
    for index, retrier in enumerate(retriers):
        if error_matches(retrier.error_equals, error, aliases):
            return index
    return None


def find_catcher(
    catchers: Sequence[Catcher], error: str, aliases: Sequence[str] = ()
) -> Catcher | None:
    """The first Catcher whose ``ErrorEquals`` matches ``error``, else ``None``."""
    if not is_catchable(error):
        return None
    for catcher in catchers:
        if error_matches(catcher.error_equals, error, aliases):
            return catcher
    return None


def max_attempts(retrier: Retrier) -> int:
    """How many retries the Retrier allows (``MaxAttempts``, default 3; 0 means never)."""
    return DEFAULT_MAX_ATTEMPTS if retrier.max_attempts is None else retrier.max_attempts


def uncapped_delay(retrier: Retrier, retry_number: int) -> float:
    """``IntervalSeconds * BackoffRate^(n-1)`` for the 1-based retry number ``n``, uncapped."""
    if retry_number < 1:
        raise ValueError(f"retry_number must be 1 or more, got {retry_number}")
    interval = (
        DEFAULT_INTERVAL_SECONDS if retrier.interval_seconds is None else retrier.interval_seconds
    )
    rate = DEFAULT_BACKOFF_RATE if retrier.backoff_rate is None else float(retrier.backoff_rate)
    return float(interval) * rate ** (retry_number - 1)


def retry_delay(retrier: Retrier, retry_number: int, rng: random.Random) -> float:
    """Seconds to wait before the 1-based ``retry_number``-th retry of this Retrier.

    ``min(IntervalSeconds * BackoffRate^(n-1), MaxDelaySeconds)``; with ``JitterStrategy: FULL``
    a value drawn uniformly from ``[0, that]`` using ``rng`` (so a seeded run is repeatable).
    """
    try:
        delay = uncapped_delay(retrier, retry_number)
    except OverflowError:
        delay = float("inf")
    if retrier.max_delay_seconds is not None:
        delay = min(delay, float(retrier.max_delay_seconds))
    if retrier.jitter_strategy == JITTER_FULL:
        return rng.uniform(0.0, delay)
    return delay
