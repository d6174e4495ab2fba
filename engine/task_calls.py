"""Binding every Task of a definition to its invocation chain before anything runs.

:func:`prepare_calls` resolves each Task state's resource (a handler, a built-in integration, a
binding, or a mock) and wraps it in the interceptors; every resource that cannot be bound, and
every distributed Map part that cannot run locally, is reported at once as a
:class:`~engine.diagnostics.DefinitionError` pointing at its place in the definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from engine.bindings import (
    CallNext,
    Handler,
    Interceptor,
    TaskBinding,
    UnboundResourceBinding,
    chain_interceptors,
    is_mocked,
    resolve_binding,
)
from engine.diagnostics import DefinitionError, Diagnostic
from engine.distributed.checks import distributed_map_problems
from engine.expressions import is_expression
from engine.integrations.aws_sdk import aws_sdk_problem, is_aws_sdk_resource
from engine.lambda_shapes import placeholder_name
from engine.model import MapState, ParallelState, State, StateMachine, TaskState

__all__ = [
    "function_timeouts_of",
    "json_pointer",
    "prepare_calls",
    "shared_calls",
    "walk_states",
]


def json_pointer(path: Sequence[str]) -> str:
    return "".join(f"/{part.replace('~', '~0').replace('/', '~1')}" for part in path)


def walk_states(
    states: Mapping[str, State], path: tuple[str, ...]
) -> list[tuple[str, State, tuple[str, ...]]]:
    found: list[tuple[str, State, tuple[str, ...]]] = []
    for name, state in states.items():
        where = (*path, "States", name)
        found.append((name, state, where))
        if isinstance(state, ParallelState):
            for index, branch in enumerate(state.branches):
                found += walk_states(branch.states, (*where, "Branches", str(index)))
        elif isinstance(state, MapState) and (state.item_processor or state.iterator):
            key = "ItemProcessor" if state.item_processor is not None else "Iterator"
            found += walk_states(state.processor.states, (*where, key))
    return found


def function_timeouts_of(machine: StateMachine) -> dict[str, int]:
    """The longest whole ``TimeoutSeconds`` of the Tasks whose ``Resource`` is each
    ``${Placeholder}``, nested ones included: what the exported template sizes that function's
    timeout by (:func:`~engine.lambda_shapes.deployed_timeout`)."""
    longest: dict[str, int] = {}
    for _, state, _ in walk_states(machine.states, ()):
        if not isinstance(state, TaskState):
            continue
        placeholder = placeholder_name(state.resource)
        if placeholder is None:
            continue
        timeout = state.timeout_seconds
        seconds = timeout if isinstance(timeout, int) and not isinstance(timeout, bool) else 0
        longest[placeholder] = max(longest.get(placeholder, 0), seconds)
    return longest


def _static_payload(state: TaskState) -> Any:
    """The Task's payload template whose constant ``FunctionName`` can be checked up front."""
    if state.parameters is not None:
        return state.parameters
    arguments = state.arguments
    if isinstance(arguments, dict) and not is_expression(arguments.get("FunctionName")):
        return arguments
    return None


def prepare_calls(
    machine: StateMachine,
    handlers: Mapping[str, Handler],
    interceptors: Sequence[Interceptor] = (),
    bindings: Mapping[str, TaskBinding] | None = None,
) -> dict[str, CallNext]:
    """The invocation chain of every Task state, by state name; raises before anything runs.

    Raises :class:`DefinitionError` naming each unbound resource, each distributed Map part
    that cannot run locally (say Parquet without pyarrow).
    """
    for key, handler in handlers.items():
        if not callable(handler):
            raise TypeError(
                f"handlers[{key!r}]: expected a callable taking the event (and optionally a "
                f"Lambda context), got {type(handler).__name__}"
            )
    for index, interceptor in enumerate(interceptors):
        if not callable(interceptor):
            raise TypeError(
                f"interceptors[{index}]: expected a callable (request, call_next) -> result, "
                f"got {type(interceptor).__name__}"
            )
    problems: list[Diagnostic] = []
    calls: dict[str, CallNext] = {}
    timeouts = function_timeouts_of(machine)
    for name, state, where in walk_states(machine.states, ()):
        if isinstance(state, MapState) and state.is_distributed:
            for suffix, message in distributed_map_problems(name, state):
                problems.append(
                    Diagnostic("UNSUPPORTED_LOCALLY", json_pointer((*where, *suffix)), message)
                )
        if not isinstance(state, TaskState):
            continue
        resource = state.resource
        binding = bindings.get(resource) if bindings else None
        if binding is None:
            binding = resolve_binding(
                resource,
                handlers,
                parameters=_static_payload(state),
                function_timeouts=timeouts,
            )
        if binding is None:
            if is_mocked(interceptors, name):
                binding = UnboundResourceBinding(name, resource)
            elif is_aws_sdk_resource(resource):
                problems.append(
                    Diagnostic(
                        "UNBOUND_RESOURCE",
                        json_pointer((*where, "Resource")),
                        f"state '{name}': {aws_sdk_problem(resource)}",
                    )
                )
                continue
            else:
                problems.append(
                    Diagnostic(
                        "UNBOUND_RESOURCE",
                        json_pointer((*where, "Resource")),
                        f"state '{name}': nothing is bound to resource '{resource}' "
                        "(give a handler keyed by the resource, its placeholder or function "
                        "name, or a mock)",
                    )
                )
                continue
        calls[name] = chain_interceptors(interceptors, binding)
    if problems:
        raise DefinitionError(problems)
    return calls


_SHARED_SIZE: Final = 128
_shared: dict[tuple[Any, ...], tuple[StateMachine, tuple[object, ...], dict[str, CallNext]]] = {}
"""Calls prepared by :func:`shared_calls`, by machine and handler/binding identities; each
entry holds the objects it is keyed by, so their ids cannot be reused while it is kept."""


def shared_calls(
    machine: StateMachine,
    handlers: Mapping[str, Handler],
    bindings: Mapping[str, TaskBinding],
    engine_bindings: Callable[[], Mapping[str, TaskBinding]],
) -> dict[str, CallNext]:
    """:func:`prepare_calls` without interceptors, kept across engines (``engine.run`` builds
    one per call): the same machine with the same handler and binding objects gets the same
    calls. Calls that reach one of ``engine_bindings()`` (an engine's own, e.g. its nested
    executions; asked for only when the calls are not kept) are not kept; ``bindings`` take
    precedence over them as in the engine.
    """
    key = (
        id(machine),
        tuple(handlers),
        tuple(map(id, handlers.values())),
        tuple(bindings),
        tuple(map(id, bindings.values())),
    )
    kept = _shared.get(key)
    if kept is not None and kept[0] is machine:
        return kept[2]
    engine_own = engine_bindings()
    calls = prepare_calls(machine, handlers, (), {**engine_own, **bindings})
    own = {id(binding) for binding in engine_own.values()}
    if any(id(getattr(call, "__self__", None)) in own for call in calls.values()):
        return calls
    if len(_shared) >= _SHARED_SIZE:
        _shared.clear()
    _shared[key] = (machine, (*handlers.values(), *bindings.values()), calls)
    return calls
