"""The definition a store kept: ``saga resume`` refuses another saga's, ``describe`` explains it.

A store names the definition each execution ran; resuming it with a saga whose compiled
definition differs would run the store's definition with that saga's handlers, so it is refused
per execution unless ``--allow-changed-definition``. ``saga executions describe --saga TARGET``
adds the unwind record and decoded failure ``saga run`` prints.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.store import SQLiteStore, StoredExecution
from saga.cli import main

SHOP = """
from pathlib import Path
from saga.saga import Saga


class Declined(Exception):
    pass


shop = Saga("Shop")


@shop.step("Reserve")
def reserve(event):
    Path("reserved.txt").open("a").write("reserve\\n")
    return "r-1"


@reserve.compensate("Release")
def release(event):
    raise RuntimeError("the warehouse is down")


@shop.step("Charge")
def charge(event):
    if event.get("charge_fails"):
        raise Declined("card declined")
    return "c-1"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "shop_store.py").write_text(SHOP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("shop_store", None)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    code = main(args)
    captured = capsys.readouterr()
    out = json.loads(captured.out) if captured.out.strip() else None
    return code, out, captured.err


def _compiled() -> dict[str, Any]:
    from shop_store import shop  # type: ignore[import-not-found]

    from saga.compile import compile_saga

    definition: dict[str, Any] = compile_saga(shop).to_dict()
    return definition


def _open_execution(path: Path, name: str, definition: str) -> None:
    """An open execution as a killed ``saga run shop_store:shop`` leaves it."""
    ref = json.dumps({"saga": "shop_store:shop", "cwd": str(path.parent)})
    with SQLiteStore(path) as store:
        store.start(
            StoredExecution(
                name=name,
                execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:Shop:{name}",
                state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:Shop",
                definition=definition,
                input={"order": 1},
                start_posix=1_700_000_000.0,
                handlers_ref=ref,
                options={"clock": "virtual"},
            ),
            "nobody",
        )
        store.release(name, "nobody")


def _stored(path: Path, name: str) -> tuple[str, str | None, int, str]:
    with SQLiteStore(path, read_only=True) as store:
        record = store.get(name)
        return record.status, store.owner(name), len(store.history(name)), record.definition


def test_resume_refuses_a_stored_definition_other_than_the_sagas(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = project / "from-elsewhere.db"
    planted = {**_compiled(), "Comment": "not what shop_store:shop compiles to"}
    _open_execution(store, "e-1", json.dumps(planted))
    before = _stored(store, "e-1")

    code, out, err = _run(["resume", "shop_store:shop", "--store", str(store)], capsys)
    assert (code, out) == (2, {"executions": [], "skipped": []})
    assert err == (
        "saga: e-1 was not resumed: its stored definition differs from the one the saga "
        "'shop_store:shop' compiles to; give the saga it was started with, or "
        "--allow-changed-definition to run the stored definition with this saga's handlers\n"
    )
    assert _stored(store, "e-1") == before
    assert before[:3] == ("RUNNING", None, 0)
    assert not (project / "reserved.txt").exists()

    code, out, err = _run(
        ["resume", "shop_store:shop", "--store", str(store), "--allow-changed-definition"],
        capsys,
    )
    assert (code, err) == (0, "")
    assert [(e["name"], e["status"], e["states"]) for e in out["executions"]] == [
        ("e-1", "SUCCEEDED", ["Reserve", "Charge"])
    ]
    assert (project / "reserved.txt").read_text() == "reserve\n"


def test_resume_compares_definitions_as_canonical_json(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = project / "mine.db"
    compiled = _compiled()
    # The same definition, written with keys reordered and indented, is the same definition.
    reordered = json.dumps(dict(reversed(list(compiled.items()))), indent=4)
    _open_execution(store, "e-2", reordered)
    code, out, err = _run(["resume", "shop_store:shop", "--store", str(store)], capsys)
    assert (code, err) == (0, "")
    assert [(e["name"], e["status"]) for e in out["executions"]] == [("e-2", "SUCCEEDED")]


def test_trust_store_checks_the_definition_of_the_saga_it_imports(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = project / "mine.db"
    _open_execution(store, "e-3", json.dumps({**_compiled(), "TimeoutSeconds": 5}))
    code, out, err = _run(["resume", "--store", str(store), "--trust-store"], capsys)
    assert (code, out) == (2, {"executions": [], "skipped": []})
    assert err == (
        f"saga: e-3: importing the saga 'shop_store:shop' (from {project}), as {store} "
        "records\n"
        "saga: e-3 was not resumed: its stored definition differs from the one the saga "
        "'shop_store:shop' compiles to; give the saga it was started with, or "
        "--allow-changed-definition to run the stored definition with this saga's handlers\n"
    )
    assert _stored(store, "e-3")[:3] == ("RUNNING", None, 0)


def test_describe_with_the_saga_shows_the_unwind_and_decoded_failure(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(project / "runs.db")
    code, ran, _ = _run(
        [
            "run",
            "shop_store:shop",
            "--input",
            '{"charge_fails": true}',
            "--name",
            "o-1",
            "--store",
            store,
        ],
        capsys,
    )
    assert code == 1
    code, plain, err = _run(["executions", "describe", "o-1", "--store", store], capsys)
    assert (code, err) == (0, "")
    assert "unwind" not in plain and "failure" not in plain

    code, described, err = _run(
        ["executions", "describe", "o-1", "--store", store, "--saga", "shop_store:shop"], capsys
    )
    assert (code, err) == (0, "")
    failure = {"step": "Charge", "error": "Declined", "message": "card declined"}
    unwind = [
        {
            "state": "Release",
            "role": "compensation",
            "compensates": "Reserve",
            "status": "FAILED",
            "error": "RuntimeError",
            "cause": ran["unwind"][0]["cause"],
            "message": "the warehouse is down",
        }
    ]
    assert (ran["failure"], ran["unwind"]) == (failure, unwind)
    assert json.loads(ran["unwind"][0]["cause"])["errorMessage"] == "the warehouse is down"
    keys = list(plain)
    keys.insert(keys.index("cause") + 1, "failure")
    assert described == {**plain, "failure": failure, "unwind": unwind}
    assert list(described) == [*keys, "unwind"]


def test_describe_refuses_a_saga_whose_definition_the_execution_did_not_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = project / "mine.db"
    _open_execution(store, "e-4", json.dumps({**_compiled(), "Comment": "another"}))
    code, out, err = _run(
        ["executions", "describe", "e-4", "--store", str(store), "--saga", "shop_store:shop"],
        capsys,
    )
    assert (code, out) == (2, None)
    assert err == (
        "saga: --saga 'shop_store:shop': execution 'e-4' ran another definition than the one "
        "this saga compiles to\n"
    )
