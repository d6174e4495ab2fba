"""A compiled saga in JSONata: the same machine with ``QueryLanguage: JSONata``.

The saga compiler emits JSONPath fields; this rewrites each state into the JSONata fields that
do the same: ``InputPath`` and ``Parameters`` become ``Arguments``; ``ResultSelector``,
``ResultPath`` and ``OutputPath`` one ``Output`` expression; a catcher's ``ResultPath`` its
``Output``; ``ErrorPath``/``CausePath`` expressions of ``Error``/``Cause``; a Map's
``ItemsPath`` its ``Items`` and its ``ItemSelector`` expressions; each Choice rule a
``Condition`` (:mod:`saga.jsonata_conditions`). Paths are the reference paths the compiler
writes (fields, indexes, ``[*]``; :mod:`saga.jsonata_paths`); the intrinsic functions with a
JSONata equivalent are translated, any other is a :class:`~saga.errors.SagaDefinitionError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from engine.intrinsics import IntrinsicCall, IntrinsicLiteral, IntrinsicPath, parse_intrinsic
from engine.model import (
    Branch,
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    ItemProcessor,
    MapState,
    ParallelState,
    PassState,
    State,
    StateMachine,
    SucceedState,
    TaskState,
)
from engine.paths import normalized_path
from saga.errors import SagaDefinitionError
from saga.jsonata_conditions import condition_expression
from saga.jsonata_paths import INPUT as _INPUT
from saga.jsonata_paths import STEP as _STEP
from saga.jsonata_paths import literal as _literal
from saga.jsonata_paths import path_expression as _path
from saga.jsonata_paths import wrap as _wrap

__all__ = ["JSONATA", "JSONPATH", "QUERY_LANGUAGES", "to_jsonata"]

JSONPATH: Final = "JSONPath"
JSONATA: Final = "JSONata"
QUERY_LANGUAGES: Final = (JSONPATH, JSONATA)


def _intrinsic(call: IntrinsicCall, data: str, where: str) -> str:
    args = [_argument(arg, data, where) for arg in call.args]
    name = call.name
    if name == "States.JsonToString" and len(args) == 1:
        return f"$string({args[0]})"
    if name == "States.StringToJson" and len(args) == 1:
        return f"$parse({args[0]})"
    if name == "States.MathAdd" and len(args) == 2:
        return f"({args[0]} + {args[1]})"
    if name == "States.ArrayLength" and len(args) == 1:
        return f"$count({args[0]})"
    if name == "States.UUID" and not args:
        return "$uuid()"
    if name == "States.Format" and call.args and isinstance(call.args[0], IntrinsicLiteral):
        pieces = call.args[0].pieces or (str(call.args[0].value),)
        if len(pieces) == len(args):
            parts = [_literal(pieces[0])]
            for piece, arg in zip(pieces[1:], args[1:], strict=True):
                parts += [f"$string({arg})", _literal(piece)]
            return "(" + " & ".join(parts) + ")"
    raise SagaDefinitionError(
        f"{where}: {name} has no JSONata translation here; write the value without it or keep "
        "the saga in JSONPath"
    )


def _argument(arg: IntrinsicLiteral | IntrinsicPath | IntrinsicCall, data: str, where: str) -> str:
    if isinstance(arg, IntrinsicPath):
        return _path(arg.path, data, where)
    if isinstance(arg, IntrinsicCall):
        return _intrinsic(arg, data, where)
    return _literal(arg.value)


def _dynamic(text: str, data: str, where: str) -> str:
    """A ``.$`` value (path or intrinsic function) as a JSONata expression."""
    if text.startswith("$"):
        return _path(text, data, where)
    return _intrinsic(parse_intrinsic(text), data, where)


def _template_expression(template: Any, data: str, where: str) -> str:
    """A payload template as one JSONata expression (objects, arrays, literals)."""
    if isinstance(template, Mapping):
        members = []
        for key, value in template.items():
            if key.endswith(".$"):
                members.append(f"{_literal(key[:-2])}: {_dynamic(value, data, where)}")
            else:
                members.append(f"{_literal(key)}: {_template_expression(value, data, where)}")
        return "{" + ", ".join(members) + "}"
    if isinstance(template, list):
        return "[" + ", ".join(_template_expression(v, data, where) for v in template) + "]"
    return _literal(template)


def _template_value(template: Any, data: str, where: str) -> Any:
    """A payload template as a JSONata field value: its ``.$`` entries become expressions."""
    if isinstance(template, Mapping):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = _wrap(_dynamic(value, data, where))
            else:
                out[key] = _template_value(value, data, where)
        return out
    if isinstance(template, list):
        return [_template_value(value, data, where) for value in template]
    if isinstance(template, str) and template.startswith("{%") and template.endswith("%}"):
        return _wrap(_literal(template))  # a literal that would read as an expression
    return template


def _placed(value: str, result_path: str | None, data: str, where: str) -> str:
    """``value`` placed in ``data`` at ``result_path`` (``None``: ``data`` unchanged)."""
    if result_path is None:
        return data
    text = normalized_path(result_path)
    names = [step.group(1) for step in _STEP.finditer(text)]
    if any(name is None for name in names) or text[1:] != "".join(f"['{n}']" for n in names):
        raise SagaDefinitionError(
            f"{where}: ResultPath {result_path!r} must name object fields for JSONata mode"
        )
    expression = value
    for depth in range(len(names), 0, -1):
        parent = data + "".join(f".`{name}`" for name in names[: depth - 1])
        expression = f"$merge([{parent}, {{{_literal(names[depth - 1])}: {expression}}}])"
    return expression


def _set(state: Any) -> set[str]:
    return set(state.model_fields_set)


def _effective_input(state: Any, where: str) -> str:
    fields = _set(state)
    if "input_path" not in fields:
        return _INPUT
    if state.input_path is None:
        return "{}"
    return _path(state.input_path, _INPUT, where)


def _output(state: Any, result: str, where: str) -> str | None:
    """The ``Output`` expression of ResultSelector → ResultPath → OutputPath, or ``None``."""
    fields = _set(state)
    if getattr(state, "result_selector", None) is not None:
        result = _template_expression(state.result_selector, result, where)
    result_path = state.result_path if "result_path" in fields else "$"
    placed = _placed(result, result_path, _INPUT, where)
    if "output_path" in fields:
        placed = "{}" if state.output_path is None else _path(state.output_path, placed, where)
    return placed


def _catcher(catcher: Catcher, where: str) -> Catcher:
    fields: dict[str, Any] = {"error_equals": catcher.error_equals, "next": catcher.next}
    if catcher.comment is not None:
        fields["comment"] = catcher.comment
    if "result_path" in catcher.model_fields_set:
        output = _placed("$states.errorOutput", catcher.result_path, _INPUT, where)
        fields["output"] = _wrap(output)
    return Catcher(**fields)


def _common(state: Any, *keys: str) -> dict[str, Any]:
    fields = _set(state)
    return {key: getattr(state, key) for key in keys if key in fields}


def _arguments(state: Any, where: str) -> Any:
    effective = _effective_input(state, where)
    if getattr(state, "parameters", None) is not None:
        return _template_value(state.parameters, effective, where)
    return None if effective == _INPUT else _wrap(effective)


def _task(state: TaskState, where: str) -> TaskState:
    fields = _common(
        state, "type", "comment", "resource", "next", "end", "retry", "timeout_seconds"
    )
    fields.update(_common(state, "heartbeat_seconds", "credentials"))
    if state.timeout_seconds_path is not None or state.heartbeat_seconds_path is not None:
        raise SagaDefinitionError(f"{where}: *SecondsPath has no JSONata translation here")
    arguments = _arguments(state, where)
    if arguments is not None:
        fields["arguments"] = arguments
    output = _output(state, "$states.result", where)
    if output != "$states.result":
        fields["output"] = _wrap(output or "$states.result")
    if state.catch:
        fields["catch"] = [_catcher(c, f"{where}, catcher {i}") for i, c in enumerate(state.catch)]
    return TaskState(**fields)


def _pass(state: PassState, where: str) -> PassState:
    fields = _common(state, "type", "comment", "next", "end")
    effective = _effective_input(state, where)
    if state.parameters is not None:
        effective = _template_expression(state.parameters, effective, where)
    result = _literal(state.result) if "result" in _set(state) else effective
    output = _output(state, result, where)
    if output != _INPUT:
        fields["output"] = _wrap(output or _INPUT)
    return PassState(**fields)


def _parallel(state: ParallelState, where: str) -> ParallelState:
    fields = _common(state, "type", "comment", "next", "end", "retry")
    fields["branches"] = [
        Branch(start_at=b.start_at, states=_states(b.states), **_common(b, "comment"))
        for b in state.branches
    ]
    arguments = _arguments(state, where)
    if arguments is not None:
        fields["arguments"] = arguments
    output = _output(state, "$states.result", where)
    if output != "$states.result":
        fields["output"] = _wrap(output or "$states.result")
    if state.catch:
        fields["catch"] = [_catcher(c, f"{where}, catcher {i}") for i, c in enumerate(state.catch)]
    return ParallelState(**fields)


def _choice(state: ChoiceState, where: str) -> ChoiceState:
    if _set(state) & {"input_path", "output_path"}:
        raise SagaDefinitionError(f"{where}: a Choice's InputPath/OutputPath is not translated")
    fields = _common(state, "type", "comment", "default")
    fields["choices"] = [
        ChoiceRule(
            condition=_wrap(condition_expression(rule, f"{where}, rule {index}")),
            **_common(rule, "next", "comment"),
        )
        for index, rule in enumerate(state.choices)
    ]
    return ChoiceState(**fields)


def _map(state: MapState, where: str) -> MapState:
    """An inline Map: ``ItemsPath`` becomes ``Items``, ``ItemSelector`` expressions, the item
    processor translated state by state, the result placed by ``Output``."""
    fields = _common(state, "type", "comment", "next", "end", "retry", "label")
    fields.update(_common(state, "max_concurrency", "tolerated_failure_count"))
    fields.update(_common(state, "tolerated_failure_percentage"))
    untranslated = _set(state) & {
        "input_path", "parameters", "iterator", "item_reader", "item_batcher", "result_writer",
        "max_concurrency_path", "tolerated_failure_count_path",
        "tolerated_failure_percentage_path",
    }  # fmt: skip
    if untranslated:
        raise SagaDefinitionError(f"{where}: {sorted(untranslated)} of a Map are not translated")
    if "items_path" in _set(state) and normalized_path(state.items_path or "$") != "$":
        fields["items"] = _wrap(_path(state.items_path or "$", _INPUT, where))
    if state.item_selector is not None:
        fields["item_selector"] = _template_value(state.item_selector, _INPUT, where)
    processor = state.processor
    fields["item_processor"] = ItemProcessor(
        start_at=processor.start_at,
        states=_states(processor.states),
        **_common(processor, "comment", "processor_config"),
    )
    output = _output(state, "$states.result", where)
    if output != "$states.result":
        fields["output"] = _wrap(output or "$states.result")
    if state.catch:
        fields["catch"] = [_catcher(c, f"{where}, catcher {i}") for i, c in enumerate(state.catch)]
    return MapState(**fields)


def _fail(state: FailState, where: str) -> FailState:
    fields = _common(state, "type", "comment", "error", "cause")
    if state.error_path is not None:
        fields["error"] = _wrap(_dynamic(state.error_path, _INPUT, where))
    if state.cause_path is not None:
        fields["cause"] = _wrap(_dynamic(state.cause_path, _INPUT, where))
    return FailState(**fields)


def _succeed(state: SucceedState, where: str) -> SucceedState:
    fields = _common(state, "type", "comment")
    effective = _effective_input(state, where)
    if "output_path" in _set(state):
        effective = (
            "{}" if state.output_path is None else _path(state.output_path, effective, where)
        )
    if effective != _INPUT:
        fields["output"] = _wrap(effective)
    return SucceedState(**fields)


def _state(name: str, state: State) -> State:
    where = f"state {name!r}"
    if isinstance(state, TaskState):
        return _task(state, where)
    if isinstance(state, PassState):
        return _pass(state, where)
    if isinstance(state, ParallelState):
        return _parallel(state, where)
    if isinstance(state, FailState):
        return _fail(state, where)
    if isinstance(state, SucceedState):
        return _succeed(state, where)
    if isinstance(state, ChoiceState):
        return _choice(state, where)
    if isinstance(state, MapState):
        return _map(state, where)
    raise SagaDefinitionError(f"{where}: a {state.type} state has no JSONata translation here")


def _states(states: Mapping[str, State]) -> dict[str, State]:
    return {name: _state(name, state) for name, state in states.items()}


def to_jsonata(machine: StateMachine) -> StateMachine:
    """``machine`` (as the saga compiler writes it) with ``QueryLanguage: JSONata``."""
    fields: dict[str, Any] = _common(machine, "comment", "version", "timeout_seconds")
    fields.update(start_at=machine.start_at, states=_states(machine.states))
    fields["query_language"] = JSONATA
    return StateMachine(**fields)
