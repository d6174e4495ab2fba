"""Write Step Functions Local style mock-config files from test scenarios given as plain data.

A scenario lists, per test case and per state, the outcome of each invocation in order
(retries included). Consecutive identical outcomes collapse into a range (``"1-3"``), and
identical outcome lists are written once and shared between states and test cases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from asl_export.render import ExportError, render_json

__all__ = ["Outcome", "Return", "Throw", "mock_config", "mocked_response", "render_mock_config"]


@dataclass(frozen=True)
class Return:
    """The invocation succeeds with ``value`` as the task's result."""

    value: Any

    def to_dict(self) -> dict[str, Any]:
        """The ``{"Return": ...}`` entry."""
        return {"Return": self.value}


@dataclass(frozen=True)
class Throw:
    """The invocation fails with ``error`` (and ``cause``)."""

    error: str
    cause: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``{"Throw": {"Error": ..., "Cause": ...}}`` entry."""
        thrown: dict[str, Any] = {"Error": self.error}
        if self.cause is not None:
            thrown["Cause"] = self.cause
        return {"Throw": thrown}


Outcome = Return | Throw
Scenarios = Mapping[str, Mapping[str, Sequence[Outcome]]]
"""Test case → state name → outcome of each invocation (0, 1, 2, ...)."""


def _key(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def mocked_response(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """One ``MockedResponses`` entry: invocation index or range → Return/Throw."""
    entries: dict[str, Any] = {}
    start = 0
    for index in range(1, len(outcomes) + 1):
        if index == len(outcomes) or outcomes[index] != outcomes[start]:
            entries[_key(start, index - 1)] = outcomes[start].to_dict()
            start = index
    return entries


def _name(state: str, case: str, taken: set[str]) -> str:
    base = f"{state}:{case}"
    name, counter = base, 2
    while name in taken:
        name, counter = f"{base}:{counter}", counter + 1
    return name


def mock_config(
    scenarios: Scenarios, *, state_machine: str, existing: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The mock-config document for ``state_machine``, merged into ``existing`` when given."""
    document: dict[str, Any] = json.loads(json.dumps(existing)) if existing else {}
    machines: dict[str, Any] = document.setdefault("StateMachines", {})
    responses: dict[str, Any] = document.setdefault("MockedResponses", {})
    by_content = {json.dumps(body, sort_keys=True): name for name, body in responses.items()}
    test_cases: dict[str, Any] = {}
    for case, states in scenarios.items():
        mapping: dict[str, str] = {}
        for state, outcomes in states.items():
            if not outcomes:
                raise ExportError(
                    f"test case {case!r}, state {state!r}: give at least one outcome "
                    "(Return or Throw)"
                )
            body = mocked_response(outcomes)
            content = json.dumps(body, sort_keys=True)
            name = by_content.get(content)
            if name is None:
                name = _name(state, case, set(responses))
                responses[name] = body
                by_content[content] = name
            mapping[state] = name
        test_cases[case] = mapping
    machines.setdefault(state_machine, {}).setdefault("TestCases", {}).update(test_cases)
    return document


def render_mock_config(
    scenarios: Scenarios, *, state_machine: str, existing: Mapping[str, Any] | None = None
) -> str:
    """The mock-config file text (deterministic JSON)."""
    return render_json(mock_config(scenarios, state_machine=state_machine, existing=existing))
