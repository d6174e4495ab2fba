"""Crash tests: the airline saga killed with SIGKILL at every history event, then resumed.

A helper process imports the engine and the saga once and forks one child per run; each child
runs one booking on the real clock with the SQLite store, and kills itself with SIGKILL right
after the commit that keeps its k-th history event (for every k; events of pure computation are
committed together, see ``tests/test_store_batches.py`` for kills between them), or some time
after it (inside a retry backoff). DynamoDB, SNS and SQS live in a moto server process, so
side effects outlive the kills. Then every unfinished execution is resumed from the store, and
each booking must end as an uninterrupted run of its scenario ends: same status, output,
visited states, seats, booking rows, charge, notifications and dead-letter messages — no
compensation skipped, none repeated.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.bindings import Interceptor
from engine.clock import RealClock
from engine.durable import resume
from engine.store import SQLiteStore, StoredExecution
from examples.airline_booking.environment import AirlineEnvironment
from examples.airline_booking.expected import ALL_STATES
from examples.airline_booking.functions import HANDLERS, _aws
from examples.airline_booking.scenarios import SCENARIOS, PreparedRun

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_NAMES = ("happy-path", "transient-reservation-error", "confirmation-fails")
"""Every forward step, both retried steps and every compensation are in their histories."""


def scenario_of(execution_name: str) -> str:
    """The scenario a run's execution name belongs to (``booking-<scenario>-<run>``)."""
    return next(name for name in SCENARIO_NAMES if execution_name.startswith(f"booking-{name}-"))


def faults_for(record: StoredExecution) -> list[Interceptor]:
    """The interceptors a stored run is resumed with: its scenario's faults, which key on the
    state's invocation number, so a resumed run meets the same ones."""
    return list(SCENARIOS[scenario_of(record.name)].faults)


_FORKER = r"""
import json, os, signal, sys, threading
from engine.clock import RealClock
from engine.local_engine import run
from engine.store import SQLiteStore
from examples.airline_booking.functions import HANDLERS
from examples.airline_booking.saga import build_machine
from examples.airline_booking.scenarios import SCENARIOS
from tests.test_crash_recovery import scenario_of

store_path, queue_url = sys.argv[1], sys.argv[2]
machine = build_machine({"BookingsDLQ": queue_url})
# No scenario here times out: the steps' 5 s limits are lifted, so that a slow moment of a loaded
# machine cannot send a run down a timeout path its baseline did not take. The stored definition
# carries the lifted limits, so the resumed runs have them too.
from engine.loader import load
definition = machine.to_dict()
for state in definition["States"].values():
    if "TimeoutSeconds" in state:
        state["TimeoutSeconds"] = 300
machine = load(definition)
# One boto3 client per service and one Table per name, made before forking: children start warm.
import functools
from examples.airline_booking.functions import _aws
_aws.client = functools.cache(_aws.client)
_aws.table = functools.cache(_aws.table)
for service in ("dynamodb", "sns", "sqs"):
    _aws.client(service)
for table in ("Airline-Flights", _aws.booking_table_name(), _aws.payment_table_name()):
    _aws.table(table)


def child(job):
    kill_after, delay = job["kill_after"], job["delay"]

    def kill():
        os.kill(os.getpid(), signal.SIGKILL)

    class CrashingStore(SQLiteStore):
        # Killed right after the commit that keeps event k (with the events batched with it).
        due = False

        def stage(self, name, event, transition=None):
            self.due = self.due or event.id == kill_after
            return super().stage(name, event, transition)

        def commit(self):
            super().commit()
            if self.due:
                self.due = False
                if delay:
                    threading.Timer(delay, kill).start()
                else:
                    kill()

    faults = SCENARIOS[scenario_of(job["name"])].faults
    run(
        machine,
        job["input"],
        handlers=HANDLERS,
        interceptors=list(faults),
        name=job["name"],
        clock=RealClock(),
        store=CrashingStore(store_path),
        handlers_ref="examples.airline_booking.functions",
        state_machine_name="ProcessBooking",
    )


jobs = [json.loads(line) for line in sys.stdin if line.strip()]
running = {}
results = {}
for job in jobs:
    while len(running) >= 8:
        pid, status = os.wait()
        results[running.pop(pid)] = status
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            child(job)
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 3
        os._exit(code)
    running[pid] = job["name"]
while running:
    pid, status = os.wait()
    results[running.pop(pid)] = status
print(json.dumps(results))
"""


@dataclass(frozen=True)
class Job:
    """One run: a prepared booking and where to kill it (0: never)."""

    prepared: PreparedRun
    kill_after: int = 0
    delay: float = 0.0

    @property
    def name(self) -> str:
        return self.prepared.execution_name

    def line(self, store: Path) -> str:
        return json.dumps(
            {
                "name": self.name,
                "input": self.prepared.input,
                "kill_after": self.kill_after,
                "delay": self.delay,
                "store": str(store),
            }
        )


