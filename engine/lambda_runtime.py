"""How AWS Lambda's Python runtime invokes a handler, for one invocation, in the standard library.

The local engine invokes every Python step through :func:`invoke`, and a deployed step runs
behind :func:`handler`, so local and deployed steps share one calling convention. This module
imports nothing outside the Python standard library: ``saga package`` copies it verbatim next
to the user's code, where it is the Lambda handler of every packaged step.

The rules follow the open-source Lambda runtime interface client (``awslambdaric``):

- the event is the JSON-decoded input; the result is marshalled as its ``simplejson`` encoder
  does (a ``Decimal`` is a number, ``bytes`` inside a result are UTF-8 text, an object with
  ``_asdict()`` is an object, tuples are arrays); anything else fails the invocation with
  ``Runtime.MarshalError`` and ``Unable to marshal response: ...``;
- an ``Exception`` becomes ``{errorMessage, errorType, requestId, stackTrace}``;
- anything the runtime does not catch (``SystemExit``, ``KeyboardInterrupt``, another
  ``BaseException``, an exception whose ``str()`` raises) ends the runtime process, which
  Lambda reports as ``Runtime.ExitError`` naming the exit status.

Async steps (which Lambda's runtime cannot call) run to completion on an event loop of their
own, in the calling thread, with ``asyncio`` since nothing else is available here.
"""

from __future__ import annotations

import asyncio
import decimal
import functools
import importlib
import inspect
import json
import math
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EXIT_ERROR",
    "MARSHAL_ERROR",
    "MAX_CAUSE_CHARS",
    "MAX_ERROR_CHARS",
    "STEP_ENVIRONMENT_VARIABLE",
    "Invocation",
    "LambdaContext",
    "StepImportError",
    "bound_cause",
    "bound_error",
    "call_step",
    "close_thread_loop",
    "error_type_of",
    "failure_of",
    "handler",
    "import_step",
    "invoke",
    "make_handler",
    "marshal",
    "safe_text",
    "step_error",
    "takes_context",
]

MARSHAL_ERROR = "Runtime.MarshalError"
"""The runtime's ``errorType`` for a result it cannot serialise."""

EXIT_ERROR = "Runtime.ExitError"
"""Lambda's ``errorType`` when the runtime process exits during an invocation."""

MAX_ERROR_CHARS = 256
"""Step Functions keeps at most 256 characters of a task failure's ``error``."""

MAX_CAUSE_CHARS = 32_768
"""Step Functions keeps at most 32,768 characters of a task failure's ``cause``."""

STEP_ENVIRONMENT_VARIABLE = "SAGA_STEP"
"""Environment variable naming the step (``module:attribute``) a deployed function runs."""

_DEFAULT_TIMEOUT_SECONDS = 900.0
_ENSURE_ASCII = sys.version_info < (3, 12)
"""Runtimes before python3.12 escape non-ASCII text in the JSON they return."""


class StepImportError(RuntimeError):
    """The step named by ``SAGA_STEP`` (or given to :func:`make_handler`) cannot be imported."""


class _CognitoIdentity:
    """``context.identity``: empty outside Amazon Cognito calls, as on Lambda."""

    def __init__(self) -> None:
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None


