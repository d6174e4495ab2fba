"""Lambda functions invoked over HTTP through the Lambda Invoke API.

``POST {endpoint}/2015-03-31/functions/{FunctionName}/invocations`` is what
``sam local start-lambda`` (and Lambda itself) serves: the event as the body, the function's
result as the answer, and a function error flagged by the ``X-Amz-Function-Error`` header with
``{"errorMessage", "errorType", "stackTrace"}`` as the body — which becomes the task's error
name and cause, as Step Functions reports a Lambda failure.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Final

import anyio.to_thread

from engine.bindings import LambdaContext
from engine.errors import StatesError

__all__ = ["RemoteLambda"]

_HTTP_TIMEOUT: Final = 900.0  # Lambda's longest run; the state's own timeout cancels sooner


class RemoteLambda:
    """A handler that runs every function it is asked for at a Lambda Invoke endpoint."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")

    async def __call__(self, event: Any, context: LambdaContext) -> Any:
        """Invoke ``context.function_name`` with ``event`` and return its result."""
        return await anyio.to_thread.run_sync(
            self._invoke, context.function_name, event, abandon_on_cancel=True
        )

    def _invoke(self, function_name: str, event: Any) -> Any:
        name = urllib.parse.quote(function_name, safe="")
        url = f"{self.endpoint}/2015-03-31/functions/{name}/invocations"
        body = json.dumps(event, separators=(",", ":")).encode()
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Amz-Invocation-Type": "RequestResponse",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT) as response:
                text = response.read().decode("utf-8")
                function_error = response.headers.get("X-Amz-Function-Error")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            if exc.code == 404:
                raise StatesError(
                    "Lambda.ResourceNotFoundException",
                    f"Function not found: {function_name} (Service: AWSLambda; "
                    f"Status Code: 404; Error Code: ResourceNotFoundException)",
                ) from None
            raise StatesError(
                "Lambda.ServiceException",
                f"{detail or exc.reason} (Service: AWSLambda; Status Code: {exc.code})",
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise StatesError(
                "Lambda.SdkClientException",
                f"Unable to execute HTTP request to {self.endpoint}: {reason}",
            ) from None
        if function_error:
            error_type = "Lambda.Unknown"
            try:
                payload = json.loads(text)
            except json.JSONDecodeError:
                payload = None
            if isinstance(payload, dict) and isinstance(payload.get("errorType"), str):
                error_type = payload["errorType"]
            raise StatesError(error_type, text)
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise StatesError(
                "Lambda.SdkClientException",
                f"The function {function_name} returned a body that is not JSON",
            ) from None