@contextmanager
def _cached_aws() -> Iterator[None]:
    """Reuse boto3 clients and tables in this process (the functions make new ones per call)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_aws, "client", functools.cache(_aws.client))
        patch.setattr(_aws, "table", functools.cache(_aws.table))
        yield


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def airline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirlineEnvironment]:
    """The airline's tables, topic and queues in a moto server process on 127.0.0.1."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"moto server did not start: {log.read_text()}") from None
                time.sleep(0.1)
        saved = {key: os.environ.get(key) for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        os.environ["AWS_ACCESS_KEY_ID"] = "testing"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
        try:
            with AirlineEnvironment(endpoint_url=url, region="us-east-1") as env, _cached_aws():
                yield env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    finally:
        server.terminate()
        server.wait(10)


def _fork_runs(store: Path, env: AirlineEnvironment, jobs: list[Job]) -> dict[str, int]:
    """Run the jobs in forked children; return each run's wait status."""
    completed = subprocess.run(
        [sys.executable, "-c", _FORKER, str(store), env.dead_letter_queue_url],
        input="\n".join(job.line(store) for job in jobs),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    statuses: dict[str, int] = json.loads(completed.stdout.strip().splitlines()[-1])
    return statuses


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _normal(value: Any, run: PreparedRun) -> Any:
    """``value`` with what differs from run to run (ids, references, times) blotted out."""
    text = json.dumps(value, sort_keys=True)
    suffix = run.execution_name.removeprefix("booking-")
    text = text.replace(suffix, "<run>")
    text = _UUID.sub("<uuid>", text)
    text = re.sub(r"re_[0-9a-f]{16}", "<refund>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[.\d]*\+00:00", "<time>", text)
    return json.loads(text)


def _outcome(execution: Any, run: PreparedRun) -> dict[str, Any]:
    output = execution.output if execution.status == "SUCCEEDED" else None
    if isinstance(output, dict) and "bookingReference" in output:
        output = {**output, "bookingReference": "<reference>"}
    return _normal(
        {
            "status": execution.status,
            "output": output,
            "error": execution.error,
            "cause": execution.cause,
        },
        run,
    )


@dataclass(frozen=True)
class World:
    """Everything the runs left in DynamoDB, SNS and SQS, read once."""

    flights: dict[str, Any]
    bookings: dict[str, list[str]]
    charges: dict[str, Any]
    dead_letters: list[Any]
    notifications: list[Any]


def _scan(table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = _aws.table(table).scan(**kwargs)
        rows += [json.loads(json.dumps(item, default=float)) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return rows
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _receive_all(queue_name: str) -> list[Any]:
    sqs = _aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    bodies = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600
        ).get("Messages", [])
        if not messages:
            return bodies
        bodies += [json.loads(message["Body"]) for message in messages]


def _world(env: AirlineEnvironment) -> World:
    bookings: dict[str, list[str]] = {}
    for row in _scan(env.names.booking_table):
        bookings.setdefault(row.get("stateExecutionId", ""), []).append(row["status"])
    notifications = []
    for envelope in _receive_all(env.names.notification_queue):
        status = envelope["MessageAttributes"]["Booking.Status"]["Value"]
        message = json.loads(envelope["Message"])
        notifications.append((message.get("customerId"), status, envelope["Subject"]))
    return World(
        flights={row["id"]: int(row["seatCapacity"]) for row in _scan(env.names.flight_table)},
        bookings=bookings,
        charges={row["id"]: row for row in _scan(env.names.payment_table)},
        dead_letters=_receive_all(env.names.dead_letter_queue),
        notifications=notifications,
    )


def _effects(world: World, run: PreparedRun) -> Any:
    charge = world.charges.get(run.charge_id, {})
    return _normal(
        {
            "seats": world.flights.get(run.flight_id),
            "bookings": sorted(world.bookings.get(run.execution_name, [])),
            "charge": {key: charge.get(key) for key in ("status", "amount", "refundId")},
            "deadLetters": [
                sorted(body)
                for body in world.dead_letters
                if isinstance(body, dict) and body.get("name") == run.execution_name
            ],
            "notifications": sorted(
                (status, subject if status == "cancelled" else "confirmed")
                for customer, status, subject in world.notifications
                if customer == run.customer_id
            ),
        },
        run,
    )


def _top_states(store: SQLiteStore, name: str) -> list[str]:
    return [
        event.state_name or ""
        for event in store.history(name)
        if event.type.endswith("StateEntered") and (event.details or {}).get("name") in _TOP
    ]


_TOP = set(ALL_STATES)


def _failure_ids(events: list[Any], state: str) -> list[int]:
    """Ids of the task failures recorded in the visits of ``state`` (retry backoffs start there)."""
    current = None
    found = []
    for event in events:
        if event.type.endswith("StateEntered"):
            current = event.state_name
        elif event.type.endswith("Failed") and current == state and "Function" in event.type:
            found.append(event.id)
    return found


RETRIED = (
    ("transient-reservation-error", "Reserve Booking"),
    ("confirmation-fails", "Confirm Booking"),
)


KILL_POINTS = 99
RESUME_BATCH = 10


def _closed_before_kill(jobs: list[Job], histories: dict[str, list[Any]]) -> list[str]:
    """The runs killed after the commit of their closing event: it keeps every event after
    the last task's start (nothing acts between them), so a kill after any of them."""
    closed = []
    for job in jobs:
        events = histories[scenario_of(job.name)]
        last_start = max(e.id for e in events if e.type in {"TaskStarted", "LambdaFunctionStarted"})
        if job.kill_after > last_start and not job.delay:
            closed.append(job.name)
    return closed


def _kill_points(scenario: str, events: list[Any]) -> list[int]:
    """After which events to kill a run: every one, but for the transient error only those
    of the retried step (its other events are the happy path's)."""
    if scenario != "transient-reservation-error":
        return [event.id for event in events]
    visit = [event.id for event in events if _visit_of(events, event) == "Reserve Booking"]
    return list(range(min(visit), max(visit) + 2))


def _visit_of(events: list[Any], event: Any) -> str | None:
    current = None
    for candidate in events:
        if candidate.type.endswith("StateEntered") and candidate.state_name in _TOP:
            current = candidate.state_name
        if candidate.id == event.id:
            return current
    return None


def test_killed_runs_resume_to_the_same_end_as_uninterrupted_ones(
    airline: AirlineEnvironment, tmp_path: Path
) -> None:
    store_path = tmp_path / "executions.db"
    SQLiteStore(store_path).close()

    baselines = {name: Job(SCENARIOS[name].prepare(airline, "baseline")) for name in SCENARIO_NAMES}
    statuses = _fork_runs(store_path, airline, list(baselines.values()))
    assert statuses == dict.fromkeys((job.name for job in baselines.values()), 0)
    store = SQLiteStore(store_path)
    histories = {name: store.history(job.name) for name, job in baselines.items()}

    jobs: list[Job] = []
    for name in SCENARIO_NAMES:
        for k in _kill_points(name, histories[name]):
            jobs.append(Job(SCENARIOS[name].prepare(airline, f"k{k}"), kill_after=k))
    for name, state in RETRIED:
        # The first two failures are retried: kill inside their 1 s and 2 s backoffs.
        for index, failure in enumerate(_failure_ids(histories[name], state)[:2]):
            delay = 0.4 if index == 0 else 1.2
            jobs.append(
                Job(
                    SCENARIOS[name].prepare(airline, f"backoff{index}"),
                    kill_after=failure,
                    delay=delay,
                )
            )
    # README gives this count ("kill the airline saga with SIGKILL at 99 points"): every event
    # of the three histories, the retried step's events again, and four kills mid-backoff.
    assert len(jobs) == KILL_POINTS, f"{len(jobs)} kill points; README says {KILL_POINTS}"
    statuses = _fork_runs(store_path, airline, jobs)
    killed = [job.name for job in jobs if statuses[job.name] == signal.SIGKILL]
    # Every run was killed, except those killed after their very last event is written.
    assert all(statuses[job.name] in {0, signal.SIGKILL} for job in jobs), statuses
    survived = [(job.name, job.kill_after, job.delay) for job in jobs if job.name not in killed]
    assert len(killed) >= len(jobs) - len(SCENARIO_NAMES), survived

    open_before = {record.name for record in store.unfinished()}
    resumed_count = len(open_before)
    # A run killed right after its closing event's commit has nothing left to resume.
    closed = _closed_before_kill([job for job in jobs if job.name in killed], histories)
    assert open_before == set(killed) - set(closed)
    # Resumed a few at a time: a hundred executions at once on the real clock would crowd a
    # loaded 2-CPU machine.
    names = sorted(open_before)
    resumed_names: set[str] = set()
    for start in range(0, len(names), RESUME_BATCH):
        report = resume(
            store,
            handlers_for=lambda record: HANDLERS,
            interceptors_for=faults_for,
            clock=RealClock(),
            names=names[start : start + RESUME_BATCH],
        )
        assert report.skipped == []
        assert report.unbound == []
        resumed_names |= {execution.name for execution in report.executions}
    assert resumed_names == open_before
    assert store.unfinished() == []
    for job in jobs:
        types = [event.type for event in store.history(job.name)]
        assert types.count("ExecutionStarted") == 1, job.name
        assert sum(t in {"ExecutionSucceeded", "ExecutionFailed"} for t in types) == 1, job.name

    world = _world(airline)
    expected = {
        name: (
            _outcome(store.get(job.name), job.prepared),
            _effects(world, job.prepared),
            _top_states(store, job.name),
        )
        for name, job in baselines.items()
    }
    mismatches = []
    for job in jobs:
        scenario = scenario_of(job.name)
        got = (
            _outcome(store.get(job.name), job.prepared),
            _effects(world, job.prepared),
            _top_states(store, job.name),
        )
        if got != expected[scenario]:
            mismatches.append((job.name, job.kill_after, job.delay, got, expected[scenario]))
    assert mismatches == []
    store.close()
    assert resumed_count == len(killed) - len(closed) > 0
