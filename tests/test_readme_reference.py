"""README's "Saga reference" names every public option of the authoring API.

When an option is added to ``Saga``, a step kind, ``parallel``, ``Retry`` or an integration,
this fails until the reference documents it.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from saga import Retry, Saga, aws_sdk, dynamodb, events, sns, sqs, states
from saga.for_each import ForEachOptions
from saga.saga import GroupOptions
from saga.steps import CompensationOptions, FailureHandlerOptions, StepOptions

README = Path(__file__).resolve().parents[1] / "README.md"


def _section(heading_start: str) -> str:
    text = README.read_text(encoding="utf-8")
    reference = text[text.index("## Saga reference\n") :]
    reference = reference[: reference.index("\n## ", 1)]
    start = reference.index(f"### {heading_start}")
    end = reference.find("\n### ", start + 1)
    return reference[start : end if end != -1 else None]


def _parameters(function: Any, *skip: str) -> list[str]:
    return [
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if name not in ("self", *skip) and parameter.kind is not parameter.VAR_POSITIONAL
    ]


def _missing(section: str, names: list[str]) -> list[str]:
    return [name for name in names if f"`{name}`" not in section]


def test_every_saga_and_run_option_is_documented() -> None:
    section = _section("`Saga(name")
    names = _parameters(Saga.__init__) + _parameters(Saga.run, "input")
    assert _missing(section, names) == []


@pytest.mark.parametrize(
    "options", [StepOptions, CompensationOptions, FailureHandlerOptions], ids=lambda o: o.__name__
)
def test_every_step_option_is_documented(options: Any) -> None:
    assert _missing(_section("`@saga.step"), list(options.__annotations__)) == []


def test_every_parallel_option_is_documented() -> None:
    assert _missing(_section("`saga.parallel"), list(GroupOptions.__annotations__)) == []


def test_every_for_each_option_is_documented() -> None:
    assert _missing(_section("`saga.for_each"), list(ForEachOptions.__annotations__)) == []


def test_every_retry_option_is_documented() -> None:
    assert _missing(_section("`Retry("), _parameters(Retry.__init__)) == []


@pytest.mark.parametrize(
    ("prefix", "integration"),
    [("dynamodb", dynamodb), ("sqs", sqs), ("sns", sns), ("events", events), ("states", states)],
)
def test_every_integration_argument_is_documented(prefix: str, integration: Any) -> None:
    section = _section("Integrations")
    rows = {
        match[1]: match[2]
        for match in re.finditer(r"^\| `([a-z]+\.[a-z_]+)` \| (.*) \|$", section, re.M)
    }
    methods = [name for name in dir(integration) if not name.startswith("_")]
    assert methods
    for method in methods:
        row = rows.get(f"{prefix}.{method}")
        assert row is not None, f"{prefix}.{method} has no row"
        assert _missing(row, _parameters(getattr(integration, method))) == []


def test_the_aws_sdk_factory_is_documented() -> None:
    section = _section("Integrations")
    row = re.search(r"^\| `aws_sdk` \| (.*) \|$", section, re.M)
    assert row is not None
    assert _missing(row[1], _parameters(aws_sdk)) == []
