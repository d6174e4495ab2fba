"""Pytest plugin: fixtures for running sagas and state machines locally, deterministically.

Registered through the ``pytest11`` entry point, so installing the package is enough.

Fixtures:
  ``saga_engine``   a :class:`~saga.testing.harness.SagaTestEngine`: virtual time from a fixed
                    instant, seeded jitter, execution names derived from the test's node id.
  ``saga_clock``    the :class:`~saga.testing.clock.TestClock` it runs on.
  ``saga_seed``     the jitter seed (0 unless ``@pytest.mark.saga(seed=...)``).
  ``aws``           moto's AWS with fake credentials and region; boto3 clients and helpers.
  ``load_saga``     ``load_saga("package.module:booking")`` → the Saga.
  ``load_machine``  ``load_machine("flow.asl.json", substitutions={...})`` → the StateMachine,
                    relative paths searched next to the test file first.

Marker: ``@pytest.mark.saga(seed=7, start=datetime(...), region="eu-west-1")``.
A failing test that ran executions gets a "saga executions" report section with their
histories (unless the failure is already one of the saga assertions, which show it).
With ``--saga-report DIR``, it also gets one HTML page per execution in DIR (see
:mod:`asl_export.report`), named after the test and the execution.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

if TYPE_CHECKING:  # the plugin loads in every pytest run: import the toolkit only when used
    from engine.model import StateMachine
    from saga.saga import Saga
    from saga.testing.aws import MockAws
    from saga.testing.clock import TestClock
    from saga.testing.harness import SagaTestEngine

_ENGINES = pytest.StashKey[list["SagaTestEngine"]]()
_MARKER: Final = "saga"
_DEFAULT_SEED: Final = 0
_DEFAULT_START: Final = datetime(2024, 1, 1, tzinfo=UTC)


_REPORT_OPTION: Final = "saga_report"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--saga-report DIR``: write an HTML page of each execution of a failing test."""
    parser.getgroup("saga").addoption(
        "--saga-report",
        dest=_REPORT_OPTION,
        metavar="DIR",
        default=None,
        help="write one self-contained HTML page per execution of each failing saga test here",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``saga`` marker."""
    config.addinivalue_line(
        "markers",
        "saga(seed=0, start=datetime, region='us-east-1'): jitter seed, virtual start instant "
        "and AWS region of the saga fixtures for this test",
    )


def _marker_option(request: pytest.FixtureRequest, key: str, default: Any) -> Any:
    for marker in request.node.iter_markers(_MARKER):
        if key in marker.kwargs:
            return marker.kwargs[key]
    return default


@pytest.fixture
def saga_seed(request: pytest.FixtureRequest) -> int:
    """The seed of retry jitter and task tokens for this test."""
    seed = _marker_option(request, "seed", _DEFAULT_SEED)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise pytest.UsageError(f"@pytest.mark.saga(seed=...) takes an int, got {seed!r}")
    return seed


@pytest.fixture
def saga_clock(request: pytest.FixtureRequest) -> TestClock:
    """The virtual clock of this test, starting at a fixed instant (2024-01-01T00:00:00Z)."""
    from saga.testing.clock import TestClock

    start = _marker_option(request, "start", _DEFAULT_START)
    if not isinstance(start, datetime):
        raise pytest.UsageError(f"@pytest.mark.saga(start=...) takes a datetime, got {start!r}")
    return TestClock(start)


@pytest.fixture
def saga_engine(
    request: pytest.FixtureRequest, saga_clock: TestClock, saga_seed: int
) -> SagaTestEngine:
    """Run sagas and state machines locally: ``saga_engine.run(saga, input, faults=[...])``."""
    from saga.testing.harness import SagaTestEngine, execution_name_prefix

    engine = SagaTestEngine(
        clock=saga_clock,
        seed=saga_seed,
        name_prefix=execution_name_prefix(request.node.nodeid),
        search_paths=[request.path.parent],
    )
    request.node.stash.setdefault(_ENGINES, []).append(engine)
    return engine


@pytest.fixture
def aws(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[MockAws]:
    """AWS services from moto, with fake credentials and a fixed region (us-east-1).

    Profiles and endpoint overrides are removed for the test, so nothing reaches real AWS.
    """
    from engine.integrations._boto import clear_client_cache
    from saga.testing.aws import environment, mock_aws_environment

    region = _marker_option(request, "region", "us-east-1")
    for key in list(os.environ):
        if key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE") or key.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(key)
    for key, value in environment(region).items():
        monkeypatch.setenv(key, value)
    clear_client_cache()
    try:
        with mock_aws_environment(region) as services:
            yield services
    finally:
        clear_client_cache()


@pytest.fixture
def load_saga() -> Callable[[str], Saga]:
    """``load_saga("module:attribute")`` → the Saga it names."""
    from saga.testing.loading import load_saga as _load_saga

    return _load_saga


@pytest.fixture
def load_machine(request: pytest.FixtureRequest) -> Callable[..., StateMachine]:
    """``load_machine(path, substitutions=None)`` → the state machine in an ASL file."""
    from saga.testing.loading import load_machine as _load_machine

    here = request.path.parent

    def load(path: str | Path, substitutions: Mapping[str, str] | None = None) -> StateMachine:
        return _load_machine(path, substitutions, search=[here, request.config.rootpath])

    return load


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the histories of the test's executions to a failing test's report."""
    report = yield
    if report.when != "call" or not report.failed:
        return report
    engines = item.stash.get(_ENGINES, [])
    if not engines:
        return report
    directory = item.config.getoption(_REPORT_OPTION)
    if directory:
        pages = _write_pages(Path(directory), item.nodeid, engines)
        if pages:
            report.sections.append(("saga execution pages", "\n".join(map(str, pages))))
    from saga.testing.assertions import SagaAssertionError
    from saga.testing.history_table import history_table

    if call.excinfo is not None and isinstance(call.excinfo.value, SagaAssertionError):
        return report
    tables = [history_table(e) for engine in engines for e in engine.executions]
    if tables:
        report.sections.append(("saga executions", "\n\n".join(tables)))
    return report


def _write_pages(directory: Path, nodeid: str, engines: list[SagaTestEngine]) -> list[Path]:
    """One page per execution the test ran, named ``<test>--<execution>.html``."""
    from saga.reporting import write_report

    directory.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    pages: list[Path] = []
    for engine in engines:
        for run in engine.runs:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", run.execution.name)
            path = directory / f"{test}--{name}.html"
            pages.append(write_report(path, run.execution, run.machine, run.roles))
    return pages
