"""The airline example's five scenarios run into a SQLite store, for the drawing and page tests."""

from __future__ import annotations

import io
from pathlib import Path

from examples.airline_booking.__main__ import main

SCENARIO_EXECUTIONS = {
    "happy-path": "booking-happy-path-1",
    "transient-reservation-error": "booking-transient-reservation-error-1",
    "payment-declined": "booking-payment-declined-1",
    "sold-out": "booking-sold-out-1",
    "confirmation-fails": "booking-confirmation-fails-1",
}
"""Scenario name → the execution name it gets in a fresh store."""


def run_airline_into(store: Path) -> Path:
    """Run every scenario with its events kept in ``store``; returns the store's path."""
    out = io.StringIO()
    code = main(["--scenario", "all", "--store", str(store)], out=out)
    assert code == 0, out.getvalue()
    return store


def run_airline_in_process_of_its_own(store: Path) -> Path:
    """:func:`run_airline_into` in a child process (for callers already inside an event loop)."""
    import subprocess
    import sys

    command = "import sys; from examples.airline_booking.__main__ import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", command, "--scenario", "all", "--store", str(store)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return store