class LambdaContext:
    """The ``context`` Lambda's Python runtime passes to ``handler(event, context)``.

    ``get_remaining_time_in_millis()`` counts down to ``timeout_seconds`` from creation (900,
    Lambda's longest timeout, when none is given), so a cooperative step can stop in time.
    """

    def __init__(
        self,
        function_name: str,
        aws_request_id: str,
        timeout_seconds: float | None = None,
        *,
        invoked_function_arn: str | None = None,
        memory_limit_in_mb: int = 128,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = invoked_function_arn or (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/{aws_request_id}"
        self.client_context: Any = None
        self.identity: Any = _CognitoIdentity()
        self.tenant_id: str | None = None
        budget = _DEFAULT_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
        self._deadline = time.monotonic() + budget

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the task's timeout (never negative)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, msg: object) -> None:
        """Write ``msg`` to the function's log (standard output)."""
        sys.stdout.write(str(msg))


# --- calling a step -------------------------------------------------------------------------


def _positional_count(step: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(step).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in kinds)


@functools.lru_cache(maxsize=4096)
def _cached_takes_context(step: Callable[..., Any]) -> bool:
    return _positional_count(step) >= 2


def takes_context(step: Callable[..., Any]) -> bool:
    """Whether a step declares ``(event, context)`` rather than ``(event)``."""
    try:
        return _cached_takes_context(step)
    except TypeError:  # an unhashable callable object
        return _positional_count(step) >= 2


_PLAIN_RESULTS = frozenset({dict, list, str, int, float, bool, type(None)})
"""Result types that are never awaitable (``inspect.isawaitable`` checks an ABC: slow)."""


def call_step(step: Callable[..., Any], event: Any, context: Any) -> Any:
    """Call a step as its Lambda function would: ``step(event, context)`` or ``step(event)``.

    An awaitable result (an ``async def`` step) is run to completion on a new event loop in
    the calling thread.
    """
    result = step(event, context) if takes_context(step) else step(event)
    if type(result) not in _PLAIN_RESULTS and inspect.isawaitable(result):
        if inspect.iscoroutine(result):  # an ``async def`` step: its coroutine runs as it is
            return _run_to_completion(result)
        awaitable = result

        async def wait() -> Any:
            return await awaitable

        result = _run_to_completion(wait())
    return result


_thread_loops = threading.local()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _TaskLog:
    """The task factory of a kept step loop: it notes the tasks made on the loop, so whether a
    step left one pending is known without ``asyncio.all_tasks``, which scans every task of the
    process (the engine's included: thousands while many executions wait)."""

    __slots__ = ("tasks",)

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[Any]] = []

    def __call__(
        self, loop: asyncio.AbstractEventLoop, coro: Any, **options: Any
    ) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, **options)
        self.tasks.append(task)
        return task

    def any_pending(self) -> bool:
        """Whether a task made since the last call is not done (forgets them all)."""
        pending = any(not task.done() for task in self.tasks)
        self.tasks.clear()
        return pending


def _new_step_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    loop.set_task_factory(_TaskLog())
    return loop


