"""The reference JSONata implementation (npm ``jsonata@2``) in one long-lived ``node`` process.

README's test command installs it in ``.tools/``; without ``node`` or that package the tests
that need it are skipped with the command to run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
SCRIPT = Path(__file__).with_name("reference.js")


class ReferenceJsonata:
    """Evaluates expressions with the JavaScript implementation, one JSON line per request."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None or not (TOOLS / "node_modules" / "jsonata").is_dir():
            pytest.skip(
                "the reference JSONata needs node and "
                "`npm install --no-save --prefix .tools jsonata@2` (README's test command)"
            )
        self._process = subprocess.Popen(
            [node, str(SCRIPT), str(TOOLS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def evaluate(self, expr: str, data: Any = None, bindings: dict[str, Any] | None = None) -> Any:
        """``{"value": …}``, ``{"undefined": True}`` or ``{"error": {"code", "message"}}``."""
        return self.evaluate_many([(expr, data, bindings)])[0]

    def evaluate_many(self, requests: list[tuple[str, Any, dict[str, Any] | None]]) -> list[Any]:
        """Answers to many requests, in order (written in one go, then read)."""
        assert self._process.stdin is not None and self._process.stdout is not None
        for expr, data, bindings in requests:
            request: dict[str, Any] = {"expr": expr, "bindings": bindings or {}}
            if data is not None:
                request["input"] = data
            self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        return [json.loads(self._process.stdout.readline()) for _ in requests]

    def close(self) -> None:
        """End the node process."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)
        if self._process.stdout is not None:
            self._process.stdout.close()
