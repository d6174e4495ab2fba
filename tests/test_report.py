"""``saga report`` and the pytest plugin's ``--saga-report``: one execution as a page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import engine
from asl_export.report import render_report
from engine.loader import load
from saga.cli import main
from saga.reporting import in_memory_record
from tests._airline_runs import SCENARIO_EXECUTIONS, run_airline_into

pytest_plugins = ["pytester"]


class _Page(HTMLParser):
    """What a page holds: its elements' attributes, script texts, table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.rows: list[list[str]] = []
        self._script: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = []
        elif tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def _data(page: _Page) -> dict[str, Any]:
    (data,) = [s for s in page.scripts if s.startswith("{")]
    parsed: dict[str, Any] = json.loads(data)
    return parsed


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_airline_into(tmp_path_factory.mktemp("airline") / "runs.db")


def _report(store: Path, scenario: str, tmp_path: Path) -> str:
    out = tmp_path / "report.html"
    assert (
        main(["report", SCENARIO_EXECUTIONS[scenario], "--store", str(store), "-o", str(out)]) == 0
    )
    return out.read_text(encoding="utf-8")


def test_payment_declined_page(store: Path, tmp_path: Path) -> None:
    text = _report(store, "payment-declined", tmp_path)
    page = _parse(text)
    data = _data(page)
    assert data["status"] == "FAILED"
    assert data["focus"] == "Collect Payment"
    payment = data["states"]["Collect Payment"]
    assert (payment["outcome"], payment["type"]) == ("caught", "Task")
    (visit,) = payment["visits"]
    assert visit["error"] == "PaymentException"
    assert json.loads(visit["cause"])["errorMessage"] == (
        "charge ch_payment-declined-1 was declined by the card issuer"
    )
    assert visit["input"]["chargeId"] == "ch_payment-declined-1"
    assert visit["output"]["paymentError"]["Error"] == "PaymentException"
    assert data["states"]["Cancel Booking"]["role"] == "compensation"
    assert data["states"]["Booking DLQ"]["role"] == "failure handling"
    assert data["states"]["Confirm Booking"]["visits"] == []
    # the unwind lane, in the order it ran, each step succeeded
    lane = [
        a["data-state"]
        for tag, a in page.tags
        if tag == "span" and "step" in (a.get("class") or "")
    ]
    assert lane == ["Cancel Booking", "Release Flight Seat", "Notify Booking Failed", "Booking DLQ"]
    assert (
        "✓ Cancel Booking" in text
        and "✗" not in text.split('class="lane unwind"')[1].split("</div>")[0]
    )
    # the events table: every event with AWS's event names
    events = [row for row in page.rows if row]
    assert len(events) == 38
    assert [row[1] for row in events[:3]] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
    ]
    assert events[14][1:3] == ["LambdaFunctionFailed", "Collect Payment"]
    assert events[-1][1] == "ExecutionFailed"
    # the drawing, inline
    assert '<g class="state o-caught' in text and 'data-state="Collect Payment"' in text


def test_the_page_refers_to_nothing_outside_itself(store: Path, tmp_path: Path) -> None:
    text = _report(store, "payment-declined", tmp_path)
    page = _parse(text)
    for tag, attributes in page.tags:
        assert "src" not in attributes, tag
        href = attributes.get("href")
        assert href is None or href.startswith("#"), (tag, href)
    assert not re.search(r"url\((?!#)", text)
    assert "@import" not in text
    assert "default-src 'none'" in text


def test_retries_are_on_the_timeline_with_their_delays(store: Path, tmp_path: Path) -> None:
    text = _report(store, "transient-reservation-error", tmp_path)
    timeline = text.split('<div class="timeline">')[1].split("</div>\n")[0]
    assert "Reserve Booking <small class=muted>2 retries (1.00 s, 2.00 s)</small>" in timeline
    assert timeline.count('class="bar failed"') == 2
    assert timeline.count('class="bar ok"') == 1
    assert timeline.count('class="wait"') == 2
    data = _data(_parse(text))
    attempts = data["states"]["Reserve Booking"]["visits"][0]["attempts"]
    assert [a["backoff"] for a in attempts] == [None, 1.0, 2.0]
    assert "Unwind" not in text  # nothing was undone


