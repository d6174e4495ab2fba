"""Run a Python step unchanged as an AWS Lambda function.

The template sets ``SAGA_STEP=module:attribute`` and the function's handler runs that step.
The code lives in :mod:`engine.lambda_runtime` (standard library only), which ``saga package``
copies next to the user's steps; the local engine invokes steps through the same module, so
the deployed and the local calling conventions cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.lambda_runtime import StepImportError, handler, make_handler, step_error

__all__ = ["LambdaHandler", "StepImportError", "handler", "make_handler", "step_error"]

LambdaHandler = Callable[[Any, Any], Any]
"""What the Lambda Python runtime calls: ``handler(event, context)``."""
