"""Testing sagas and state machines: fault injection, domain assertions, history tables.

The pytest fixtures live in :mod:`saga.pytest_plugin` (registered on install).
"""

from saga.fault_states import UnknownFaultState
from saga.testing import callbacks, faults
from saga.testing.assertions import (
    SagaAssertionError,
    assert_compensated,
    assert_failed,
    assert_path,
    assert_retried,
    assert_succeeded,
    assert_timed_out,
    compensations_run,
    retry_delays,
    state_visits,
)
from saga.testing.aws import MockAws
from saga.testing.clock import TestClock
from saga.testing.harness import SagaTestEngine
from saga.testing.history_table import history_table
from saga.testing.loading import load_machine, load_saga

__all__ = [
    "MockAws",
    "SagaAssertionError",
    "SagaTestEngine",
    "TestClock",
    "UnknownFaultState",
    "assert_compensated",
    "assert_failed",
    "assert_path",
    "assert_retried",
    "assert_succeeded",
    "assert_timed_out",
    "compensations_run",
    "callbacks",
    "faults",
    "history_table",
    "load_machine",
    "load_saga",
    "retry_delays",
    "state_visits",
]