def _left_clean(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether a step left nothing on ``loop`` that closing it would finish: no task still
    pending, no async generator, no default executor (then the loop can serve the next step).
    A step that replaced the loop's task factory leaves it unknown: not clean."""
    log = loop.get_task_factory()
    if not isinstance(log, _TaskLog) or log.any_pending():
        return False
    return not getattr(loop, "_asyncgens", True) and getattr(loop, "_default_executor", 1) is None


def _run_to_completion(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run(coroutine)``, on an event loop kept for the calling thread.

    Opening a loop costs more than a small step, so a thread keeps its loop while the steps it
    runs leave it clean; a step that leaves tasks, async generators or executor threads behind
    has its loop closed as ``asyncio.run`` closes it, and the next step gets a new one.
    """
    if _running_loop() is not None:
        return asyncio.run(coroutine)  # refuses, as it always did
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _thread_loops.loop = _new_step_loop()
    asyncio.set_event_loop(loop)
    clean = False
    try:
        result = loop.run_until_complete(loop.create_task(coroutine))
        clean = _left_clean(loop)
        return result
    finally:
        asyncio.set_event_loop(None)
        if not clean:
            _thread_loops.loop = None
            _close(loop)


def close_thread_loop() -> None:
    """Close the event loop the calling thread kept for async steps, if any (at thread end)."""
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_loops, "loop", None)
    _thread_loops.loop = None
    if loop is not None and not loop.is_closed():
        _close(loop)


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Close ``loop`` as ``asyncio.run`` does: cancel what is left, finish async generators and
    the default executor."""
    try:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            for task in pending:
                if not task.cancelled() and task.exception() is not None:
                    loop.call_exception_handler(
                        {
                            "message": "unhandled exception during asyncio.run() shutdown",
                            "exception": task.exception(),
                            "task": task,
                        }
                    )
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def error_type_of(exc: BaseException) -> str:
    """The ``errorType`` reported for ``exc``: its ``error_name`` attribute, else its class name."""
    name = getattr(exc, "error_name", None)
    return name if isinstance(name, str) and name else type(exc).__name__


@functools.cache
def _error_class(name: str) -> type[Exception]:
    return type(name, (Exception,), {"__module__": __name__, "error_name": name})


def step_error(exc: BaseException) -> BaseException:
    """``exc``, or an exception of a class named after its ``error_name`` (chaining ``exc``).

    Lambda's runtime reports an exception's class name as ``errorType``; this makes it report
    the ASL error name the step declared, as the local engine does.
    """
    name = error_type_of(exc)
    if type(exc).__name__ == name:
        return exc
    replacement = _error_class(name)(str(exc))
    replacement.__cause__ = exc
    return replacement


# --- marshalling ----------------------------------------------------------------------------

_scan_json: Callable[[str, int], tuple[Any, int]] = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""``json.loads`` without its whitespace checks, for the text :func:`marshal` writes."""

_encode_text = (
    json.encoder.encode_basestring_ascii if _ENSURE_ASCII else json.encoder.encode_basestring
)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, bytes):
        return str(key, "utf-8")
    if isinstance(key, float):
        return _float_text(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return str(int(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _as_dict(value: Any) -> dict[Any, Any] | None:
    method = getattr(value, "_asdict", None)
    if not callable(method):
        return None
    result = method()
    if not isinstance(result, dict):
        raise TypeError(f"_asdict() must return a dict, not {type(result).__name__}")
    return result


def _encode(value: Any, out: list[str], seen: set[int]) -> None:
    if isinstance(value, str):
        out.append(_encode_text(str.__str__(value)))
    elif isinstance(value, bytes):
        out.append(_encode_text(str(value, "utf-8")))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(int(value)))
    elif isinstance(value, float):
        out.append(_float_text(value))
    else:
        mapping = _as_dict(value)
        if mapping is None and isinstance(value, dict):
            mapping = value
        if mapping is None and not isinstance(value, list | tuple):
            if isinstance(value, decimal.Decimal):
                out.append("NaN" if value.is_nan() else str(value))
                return
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        marker = id(value)
        if marker in seen:
            raise ValueError("Circular reference detected")
        seen.add(marker)
        if mapping is not None:
            out.append("{")
            for index, (key, item) in enumerate(mapping.items()):
                out.append(", " if index else "")
                out.append(_encode_text(_key_text(key)))
                out.append(": ")
                _encode(item, out, seen)
            out.append("}")
        else:
            out.append("[")
            for index, item in enumerate(value):
                out.append(", " if index else "")
                _encode(item, out, seen)
            out.append("]")
        seen.discard(marker)


_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})
_PLAIN_DEPTH = 64

_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_plain_encode: Callable[[Any, int], Any] | None = (
    _c_make_encoder(None, None, _encode_text, None, ": ", ", ", False, False, True)
    if _c_make_encoder is not None
    else None
)
"""The C encoder with the runtime's options and no circular-reference memo (only
:func:`_plain` data, which cannot be circular, is given to it)."""


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` holds only dicts with ``str`` keys, lists, and ``str``, ``int``,
    ``float``, ``bool`` and ``None`` of exactly those types, nested at most
    :data:`_PLAIN_DEPTH` deep: data the C encoder writes exactly as :func:`_encode` does
    (no named tuple, ``bytes``, ``Decimal`` or subclass, and nothing circular)."""
    kind = type(value)
    if kind is dict:
        for key in value:
            if type(key) is not str:
                return False
        items: Any = value.values()
    elif kind is list:
        items = value
    else:
        return kind in _PLAIN_SCALARS
    if depth >= _PLAIN_DEPTH:
        return False
    for item in items:
        item_kind = type(item)
        if item_kind is dict or item_kind is list:
            if not _plain(item, depth + 1):
                return False
        elif item_kind not in _PLAIN_SCALARS:
            return False
    return True


def marshal(value: Any) -> str:
    """The JSON text Lambda's runtime returns for a handler's result.

    Raises ``TypeError``/``ValueError`` (as the runtime's encoder does) for a value it cannot
    serialise. Top-level ``bytes`` are returned by the runtime as they are. Plain JSON data
    goes through the C encoder (several times faster on a large result); anything else
    through the runtime's rules, written out here.
    """
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if _plain_encode is not None and _plain(value):
        return "".join(_plain_encode(value, 0))
    out: list[str] = []
    _encode(value, out, set())
    return "".join(out)


# --- errors ---------------------------------------------------------------------------------


def safe_text(text: str) -> str:
    """``text`` with lone surrogates written as ``\\udcXX`` escapes, so it encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def bound_error(error: str) -> str:
    """An error name as Step Functions keeps it: UTF-8 safe, at most 256 characters."""
    return safe_text(error)[:MAX_ERROR_CHARS]


def bound_cause(cause: str) -> str:
    """A cause as Step Functions keeps it: UTF-8 safe, at most 32,768 characters."""
    return safe_text(cause)[:MAX_CAUSE_CHARS]


def _runtime_json(document: dict[str, Any]) -> str:
    """JSON text as the runtime writes its error documents (``", "``/``": "`` separators)."""
    return json.dumps(document, ensure_ascii=_ENSURE_ASCII)


_OWN_FILES = (__file__, os.path.dirname(asyncio.__file__) + os.sep)


def _stack_trace(exc: BaseException) -> list[str]:
    """The formatted frames of ``exc``'s traceback: the step's own, without this module's."""
    frames = traceback.extract_tb(exc.__traceback__)
    kept = traceback.StackSummary.from_list(
        [frame for frame in frames if not frame.filename.startswith(_OWN_FILES)]
    )
    return [safe_text(line) for line in kept.format()]


def _exit_message(exc: BaseException, request_id: str) -> str:
    """Lambda's message when the runtime process ends because ``exc`` escaped the handler."""
    if isinstance(exc, KeyboardInterrupt):
        return f"RequestId: {request_id} Error: Runtime exited with error: signal: interrupt"
    status = 1
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code & 0xFF
    if status == 0:
        return f"RequestId: {request_id} Error: Runtime exited without providing a reason"
    return f"RequestId: {request_id} Error: Runtime exited with error: exit status {status}"


@dataclass(frozen=True)
class Invocation:
    """What one invocation returned: the JSON text of the result or of the error document.

    ``error_type`` is set when the function failed; ``exception`` is what the step raised,
    if anything (for the caller's own error mapping).
    """

    payload: str
    error_type: str | None = None
    exception: BaseException | None = None

    @property
    def failed(self) -> bool:
        """Whether the function failed (Lambda's ``FunctionError``)."""
        return self.error_type is not None

    def result(self) -> Any:
        """The result as the caller decodes it; ``ValueError`` when it is not JSON."""
        text = self.payload
        try:
            value, end = _scan_json(text, 0)
        except StopIteration:
            end = -1
        if end == len(text):
            return value
        return json.loads(text)  # whitespace around it, or not JSON: as json.loads decides

    def error(self) -> str:
        """The error name Step Functions reports (bounded)."""
        return bound_error(self.error_type or "")

    def cause(self) -> str:
        """The cause Step Functions reports: the error document's JSON text (bounded)."""
        return bound_cause(self.payload)

    def error_message(self) -> str:
        """The ``errorMessage`` of the error document."""
        document = json.loads(self.payload)
        return str(document.get("errorMessage", "")) if isinstance(document, dict) else ""


def _failure(exc: Exception, request_id: str) -> Invocation:
    """The runtime's error document for an exception the handler raised.

    ``str(exc)`` runs first, as in the runtime: if it raises, the runtime itself crashes.
    """
    message = str(exc)
    error_type = error_type_of(exc)
    document = {
        "errorMessage": safe_text(message),
        "errorType": safe_text(error_type),
        "requestId": request_id,
        "stackTrace": _stack_trace(exc),
    }
    return Invocation(_runtime_json(document), error_type, exc)


def failure_of(exc: Exception, request_id: str) -> Invocation:
    """The failed invocation of a handler that raised ``exc`` (see :func:`invoke`)."""
    try:
        return _failure(exc, request_id)
    except BaseException as crash:
        return _exited(crash, request_id)


def _fault(error_type: str, message: str, request_id: str) -> Invocation:
    document = {
        "errorMessage": safe_text(message),
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": [],
    }
    return Invocation(_runtime_json(document), error_type)


def _exited(exc: BaseException, request_id: str) -> Invocation:
    document = {"errorType": EXIT_ERROR, "errorMessage": _exit_message(exc, request_id)}
    return Invocation(json.dumps(document, separators=(",", ":")), EXIT_ERROR, exc)


def invoke(step: Callable[..., Any], event: Any, context: Any, *, request_id: str) -> Invocation:
    """Invoke ``step`` on ``event`` as Lambda's Python runtime would; never raises.

    The handler's exception, a result that cannot be marshalled and an exit of the runtime
    process each become the failed :class:`Invocation` Lambda would report.
    """
    try:
        try:
            response = call_step(step, event, context)
        except Exception as exc:
            return _failure(exc, request_id)
        try:
            return Invocation(marshal(response))
        except Exception as exc:
            return _fault(MARSHAL_ERROR, f"Unable to marshal response: {exc}", request_id)
    except BaseException as exc:
        return _exited(exc, request_id)


# --- the deployed handler -------------------------------------------------------------------


@functools.cache
def import_step(target: str) -> Callable[..., Any]:
    """The callable at ``module:attribute``; :class:`StepImportError` when there is none."""
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


def make_handler(target: str | Callable[..., Any]) -> Callable[[Any, Any], Any]:
    """A Lambda handler running ``target`` (a callable or its ``module:attribute`` path).

    Failures are left to Lambda's runtime, which reports them; an exception is only renamed
    after its ``error_name`` (see :func:`step_error`).
    """

    def run(event: Any, context: Any) -> Any:
        step = import_step(target) if isinstance(target, str) else target
        try:
            return call_step(step, event, context)
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
