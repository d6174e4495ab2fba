"""Retrier/Catcher matching and retry delays (engine.retry)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.model import Catcher, Retrier
from engine.retry import (
    error_matches,
    find_catcher,
    find_retrier,
    is_catchable,
    is_retryable,
    max_attempts,
    retry_delay,
    uncapped_delay,
)


def _retrier(**fields: object) -> Retrier:
    return Retrier.model_validate({"ErrorEquals": ["States.ALL"], **fields})


def _delays(retrier: Retrier, count: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [retry_delay(retrier, n, rng) for n in range(1, count + 1)]


# --- error_matches -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_equals", "error", "expected"),
    [
        (["MyError"], "MyError", True),
        (["MyError"], "myerror", False),
        (["MyError"], "MyError2", False),
        (["A", "B"], "B", True),
        (["ECS.ServerException"], "Ecs.ServerException", False),
        (["States.ALL"], "MyError", True),
        (["States.ALL"], "States.Timeout", True),
        (["States.ALL"], "States.TaskFailed", True),
        (["States.ALL"], "States.DataLimitExceeded", True),
        (["States.ALL"], "States.Runtime", False),
        (["States.Runtime"], "States.Runtime", False),
        (["States.TaskFailed"], "MyError", True),
        (["States.TaskFailed"], "States.TaskFailed", True),
        (["States.TaskFailed"], "States.Permissions", True),
        (["States.TaskFailed"], "Lambda.ServiceException", True),
        (["States.TaskFailed"], "States.Timeout", False),
        (["States.TaskFailed"], "States.Runtime", False),
        (["States.Timeout"], "States.Timeout", True),
        (["States.Timeout"], "States.HeartbeatTimeout", False),
        (["States.HeartbeatTimeout"], "States.Timeout", False),
        ([], "MyError", False),
    ],
)
def test_error_matches(error_equals: list[str], error: str, expected: bool) -> None:
    assert error_matches(error_equals, error) is expected


def test_a_missed_heartbeat_is_matched_by_its_alias() -> None:
    # A missed heartbeat is reported as States.Timeout (as AWS records it) and matched by
    # States.HeartbeatTimeout too, which AWS offers in Retry and Catch only.
    aliases = ("States.HeartbeatTimeout",)
    assert error_matches(["States.HeartbeatTimeout"], "States.Timeout", aliases) is True
    assert error_matches(["States.Timeout"], "States.Timeout", aliases) is True
    assert error_matches(["States.TaskFailed"], "States.Timeout", aliases) is False
    catchers = [
        Catcher.model_validate({"ErrorEquals": ["States.Timeout"], "Next": "T"}),
        Catcher.model_validate({"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "H"}),
    ]
    assert find_catcher(catchers[1:], "States.Timeout") is None
    caught = find_catcher(catchers[1:], "States.Timeout", aliases)
    assert caught is not None and caught.next == "H"
    first = find_catcher(catchers, "States.Timeout", aliases)
    assert first is not None and first.next == "T"


def test_runtime_is_neither_retryable_nor_catchable() -> None:
    assert is_retryable("States.Runtime") is False
    assert is_catchable("States.Runtime") is False
    assert is_retryable("States.Timeout") is True
    assert is_catchable("States.DataLimitExceeded") is True
    assert is_catchable("Custom") is True


# --- find_retrier / find_catcher ---------------------------------------------------------------


def test_find_retrier_first_match_wins() -> None:
    retriers = [
        Retrier.model_validate({"ErrorEquals": ["A", "B"]}),
        Retrier.model_validate({"ErrorEquals": ["C"]}),
        Retrier.model_validate({"ErrorEquals": ["States.ALL"]}),
    ]
    assert find_retrier(retriers, "A") == 0
    assert find_retrier(retriers, "B") == 0
    assert find_retrier(retriers, "C") == 1
    assert find_retrier(retriers, "D") == 2
    assert find_retrier(retriers, "States.Runtime") is None


def test_find_retrier_timeout_idiom() -> None:
    retriers = [
        Retrier.model_validate({"ErrorEquals": ["States.Timeout"], "MaxAttempts": 0}),
        Retrier.model_validate({"ErrorEquals": ["States.ALL"]}),
    ]
    assert find_retrier(retriers, "States.Timeout") == 0
    assert max_attempts(retriers[0]) == 0
    assert find_retrier(retriers, "Other") == 1


def test_find_retrier_none() -> None:
    assert find_retrier([], "A") is None
    assert find_retrier([Retrier.model_validate({"ErrorEquals": ["B"]})], "A") is None


def test_find_retrier_task_failed_skips_timeout() -> None:
    retriers = [
        Retrier.model_validate({"ErrorEquals": ["States.TaskFailed"]}),
        Retrier.model_validate({"ErrorEquals": ["States.Timeout"]}),
    ]
    assert find_retrier(retriers, "Boom") == 0
    assert find_retrier(retriers, "States.Timeout") == 1


def test_find_catcher() -> None:
    catchers = [
        Catcher.model_validate({"ErrorEquals": ["A"], "Next": "HandleA"}),
        Catcher.model_validate({"ErrorEquals": ["States.TaskFailed"], "Next": "Failed"}),
        Catcher.model_validate({"ErrorEquals": ["States.ALL"], "Next": "Any"}),
    ]
    found = find_catcher(catchers, "A")
    assert found is not None and found.next == "HandleA"
    found = find_catcher(catchers, "B")
    assert found is not None and found.next == "Failed"
    found = find_catcher(catchers, "States.Timeout")
    assert found is not None and found.next == "Any"
    found = find_catcher(catchers, "States.DataLimitExceeded")
    assert found is not None and found.next == "Failed"
    assert find_catcher(catchers, "States.Runtime") is None
    explicit = [Catcher.model_validate({"ErrorEquals": ["States.Runtime"], "Next": "X"})]
    assert find_catcher(explicit, "States.Runtime") is None
    assert find_catcher([], "A") is None


# --- max_attempts ------------------------------------------------------------------------------


def test_max_attempts_default_and_explicit() -> None:
    assert max_attempts(_retrier()) == 3
    assert max_attempts(_retrier(MaxAttempts=0)) == 0
    assert max_attempts(_retrier(MaxAttempts=7)) == 7


# --- retry_delay -------------------------------------------------------------------------------


def test_delay_defaults() -> None:
    assert _delays(_retrier(), 3) == [1.0, 2.0, 4.0]


def test_delay_spec_example() -> None:
    retrier = _retrier(IntervalSeconds=3, MaxAttempts=2, BackoffRate=2.0)
    assert _delays(retrier, 2) == [3.0, 6.0]


def test_delay_capped_by_max_delay_seconds() -> None:
    retrier = _retrier(IntervalSeconds=3, MaxAttempts=2, BackoffRate=2.0, MaxDelaySeconds=4)
    assert _delays(retrier, 3) == [3.0, 4.0, 4.0]


def test_delay_fractional_backoff_rate() -> None:
    retrier = _retrier(IntervalSeconds=3, MaxAttempts=2, BackoffRate=1.5)
    assert _delays(retrier, 3) == [3.0, 4.5, 6.75]


def test_delay_airline_reserve_booking() -> None:
    retrier = _retrier(IntervalSeconds=1, MaxAttempts=2, BackoffRate=2)
    assert _delays(retrier, 2) == [1.0, 2.0]


def test_delay_interval_zero() -> None:
    assert _delays(_retrier(IntervalSeconds=0, BackoffRate=2), 3) == [0.0, 0.0, 0.0]


def test_delay_rate_one_is_constant() -> None:
    assert _delays(_retrier(IntervalSeconds=5, BackoffRate=1), 4) == [5.0, 5.0, 5.0, 5.0]


def test_delay_jitter_none_is_deterministic() -> None:
    retrier = _retrier(IntervalSeconds=2, JitterStrategy="NONE")
    assert _delays(retrier, 3, seed=1) == [2.0, 4.0, 8.0]


def test_delay_full_jitter_uses_rng() -> None:
    retrier = _retrier(IntervalSeconds=3, BackoffRate=2.0, JitterStrategy="FULL")
    rng = random.Random(42)
    expected_rng = random.Random(42)
    expected = [expected_rng.uniform(0.0, 3.0), expected_rng.uniform(0.0, 6.0)]
    assert [retry_delay(retrier, 1, rng), retry_delay(retrier, 2, rng)] == expected


def test_delay_full_jitter_respects_cap() -> None:
    retrier = _retrier(IntervalSeconds=10, MaxDelaySeconds=4, JitterStrategy="FULL")
    rng = random.Random(7)
    expected_rng = random.Random(7)
    assert retry_delay(retrier, 5, rng) == expected_rng.uniform(0.0, 4.0)


def test_delay_huge_retry_number_capped() -> None:
    retrier = _retrier(IntervalSeconds=1, MaxDelaySeconds=60)
    assert retry_delay(retrier, 5000, random.Random(0)) == 60.0


def test_uncapped_delay_rejects_zero() -> None:
    with pytest.raises(ValueError, match="retry_number"):
        uncapped_delay(_retrier(), 0)


@given(
    interval=st.integers(min_value=0, max_value=1000),
    rate=st.floats(min_value=1.0, max_value=5.0),
    cap=st.integers(min_value=1, max_value=10_000),
    number=st.integers(min_value=1, max_value=30),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_full_jitter_within_bounds(
    interval: int, rate: float, cap: int, number: int, seed: int
) -> None:
    base = _retrier(IntervalSeconds=interval, BackoffRate=rate, MaxDelaySeconds=cap)
    jittered = _retrier(
        IntervalSeconds=interval, BackoffRate=rate, MaxDelaySeconds=cap, JitterStrategy="FULL"
    )
    ceiling = retry_delay(base, number, random.Random(seed))
    assert ceiling == min(interval * rate ** (number - 1), cap)
    assert 0.0 <= retry_delay(jittered, number, random.Random(seed)) <= ceiling
