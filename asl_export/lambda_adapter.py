"""Run a Python step unchanged as an AWS Lambda function.

The template sets ``SAGA_STEP=module:attribute`` and the handler
``asl_export.lambda_adapter.handler``: the event is the task input, the return value the task
result. AWS Lambda's Python runtime reports a failure's ``errorType`` as the exception's class
name, so an exception whose ASL error name differs (an ``error_name`` attribute) is re-raised
as an exception of a class with that name, keeping the message and chaining the original.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
from collections.abc import Callable
from typing import Any

import anyio

from asl_export.functions import STEP_ENVIRONMENT_VARIABLE
from engine.errors import error_name_of

__all__ = ["LambdaHandler", "StepImportError", "handler", "make_handler", "step_error"]

LambdaHandler = Callable[[Any, Any], Any]
"""What the Lambda Python runtime calls: ``handler(event, context)``."""


class StepImportError(RuntimeError):
    """The step named by ``SAGA_STEP`` (or given to :func:`make_handler`) cannot be imported."""


@functools.cache
def _error_class(name: str) -> type[Exception]:
    return type(name, (Exception,), {"__module__": __name__, "error_name": name})


def step_error(exc: BaseException) -> BaseException:
    """The exception to raise for ``exc`` so that Lambda reports its ASL error name as errorType."""
    name = error_name_of(exc)
    if type(exc).__name__ == name:
        return exc
    replacement = _error_class(name)(str(exc))
    replacement.__cause__ = exc
    return replacement


@functools.cache
def _import_step(target: str) -> Callable[..., Any]:
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise StepImportError(f"{target!r} is not an import path 'module:attribute'")
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError) as exc:
        raise StepImportError(f"cannot import the step {target!r}: {exc}") from exc
    if not callable(value):
        raise StepImportError(f"the step {target!r} is not callable")
    return value  # type: ignore[no-any-return]


def _takes_context(step: Callable[..., Any]) -> bool:
    """Whether the step declares a second positional parameter (``(event, context)``)."""
    try:
        parameters = list(inspect.signature(step).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) >= 2


def _call(step: Callable[..., Any], event: Any, context: Any) -> Any:
    args = (event, context) if _takes_context(step) else (event,)
    if inspect.iscoroutinefunction(step):
        return anyio.run(functools.partial(step, *args))
    result = step(*args)
    if inspect.isawaitable(result):

        async def wait() -> Any:
            return await result

        return anyio.run(wait)
    return result


def make_handler(target: str | Callable[..., Any]) -> LambdaHandler:
    """A Lambda handler running ``target`` (a callable or its ``module:attribute`` path)."""

    def run(event: Any, context: Any) -> Any:
        step = _import_step(target) if isinstance(target, str) else target
        try:
            return _call(step, event, context)
        except Exception as exc:
            error = step_error(exc)
            if error is exc:
                raise
            raise error.with_traceback(exc.__traceback__) from exc

    return run


def handler(event: Any, context: Any) -> Any:
    """The Lambda entry point: runs the step named by the ``SAGA_STEP`` environment variable."""
    target = os.environ.get(STEP_ENVIRONMENT_VARIABLE)
    if not target:
        raise StepImportError(f"the environment variable {STEP_ENVIRONMENT_VARIABLE} is not set")
    return make_handler(target)(event, context)
