"""The Task states a step compiles to (and the ``Pass`` that unwraps a ``lambda:invoke``
response), shared by the saga's top level, its parallel branches and for-each items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.model import Catcher, PassState, Retrier, State, TaskState
from saga.integrations import Integration
from saga.steps import TASK_TOKEN, LambdaInvoke, Step, Unset
from saga.templates import compile_template

if TYPE_CHECKING:
    from saga.for_each import ForEach
    from saga.parallel import ParallelGroup

__all__ = ["flow", "retriers", "task_states"]


def flow(fields: dict[str, Any], following: str | None) -> None:
    if following is None:
        fields["end"] = True
    else:
        fields["next"] = following


def retriers(step: Step | ParallelGroup | ForEach) -> list[Retrier]:
    return [retrier.to_retrier() for retrier in step.retry]


def _parameters(step: Step) -> Any:
    if isinstance(step.action, Integration):
        return compile_template(dict(step.action.parameters))
    user = None if isinstance(step.parameters, Unset) else compile_template(step.parameters)
    if isinstance(step.resource, LambdaInvoke):
        if user is None and step.resource.wait_for_task_token:
            payload = {"input.$": "$", "taskToken.$": TASK_TOKEN}
            return {"FunctionName": step.resource.function_name, "Payload": payload}
        if user is None:
            return {"FunctionName": step.resource.function_name, "Payload.$": "$"}
        return {"FunctionName": step.resource.function_name, "Payload": user}
    return user


def task_states(step: Step, following: str | None, catchers: Sequence[Catcher]) -> dict[str, State]:
    fields: dict[str, Any] = {"type": "Task", "resource": step.resource_arn}
    if step.comment is not None:
        fields["comment"] = step.comment
    if not isinstance(step.input_path, Unset):
        fields["input_path"] = step.input_path
    parameters = _parameters(step)
    if parameters is not None:
        fields["parameters"] = parameters
    if not isinstance(step.result_selector, Unset) and not step.unwraps_payload:
        fields["result_selector"] = compile_template(step.result_selector)
    if not (step.result_path_is_default and step.result_path == "$"):
        fields["result_path"] = step.result_path
    if step.timeout is not None:
        fields["timeout_seconds"] = step.timeout
    if step.heartbeat is not None:
        fields["heartbeat_seconds"] = step.heartbeat
    if step.retry:
        fields["retry"] = retriers(step)
    if catchers:
        fields["catch"] = list(catchers)
    if not step.unwraps_payload:
        flow(fields, following)
        return {step.name: TaskState(**fields)}
    assert step.result_path is not None
    fields["next"] = step.unwrap_state_name
    unwrap: dict[str, Any] = {
        "type": "Pass",
        "input_path": f"{step.result_path.rstrip('.')}.Payload",
        "result_path": step.result_path,
    }
    if not isinstance(step.result_selector, Unset):
        unwrap["parameters"] = compile_template(step.result_selector)
    flow(unwrap, following)
    return {step.name: TaskState(**fields), step.unwrap_state_name: PassState(**unwrap)}
