"""``saga run TARGET``: the same JSON object and exit codes as ``saga execute``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from saga.cli import main

MODULE = """
from saga.policies import Retry
from saga.saga import Saga


class Declined(Exception):
    pass


orders = Saga("Orders", success_state="Done")


@orders.step("Reserve", retry=[Retry(Declined, interval=30, max_retries=2)])
def reserve(event):
    if event.get("reserve_fails"):
        raise Declined("no stock")
    return "r-1"


@reserve.compensate("Release")
def release(event):
    return True


@orders.step("Charge")
def charge(event):
    if event.get("charge_fails"):
        raise Declined("card declined")
    return {"charged": event["amount"]}


HANDLERS = orders.handlers()
not_a_saga = 42
"""


BROKEN = """
from saga.saga import Saga

declared_badly = Saga("Broken")
declared_badly.step("A", lambda event: event, compensate_self=True)
"""

INVALID = """
from saga.saga import Saga

broken = Saga("Broken")
broken.step("A", lambda event: event, timeout=0)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "shop_orders.py").write_text(MODULE, encoding="utf-8")
    (tmp_path / "shop_broken.py").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "shop_invalid.py").write_text(INVALID, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in ("shop_orders", "shop_broken", "shop_invalid"):
        sys.modules.pop(module, None)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out else {}), captured.err


def test_success(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        capsys, "run", "shop_orders:orders", "--input", '{"amount": 5}', "--name", "o-1"
    )
    assert (code, err) == (0, "")
    assert out == {
        "status": "SUCCEEDED",
        "output": {"amount": 5, "reserve": "r-1", "charge": {"charged": 5}},
        "name": "o-1",
        "states": ["Reserve", "Charge", "Done"],
    }


def test_failure_matches_saga_execute_on_the_export(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "in.json").write_text('{"amount": 5, "charge_fails": true}', encoding="utf-8")
    code, ran, _ = _run(capsys, "run", "shop_orders:orders", "--input", "@in.json", "--name", "x")
    assert code == 1
    assert ran["status"] == "FAILED" and ran["error"] == "SagaFailed"
    assert ran["states"] == ["Reserve", "Charge", "Release", "Saga Failed"]
    sys.path.insert(0, str(project))
    from shop_orders import orders  # type: ignore[import-not-found]

    (project / "orders.asl.json").write_text(orders.to_json(), encoding="utf-8")
    code, executed, _ = _run(
        capsys,
        "execute",
        "orders.asl.json",
        "--input",
        "@in.json",
        "--handlers",
        "shop_orders",
        "--name",
        "x",
    )
    assert code == 1
    # The definition alone does not say which states are compensations: the rest is equal.
    assert ran["unwind"] == [
        {
            "state": "Release",
            "role": "compensation",
            "compensates": "Reserve",
            "status": "SUCCEEDED",
        }
    ]
    assert executed == {**ran, "unwind": [{"state": "Release", "status": "SUCCEEDED"}]}


def test_retries_skip_time_on_the_virtual_clock(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys, "run", "shop_orders:orders", "--input", '{"reserve_fails": true}', "--history"
    )
    assert code == 1
    assert out["states"] == ["Reserve", "Saga Failed"]
    history = out["history"]
    assert isinstance(history, list)
    assert sum(1 for e in history if e["type"] == "LambdaFunctionFailed") == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "shop_orders"],
            "saga: TARGET 'shop_orders': expected module:attribute, e.g. shop.orders:saga\n",
        ),
        (
            ["run", "nowhere:saga"],
            "saga: TARGET 'nowhere:saga': cannot import 'nowhere': No module named 'nowhere'\n",
        ),
        (
            ["run", "shop_orders:missing"],
            "saga: TARGET 'shop_orders:missing': shop_orders has no attribute 'missing'\n",
        ),
        (
            ["run", "shop_orders:not_a_saga"],
            "saga: TARGET 'shop_orders:not_a_saga' is not a Saga (it is int)\n",
        ),
        (
            ["run", "shop_orders:orders", "--input", "{"],
            "saga: --input: not valid JSON: Expecting property name enclosed in double quotes at "
            "line 1 column 2\n",
        ),
        (
            ["run", "shop_orders:orders", "--test-case", "x"],
            "saga: --test-case needs --mock-config\n",
        ),
        (
            ["run", "shop_broken:declared_badly"],
            "saga: shop_broken:declared_badly: step 'A': compensate_self=True but it has no "
            "compensation; add one with step.compensate(...) or drop compensate_self\n",
        ),
        (
            ["run", "shop_invalid:broken"],
            "saga: TARGET 'shop_invalid:broken': step 'A': timeout is 0; use a whole number of "
            "seconds, at least 1\n",
        ),
    ],
)
def test_bad_usage(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err == message


def test_mock_config_answers_states(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = {
        "StateMachines": {"Orders": {"TestCases": {"Declined": {"Charge": "CardDeclined"}}}},
        "MockedResponses": {
            "CardDeclined": {"0": {"Throw": {"Error": "Declined", "Cause": "mocked"}}}
        },
    }
    (project / "mocks.json").write_text(json.dumps(config), encoding="utf-8")
    code, out, _ = _run(
        capsys,
        "run",
        "shop_orders:orders",
        "--mock-config",
        "mocks.json",
        "--test-case",
        "Declined",
    )
    assert code == 1
    assert out["states"] == ["Reserve", "Charge", "Release", "Saga Failed"]
    assert json.loads(str(out["cause"])) == {"Error": "Declined", "Cause": "mocked"}


def test_what_steps_print_goes_to_stderr_and_stdout_holds_one_json_object(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["run", "examples.orders.orders:orders", "--input", '{"id": 7, "amount": 250}'])
    captured = capsys.readouterr()
    assert code == 1
    printed = json.loads(captured.out)
    assert (printed["status"], printed["error"]) == ("FAILED", "SagaFailed")
    assert printed["states"] == ["Reserve Stock", "Charge Card", "Release Stock", "Saga Failed"]
    assert captured.err == "released reservation-7\n"
