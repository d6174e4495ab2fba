"""What an execution page costs: one execution of about 10,000 history events, served by the
console (store read, layout, rendering) and written as a report file."""

from __future__ import annotations

import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from engine import load
from engine.local_engine import run
from engine.store import SQLiteStore

__all__ = ["loop_machine", "measure_page"]

EVENTS_PER_LOOP = 9
"""A Task (5 events), a Pass (2) and a Choice (2) per turn of the loop."""


def loop_machine() -> dict[str, Any]:
    """A Task in a loop that a Choice ends after ``$.turns`` turns (9 events a turn)."""
    return {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": "Work", "ResultPath": "$.result", "Next": "Count"},
            "Count": {
                "Type": "Pass",
                "Parameters": {"turns.$": "$.turns", "done.$": "States.MathAdd($.done, 1)"},
                "Next": "More?",
            },
            "More?": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.done", "NumericLessThanPath": "$.turns", "Next": "Work"}
                ],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def _work(event: Any) -> Any:
    return {"order": event["done"], "lines": [{"sku": f"sku-{i}", "quantity": i} for i in range(3)]}


def measure_page(events: int, runs: int) -> dict[str, list[float]]:
    """Run one execution of about ``events`` events into a SQLite store, then time the console's
    page of it over HTTP and the report file; sizes in bytes, times in seconds."""
    from saga.console import create_app
    from saga.reporting import execution_view

    turns = max(1, (events - 4) // EVENTS_PER_LOOP)
    figures: dict[str, list[float]] = {
        "events": [],
        "page_seconds": [],
        "page_bytes": [],
        "report_seconds": [],
        "report_bytes": [],
    }
    with tempfile.TemporaryDirectory() as directory:
        store = SQLiteStore(Path(directory) / "page.db")
        try:
            run(
                load(loop_machine()),
                {"turns": turns, "done": 0},
                handlers={"Work": _work},
                name="big",
                store=store,
            )
            figures["events"].append(float(len(store.history("big"))))
            base = _serve(create_app(store))
            for _ in range(runs):
                started = time.perf_counter()
                with urllib.request.urlopen(f"{base}/executions/big", timeout=600) as response:
                    body = response.read()
                figures["page_seconds"].append(time.perf_counter() - started)
                figures["page_bytes"].append(float(len(body)))
                started = time.perf_counter()
                report = execution_view(store, "big").report()
                figures["report_seconds"].append(time.perf_counter() - started)
                figures["report_bytes"].append(float(len(report.encode())))
        finally:
            store.close()
    return figures


def _serve(app: Any) -> str:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the console did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}"
