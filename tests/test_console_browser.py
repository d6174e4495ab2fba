"""``saga console`` and ``saga report`` in a real browser: headless Chromium driven by Playwright.

The console is started by the test over a store holding the airline example's five scenarios;
a ``--clock real`` run is then watched live until it ends. Screenshots go to a temporary
folder (or ``SAGA_SCREENSHOTS``), printed at the end of each test. The tests skip, saying why,
where Playwright or Debian's Chromium is missing; with ``SAGA_REQUIRE_BROWSER`` set (as
``.ci/run`` does) they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saga.cli import main
from tests._airline_runs import SCENARIO_EXECUTIONS, run_airline_in_process_of_its_own

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
CLI = "import sys; from saga.cli import main; sys.exit(main())"


def _unavailable(reason: str) -> None:
    """Skip saying why; where a browser is required (CI sets SAGA_REQUIRE_BROWSER), fail."""
    if os.environ.get("SAGA_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    _unavailable("Playwright for Python is not installed (pip install playwright)")
if not Path(CHROMIUM).is_file():  # pragma: no cover - CI installs it
    _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)")

LIVE_SAGA = textwrap.dedent(
    """
    from saga import Retry, Saga


    class Busy(Exception):
        pass


    live = Saga("LiveFlow")
    calls = {"n": 0}


    @live.step("Prepare")
    def prepare(event):
        return "ready"


    @live.step("Flaky Call", retry=[Retry(Busy, interval=3, backoff_rate=1.0, max_retries=3)])
    def flaky_call(event):
        calls["n"] += 1
        if calls["n"] < 3:
            raise Busy(f"busy {calls['n']}")
        return "ok"


    @live.step("Finish")
    def finish(event):
        return "done"
    """
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"saga console exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"saga console did not answer at {url}")


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("SAGA_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        return Path(where)
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_airline_in_process_of_its_own(tmp_path_factory.mktemp("console") / "executions.db")


@pytest.fixture(scope="module")
def console(store: Path) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "console", "--store", str(store), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def _shot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def _classes(page: Page, selector: str) -> set[str]:
    value = page.get_attribute(selector, "class")
    assert value is not None, selector
    return set(value.split())


def _state(name: str) -> str:
    return f'#execution .graph g.state[data-state="{name}"]'


def test_list_shows_the_five_airline_executions(
    page: Page, console: str, screenshots: Path
) -> None:
    page.goto(console)
    page.wait_for_selector("body[data-loaded=true]")
    rows = page.locator("#executions tbody tr")
    names = [rows.nth(i).get_attribute("data-name") for i in range(rows.count())]
    assert names == list(SCENARIO_EXECUTIONS.values())
    statuses = [rows.nth(i).get_attribute("data-status") for i in range(rows.count())]
    assert statuses == ["SUCCEEDED", "SUCCEEDED", "FAILED", "FAILED", "FAILED"]
    assert rows.nth(0).locator("td").nth(1).inner_text() == "ProcessBooking"
    page.select_option("#status", "FAILED")
    expect(rows).to_have_count(3)
    assert page.url.endswith("?status=FAILED")
    assert page.inner_text("#count") == "3 of 5"
    _shot(page, screenshots, "console-list-failed")


def test_payment_declined_page_shows_the_coloured_path(
    page: Page, console: str, screenshots: Path
) -> None:
    page.goto(console)
    page.click(f"text={SCENARIO_EXECUTIONS['payment-declined']}")
    page.wait_for_selector("#execution .graph svg")
    assert page.get_attribute("#execution", "data-status") == "FAILED"
    assert "o-caught" in _classes(page, _state("Collect Payment"))
    caught = '#execution path[data-source="Collect Payment"][data-target="Cancel Booking"].k-catch'
    assert {"taken", "caught"} <= _classes(page, caught)
    assert "o-compensation" in _classes(page, _state("Cancel Booking"))
    assert "o-compensation" in _classes(page, _state("Release Flight Seat"))
    assert "o-failure-handling" in _classes(page, _state("Notify Booking Failed"))
    assert "o-failure-handling" in _classes(page, _state("Booking DLQ"))
    assert "o-failed" in _classes(page, _state("Booking Failed"))
    assert "o-not-reached" in _classes(page, _state("Confirm Booking"))
    lane = page.locator("#execution .lane.unwind .step")
    assert [lane.nth(i).get_attribute("data-state") for i in range(lane.count())] == [
        "Cancel Booking",
        "Release Flight Seat",
        "Notify Booking Failed",
        "Booking DLQ",
    ]
    # the failed state is shown first; another state's data on a click
    assert page.get_attribute("#execution .panel", "data-state") == "Collect Payment"
    assert "PaymentException" in page.inner_text("#execution .panel pre.error")
    page.click(_state("Reserve Booking"))
    assert page.get_attribute("#execution .panel", "data-state") == "Reserve Booking"
    panel_input = page.inner_text("#execution .panel pre.input")
    panel_output = page.inner_text("#execution .panel pre.output")
    assert '"chargeId": "ch_payment-declined-1"' in panel_input
    assert '"bookingId"' not in panel_input
    assert '"bookingId"' in panel_output
    rows = page.locator("#execution table.events tbody tr")
    assert rows.count() == 38
    _shot(page, screenshots, "console-payment-declined")


def test_a_real_clock_run_is_followed_live_until_it_ends(
    page: Page, console: str, store: Path, tmp_path: Path, screenshots: Path
) -> None:
    (tmp_path / "live_flow.py").write_text(LIVE_SAGA, encoding="utf-8")
    page.goto(console)
    page.wait_for_selector("body[data-loaded=true]")
    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CLI,
            "run",
            "live_flow:live",
            "--input",
            "{}",
            "--name",
            "live-1",
            "--clock",
            "real",
            "--store",
            str(store),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # the list picks the new execution up by itself, while it runs
        page.wait_for_selector('#executions tr[data-name="live-1"][data-status="RUNNING"]')
        page.click("text=live-1")
        page.wait_for_selector("#execution .graph svg")
        assert page.get_attribute("#execution", "data-status") == "RUNNING"
        page.evaluate("window.__sameDocument = true")
        page.wait_for_selector(f"{_state('Flaky Call')}.o-running", timeout=30_000)
        _shot(page, screenshots, "console-live-running")
        page.wait_for_selector('#execution[data-status="SUCCEEDED"]', timeout=60_000)
        assert page.evaluate("window.__sameDocument") is True  # updated in place, no reload
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, err.decode()
    assert "o-retried" in _classes(page, _state("Flaky Call"))
    assert page.text_content(f"{_state('Flaky Call')} .badge text") == "↻2"
    assert "o-succeeded" in _classes(page, _state("Finish"))
    expect(page.locator("header .live")).to_have_text("ended")
    timeline = page.inner_text("#execution .timeline")
    waited = re.search(r"Flaky Call 2 retries \((\d+\.\d+) s, (\d+\.\d+) s\)", timeline)
    assert waited is not None, timeline
    assert all(3.0 <= float(w) < 15.0 for w in waited.groups())  # real seconds, loaded machine
    _shot(page, screenshots, "console-live-ended")
    # back on the list, the new state machine is a filter of its own
    page.goto(console)
    page.wait_for_selector('#machine option[value="LiveFlow"]', state="attached")
    page.select_option("#machine", "LiveFlow")
    rows = page.locator("#executions tbody tr")
    expect(rows).to_have_count(1)
    assert rows.nth(0).get_attribute("data-name") == "live-1"
    assert page.url.endswith("?machine=LiveFlow")


def test_the_report_file_loads_with_no_network(
    browser: Browser, store: Path, tmp_path: Path, screenshots: Path
) -> None:
    report = tmp_path / "report.html"
    name = SCENARIO_EXECUTIONS["payment-declined"]
    assert main(["report", name, "--store", str(store), "-o", str(report)]) == 0
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 1000})
    requested: list[str] = []
    try:
        offline = context.new_page()
        offline.on("request", lambda request: requested.append(request.url))

        def refuse(route: Any) -> None:
            if route.request.url == report.as_uri():
                route.continue_()  # the file itself
            else:
                route.abort()

        context.route("**/*", refuse)
        offline.goto(report.as_uri())
        offline.wait_for_selector("#execution .panel[data-state='Collect Payment']")
        offline.click(_state("Booking DLQ"))
        assert '"deadLetterQueue"' in offline.inner_text("#execution .panel pre.output")
        _shot(offline, screenshots, "report-offline")
    finally:
        context.close()
    assert requested == [report.as_uri()]
