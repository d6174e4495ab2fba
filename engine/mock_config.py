"""Step Functions Local mock-config files, read and applied as a task ``Interceptor``.

Format (as Step Functions Local reads it)::

    {"StateMachines": {MACHINE: {"TestCases": {CASE: {STATE: RESPONSE_NAME}}}},
     "MockedResponses": {RESPONSE_NAME: {"0": {"Return": ...},
                                         "1-2": {"Throw": {"Error": ..., "Cause": ...}}}}}

The n-th invocation (0-based, retries included) of a listed state takes the response whose key
covers n. Step Functions Local requires a response for every invocation of a mocked state and
fails the execution otherwise; so does this interceptor (``States.Runtime``, not retriable or
catchable), rather than repeating the last response. States not listed call through.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.bindings import CallNext, TaskRequest
from engine.errors import RUNTIME, StatesError

__all__ = [
    "MockConfig",
    "MockConfigError",
    "MockConfigInterceptor",
    "MockedResponse",
    "MockThrow",
    "load_mock_config",
]

_RANGE = re.compile(r"^(?P<first>0|[1-9][0-9]*)(?:-(?P<last>0|[1-9][0-9]*))?$")


class MockConfigError(ValueError):
    """A mock-config file that cannot be used; names the file and the offending key."""

    def __init__(self, source: str, location: str, message: str) -> None:
        self.source = source
        self.location = location
        self.message = message
        where = f"{source}: {location}" if location else source
        super().__init__(f"{where}: {message}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MockThrow(_Model):
    """A mocked failure: the error name and cause the task fails with."""

    error: str = Field(alias="Error", min_length=1)
    cause: str | None = Field(default=None, alias="Cause")


class MockedResponse(_Model):
    """One entry of a mocked response: exactly one of ``Return`` and ``Throw``."""

    return_: Any = Field(default=None, alias="Return")
    throw: MockThrow | None = Field(default=None, alias="Throw")

    @model_validator(mode="after")
    def _one_outcome(self) -> MockedResponse:
        has_return = "return_" in self.model_fields_set
        if has_return == (self.throw is not None):
            raise ValueError("needs exactly one of 'Return' and 'Throw'")
        return self


@dataclass(frozen=True)
class _Range:
    first: int
    last: int
    response: MockedResponse


def _parse_range(key: str) -> tuple[int, int]:
    match = _RANGE.match(key)
    if match is None:
        raise ValueError("the invocation key is not a number or an inclusive range like '0-2'")
    first = int(match["first"])
    last = int(match["last"]) if match["last"] is not None else first
    if last < first:
        raise ValueError("the invocation range ends before it starts")
    return first, last


class _Machine(_Model):
    test_cases: dict[str, dict[str, str]] = Field(alias="TestCases")


class _File(_Model):
    state_machines: dict[str, _Machine] = Field(default_factory=dict, alias="StateMachines")
    mocked_responses: dict[str, dict[str, MockedResponse]] = Field(
        default_factory=dict, alias="MockedResponses"
    )


@dataclass(frozen=True)
class MockConfig:
    """A validated mock-config file."""

    source: str
    state_machines: Mapping[str, Mapping[str, Mapping[str, str]]]
    mocked_responses: Mapping[str, tuple[_Range, ...]]

    def test_case(self, state_machine: str, test_case: str) -> dict[str, str]:
        """The state → mocked-response mapping of one test case (``MockConfigError`` if absent)."""
        machine = self.state_machines.get(state_machine)
        if machine is None:
            known = ", ".join(sorted(self.state_machines)) or "none"
            raise MockConfigError(
                self.source,
                f"StateMachines.{state_machine}",
                f"no such state machine (defined: {known})",
            )
        case = machine.get(test_case)
        if case is None:
            known = ", ".join(sorted(machine)) or "none"
            raise MockConfigError(
                self.source,
                f"StateMachines.{state_machine}.TestCases.{test_case}",
                f"no such test case (defined: {known})",
            )
        return dict(case)

    def response_for(self, name: str, invocation: int) -> MockedResponse | None:
        """The response ``name`` gives for the ``invocation``-th call, None past its keys."""
        for entry in self.mocked_responses[name]:
            if entry.first <= invocation <= entry.last:
                return entry.response
        return None


def _ranges(entries: dict[str, MockedResponse], source: str, where: str) -> tuple[_Range, ...]:
    if not entries:
        raise MockConfigError(source, where, "defines no invocation")
    ranges: list[_Range] = []
    for key, response in entries.items():
        try:
            first, last = _parse_range(key)
        except ValueError as exc:
            raise MockConfigError(source, f"{where}.{key}", str(exc)) from None
        ranges.append(_Range(first, last, response))
    ranges.sort(key=lambda entry: entry.first)
    for before, after in itertools.pairwise(ranges):
        if after.first <= before.last:
            raise MockConfigError(
                source, where, f"invocation ranges overlap at invocation {after.first}"
            )
    return tuple(ranges)


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _validate(document: Any, source: str) -> MockConfig:
    if not isinstance(document, dict):
        raise MockConfigError(source, "", "a mock config must be a JSON object")
    try:
        parsed = _File.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        raise MockConfigError(source, _location(first["loc"]), message) from None
    responses: dict[str, tuple[_Range, ...]] = {}
    for name, entries in parsed.mocked_responses.items():
        responses[name] = _ranges(entries, source, f"MockedResponses.{name}")
    machines: dict[str, dict[str, dict[str, str]]] = {}
    for machine_name, machine in parsed.state_machines.items():
        for case_name, case in machine.test_cases.items():
            for state_name, response_name in case.items():
                if response_name not in responses:
                    raise MockConfigError(
                        source,
                        f"StateMachines.{machine_name}.TestCases.{case_name}.{state_name}",
                        f"mocked response {response_name!r} is not defined in MockedResponses",
                    )
        machines[machine_name] = {name: dict(case) for name, case in machine.test_cases.items()}
    return MockConfig(source, machines, responses)


def load_mock_config(source: str | Path | Mapping[str, Any]) -> MockConfig:
    """Read and validate a mock config from a file path or an already parsed document."""
    if isinstance(source, Mapping):
        return _validate(dict(source), "<mock config>")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MockConfigError(str(path), "", f"cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise MockConfigError(str(path), "", f"not UTF-8 text ({exc.reason})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MockConfigError(
            str(path), "", f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise MockConfigError(str(path), "", "nested too deeply to read") from None
    return _validate(document, str(path))


class MockConfigInterceptor:
    """Answers the states of one test case from their mocked responses; others call through."""

    def __init__(self, config: MockConfig, state_machine: str, test_case: str) -> None:
        self.config = config
        self.state_machine = state_machine
        self.test_case = test_case
        self.states = config.test_case(state_machine, test_case)

    @classmethod
    def from_file(
        cls, path: str | Path, state_machine: str, test_case: str
    ) -> MockConfigInterceptor:
        """Load ``path`` and select ``test_case`` of ``state_machine``."""
        return cls(load_mock_config(path), state_machine, test_case)

    def mocks_state(self, state_name: str) -> bool:
        """Whether ``state_name`` is answered by this test case."""
        return state_name in self.states

    async def __call__(self, request: TaskRequest, call_next: CallNext) -> Any:
        """The mocked ``Return``, a ``StatesError`` for ``Throw``, or the real call."""
        name = self.states.get(request.state_name)
        if name is None:
            return await call_next(request)
        response = self.config.response_for(name, request.invocation)
        if response is None:
            raise StatesError(
                RUNTIME,
                f"The mock config {self.config.source} has no response for invocation "
                f"{request.invocation} of state '{request.state_name}' (mocked response "
                f"'{name}' in test case '{self.test_case}').",
            )
        if response.throw is not None:
            raise StatesError(response.throw.error, response.throw.cause)
        return response.return_