def test_a_payload_cannot_close_the_data_script() -> None:
    machine = load({"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}})
    execution = engine.run(machine, {"note": "</script><script>alert(1)</script>"})
    text = render_report(machine, in_memory_record(execution, machine), execution.history)
    page = _parse(text)
    data = _data(page)
    assert data["states"]["Echo"]["visits"][0]["output"] == {
        "note": "</script><script>alert(1)</script>"
    }
    assert len(page.scripts) == 2  # the data and the page's own script, nothing injected


def test_report_errors(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "nope", "--store", str(store)]) == 2
    assert f"no execution named 'nope' in {store}" in capsys.readouterr().err
    missing = tmp_path / "missing.db"
    assert main(["report", "x", "--store", str(missing)]) == 2
    assert f"no such execution store: {missing}" in capsys.readouterr().err
    assert not missing.exists()


FAILING_TEST = """
from saga.saga import Saga

order = Saga("PlaceOrder")


@order.step("Charge Card")
def charge_card(event):
    raise ValueError("card declined")


@charge_card.compensate("Refund Card")
def refund_card(event):
    return None


def test_order(saga_engine):
    execution = saga_engine.run(order, {"id": 1})
    assert execution.status == "SUCCEEDED"


def test_passing(saga_engine):
    saga_engine.run(order, {"id": 2})
"""


def test_pytest_writes_a_page_per_execution_of_a_failing_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_orders=FAILING_TEST)
    pages = pytester.path / "pages"
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:xdist", "--saga-report", str(pages)
    )
    result.assert_outcomes(passed=1, failed=1)
    (page,) = sorted(pages.iterdir())
    assert page.name == "test_orders.py_test_order--test_orders-test_order-1.html"
    data = _data(_parse(page.read_text(encoding="utf-8")))
    assert data["states"]["Charge Card"]["visits"][0]["error"] == "ValueError"
    assert data["states"]["Charge Card"]["outcome"] == "caught"
    result.stdout.fnmatch_lines([f"*{page}*"])


def test_a_stored_saga_run_names_its_roles_and_a_missing_saga_falls_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from engine.store import SQLiteStore
    from saga.reporting import execution_view, recorded_roles

    db = tmp_path / "orders.db"
    argv = ["run", "examples.orders.orders:orders", "--input", '{"id": 7, "amount": 250}']
    assert main([*argv, "--name", "o-7", "--store", str(db)]) == 1
    capsys.readouterr()
    with SQLiteStore(db) as store:
        view = execution_view(store, "o-7")
        assert view.roles == {
            "Release Stock": "compensation",
            "Refund Card": "compensation",
        }
        data = _data(_parse(view.report()))
        assert data["states"]["Release Stock"]["outcome"] == "compensation"
        assert data["states"]["Charge Card"]["outcome"] == "caught"
        gone = replace(view.record, handlers_ref='{"saga": "no_such_module:orders"}')
        assert recorded_roles(gone) is None
        assert recorded_roles(replace(view.record, handlers_ref="not json")) is None


def test_a_failed_compensation_shows_in_the_unwind_lane() -> None:
    from saga.roles import state_roles
    from saga.saga import Saga

    trip = Saga("Trip")

    @trip.step("Book Hotel")
    def book_hotel(event: Any) -> str:
        return "hotel-1"

    @book_hotel.compensate("Cancel Hotel")
    def cancel_hotel(event: Any) -> None:
        raise RuntimeError("the hotel does not answer")

    @trip.step("Book Flight")
    def book_flight(event: Any) -> str:
        raise ValueError("no seats")

    execution = trip.run({"id": 1})
    assert execution.status == "FAILED"
    machine = trip.to_state_machine()
    text = render_report(
        machine, in_memory_record(execution, machine), execution.history, roles=state_roles(trip)
    )
    lane = text.split('class="lane unwind"')[1].split("</div>")[0]
    assert 'class="step compensation failed" data-state="Cancel Hotel"' in lane
    assert "✗ Cancel Hotel" in lane and "RuntimeError" in lane
    data = _data(_parse(text))
    assert data["states"]["Cancel Hotel"]["outcome"] == "caught"
    assert data["states"]["Book Flight"]["outcome"] == "caught"
    assert data["states"]["Book Flight"]["visits"][0]["error"] == "ValueError"
