"""``states:startExecution*`` between served state machines: the child runs in its own machine's
engine, so it is listed, described and stopped through the API like any execution of that
machine.

Each served machine has its own :class:`~engine.local_engine.LocalEngine`; this binding looks the
child's ARN up in the server's registry at call time (so a machine created, updated or deleted
after the parent started is seen as it is now) and hands the call to the child machine's engine.
An ARN the server does not serve goes to ``fallback`` (boto3 to ``AWS_ENDPOINT_URL``) for the
plain and callback patterns, and fails as AWS fails it for ``.sync`` and ``.sync:2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.api.errors import ApiError
from engine.bindings import Handler, TaskBinding, TaskRequest
from engine.errors import StatesError
from engine.lambda_shapes import request_id_for
from engine.nested_execution import NESTED_RESOURCES, NestedExecutionBinding

if TYPE_CHECKING:
    from engine.api.service import StepFunctionsService

__all__ = ["ServedNestedBinding", "served_nested_bindings"]


class ServedNestedBinding:
    """Starts a child execution in the engine of the served machine its ARN names."""

    def __init__(
        self, service: StepFunctionsService, resource: str, fallback: TaskBinding | None
    ) -> None:
        self.service = service
        self.resource = resource
        self.fallback = fallback

    async def invoke(self, request: TaskRequest) -> Any:
        """Run the call as :class:`NestedExecutionBinding` does, in the child machine's engine."""
        parameters = request.payload if isinstance(request.payload, Mapping) else {}
        arn = parameters.get("StateMachineArn")
        target = self._served(arn) if isinstance(arn, str) else None
        if target is None:
            if self.fallback is not None and ".sync" not in self.resource:
                return await self.fallback.invoke(request)
            request_id = request_id_for(
                request.execution_name, request.state_name, request.invocation
            )
            raise StatesError(
                "StepFunctions.StateMachineDoesNotExistException",
                f"State Machine Does Not Exist: '{arn}' (Service: AWSStepFunctions; Status "
                "Code: 400; Error Code: StateMachineDoesNotExist; Request ID: "
                f"{request_id}; Proxy: null)",
            )
        name, definition = target
        host = await self.service.host(name, None)
        host.engine.register_state_machine(self.service.model(definition), name)
        binding = NestedExecutionBinding(host.engine, self.resource, self.fallback)
        return await binding.invoke(request)

    def _served(self, arn: str) -> tuple[str, str] | None:
        """The name and definition of the served machine ``arn`` names (a version or alias
        suffix is ignored), or None."""
        base = ":".join(arn.split(":")[:7])
        try:
            record, case = self.service.machine_record(base)
        except ApiError:
            return None
        if case is not None:
            return None
        return record.name, record.definition


def served_nested_bindings(
    service: StepFunctionsService,
    handlers: Mapping[str, Handler],
    fallbacks: Mapping[str, TaskBinding | None],
) -> dict[str, TaskBinding]:
    """One served binding per ``startExecution`` resource not keyed by a handler."""
    return {
        resource: ServedNestedBinding(service, resource, fallbacks.get(resource))
        for resource in NESTED_RESOURCES
        if resource not in handlers
    }
