"""A stand-in for AWS Lambda's Python runtime, for one built function folder (a warm container).

Run as ``python lambda_runtime_emulator.py FOLDER HANDLER`` with an interpreter that has only
the runtime's own packages (boto3): the folder goes first on ``sys.path`` and is the working
directory, as ``/var/task`` is; ``HANDLER`` (``module.function``) is imported from it once.
Each line on stdin is one invocation's event (JSON); each line written back is the outcome,
``{"result": ...}`` or ``{"errorType": ..., "errorMessage": ...}``, shaped as the runtime
reports them (an exception's class name and ``str()``; a result it cannot serialise is
``Runtime.MarshalError``). It imports nothing from the project under test.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import sys
import time
from typing import Any


class _Context:
    """The attributes of the runtime's context object that steps use."""

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "emulated"
        self.client_context = None
        self.identity = None
        self._deadline = time.monotonic() + 30

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _decimal(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def main() -> None:
    folder, handler_name = sys.argv[1], sys.argv[2]
    outcomes, sys.stdout = sys.stdout, sys.stderr  # what the steps print is the function's log
    sys.path.insert(0, folder)
    os.chdir(folder)
    module_name, _, attribute = handler_name.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    for number, line in enumerate(sys.stdin):
        event = json.loads(line)
        try:
            response = handler(event, _Context(f"request-{number}"))
            try:
                text = json.dumps(response, default=_decimal)
                outcome: dict[str, Any] = {"result": json.loads(text)}
            except (TypeError, ValueError) as exc:
                outcome = {
                    "errorType": "Runtime.MarshalError",
                    "errorMessage": f"Unable to marshal response: {exc}",
                }
        except Exception as exc:
            outcome = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        outcomes.write(json.dumps(outcome) + "\n")
        outcomes.flush()


if __name__ == "__main__":
    main()
