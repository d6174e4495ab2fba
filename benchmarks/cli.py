"""``saga execute`` as a shell runs it: one process per call, beside bare Python start-ups.

Each call starts a new interpreter, so what it costs is mostly importing; the baselines show
how much of that is Python itself and how much is importing the engine.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["measure_cli"]

_PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}

_COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "python -c 'import engine'": ["-c", "import engine"],
    # What the ``saga`` script runs.
    "saga execute (one-Pass machine)": [
        "-c",
        "import sys; from saga.cli import main; sys.exit(main())",
        "execute",
    ],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_cli(calls: int, runs: int) -> dict[str, dict[str, list[float]]]:
    """Wall and CPU milliseconds per call of each command, ``calls`` per round, rounds
    alternated."""
    figures: dict[str, dict[str, list[float]]] = {
        label: {"wall": [], "cpu": []} for label in _COMMANDS
    }
    with tempfile.TemporaryDirectory() as folder:
        definition = Path(folder, "pass.json")
        definition.write_text(json.dumps(_PASS))
        for _ in range(runs):
            for label, arguments in _COMMANDS.items():
                command = [sys.executable, *arguments]
                if label.startswith("saga"):
                    command.append(str(definition))
                cpu, wall = _children_cpu(), time.perf_counter()
                for _ in range(calls):
                    subprocess.run(command, check=True, capture_output=True)
                figures[label]["wall"].append((time.perf_counter() - wall) / calls * 1000)
                figures[label]["cpu"].append((_children_cpu() - cpu) / calls * 1000)
    return figures
