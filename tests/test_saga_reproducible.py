"""Runs are reproducible by default: every random draw comes from a seed derived from the name.

The same execution name and input give the same retry jitter, ``States.UUID`` values and task
tokens, in this process or another one; ``seed=``/``--seed`` overrides the derived seed, and
``Execution.seed`` records the one used.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.seeding import execution_seed, seed_from_name
from examples.trip.trip import trip
from saga.cli import main
from saga.testing import TestClock, retry_delays

ROOT = Path(__file__).resolve().parent.parent
BUSY = {"flightBusy": 3, "amount": 20}


def _expected_delays(seed: int, retries: int) -> list[float]:
    """Each try of Book Flight draws a States.UUID (128 bits), each retry one jitter value."""
    rng = random.Random(seed)
    delays: list[float] = []
    for retry in range(retries):
        rng.getrandbits(128)
        delays.append(round(rng.uniform(0.0, 1.0 * 2.0**retry), 6))
    return delays


def test_the_seed_is_derived_from_the_name_with_sha256() -> None:
    digest = hashlib.sha256(b"trip-1").digest()
    assert seed_from_name("trip-1") == int.from_bytes(digest[:8], "big") == 4214181976520471143
    assert execution_seed("trip-1", None) == 4214181976520471143
    assert execution_seed("trip-1", 7) == 7


def test_the_same_name_and_input_give_the_same_retry_delays() -> None:
    first = trip.run(BUSY, name="trip-1")
    second = trip.run(BUSY, name="trip-1")
    assert first.seed == second.seed == 4214181976520471143
    assert retry_delays(first, "Book Flight") == pytest.approx(
        _expected_delays(4214181976520471143, 3), abs=0.001
    )
    assert retry_delays(second, "Book Flight") == pytest.approx(
        retry_delays(first, "Book Flight"), abs=0.001
    )
    assert first.output == second.output


def test_another_name_draws_other_values() -> None:
    first = trip.run(BUSY, name="trip-1", clock=TestClock())
    other = trip.run(BUSY, name="trip-2", clock=TestClock())
    assert other.seed == seed_from_name("trip-2")
    assert retry_delays(other, "Book Flight") == pytest.approx(
        _expected_delays(seed_from_name("trip-2"), 3), abs=1e-5
    )
    assert first.output["bookFlight"] != other.output["bookFlight"]


def test_seed_overrides_the_derived_seed() -> None:
    execution = trip.run(BUSY, name="trip-1", seed=7, clock=TestClock())
    assert execution.seed == 7
    assert retry_delays(execution, "Book Flight") == pytest.approx(_expected_delays(7, 3), abs=1e-5)


def _until_the_parallel_group(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events before the Parallel group (whose branches interleave as they finish),
    without timestamps (the default virtual clock starts at the current time)."""
    out: list[dict[str, Any]] = []
    for event in history:
        if event["type"] == "ParallelStateEntered":
            break
        out.append({k: v for k, v in event.items() if k != "timestamp"})
    return out


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["run", "examples.trip.trip:trip", "--input", json.dumps(BUSY), *argv]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_saga_run_repeats_a_run_by_name_and_takes_seed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    first = _cli(capsys, "--name", "trip-1", "--history")
    again = _cli(capsys, "--name", "trip-1", "--history")
    seeded = _cli(capsys, "--name", "trip-1", "--seed", "7", "--history")
    assert _until_the_parallel_group(first["history"]) == _until_the_parallel_group(
        again["history"]
    )
    # started, entered, 4 tries of Book Flight (scheduled, started, failed or succeeded), exited
    assert len(_until_the_parallel_group(first["history"])) == 15
    assert first["output"] == again["output"] != seeded["output"]
    direct = trip.run(BUSY, name="trip-1", seed=7, clock=TestClock())
    assert seeded["output"] == direct.output


_SCRIPT = """
import json, sys
from saga import Saga
from saga.testing import TestClock
from examples.trip import trip as example

# The trip in a line: the order of a Parallel group's branch events is the engine's
# business (not the seed's), so the cross-process check runs every step one after another.
in_line = Saga("BookTripInLine")
for source in example.trip.units:
    for step in getattr(source, "steps", [source]):
        added = in_line.step(
            step.name,
            step.action,
            retry=list(step.retry),
            **({"parameters": step.parameters} if step.name == "Book Flight" else {}),
        )
        added.compensate(step.compensation.name, step.compensation.action)
in_line.on_failure("Notify Customer", example.notify_customer.action)

out = []
for case in json.load(sys.stdin):
    execution = in_line.run(case["input"], name=case["name"], seed=case["seed"], clock=TestClock())
    out.append({"seed": execution.seed, "result": execution.to_dict(history=True)})
print(json.dumps(out))
"""


def _in_a_process(cases: list[dict[str, Any]], hash_seed: str) -> Any:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


_CASE = st.fixed_dictionaries(
    {
        "name": st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True),
        "seed": st.none() | st.integers(min_value=0, max_value=2**63),
        "input": st.fixed_dictionaries(
            {
                "flightBusy": st.integers(min_value=0, max_value=4),
                "declineCard": st.booleans(),
                "hotelDown": st.booleans(),
                "amount": st.integers(min_value=0, max_value=10_000),
            }
        ),
    }
)


@settings(max_examples=3, deadline=None)
@given(st.lists(_CASE, min_size=4, max_size=4))
def test_same_name_input_and_seed_give_identical_histories_across_processes(
    cases: list[dict[str, Any]],
) -> None:
    first = _in_a_process(cases, "1")
    second = _in_a_process(cases, "2")
    assert first == second
    for case, run in zip(cases, first, strict=True):
        assert run["seed"] == execution_seed(case["name"], case["seed"])
