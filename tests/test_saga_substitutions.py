"""Running a saga with ``${Name}`` placeholders filled in, as a deployment would fill them."""

from __future__ import annotations

from typing import Any

import anyio

from saga import Saga

ARN = "arn:aws:lambda:us-east-1:123456789012:function:greeter"


def _saga() -> Saga:
    hello = Saga("Hello")

    @hello.step("Greet", resource="${Greeter.Arn}", result_path="$.greeting")
    def greet(event: dict[str, Any]) -> str:
        return f"hello {event['who']}"

    return hello


def _scheduled_resources(execution: Any) -> list[str]:
    return [
        event.details["resource"]
        for event in execution.history
        if event.type == "LambdaFunctionScheduled"
    ]


def test_run_fills_placeholders_and_binds_the_function_by_name() -> None:
    execution = _saga().run(
        {"who": "ada"},
        substitutions={"Greeter.Arn": ARN},
        handlers={"greeter": lambda event: f"hi {event['who']}"},
    )
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"who": "ada", "greeting": "hi ada"}
    assert _scheduled_resources(execution) == [ARN]


def test_run_without_substitutions_keeps_the_placeholder() -> None:
    execution = _saga().run({"who": "ada"})
    assert execution.output == {"who": "ada", "greeting": "hello ada"}
    assert _scheduled_resources(execution) == ["${Greeter.Arn}"]


def test_run_async_fills_placeholders_too() -> None:
    async def main() -> Any:
        return await _saga().run_async(
            {"who": "bob"},
            substitutions={"Greeter.Arn": ARN},
            handlers={"greeter": lambda event: f"hey {event['who']}"},
        )

    execution = anyio.run(main)
    assert execution.output == {"who": "bob", "greeting": "hey bob"}
    assert _scheduled_resources(execution) == [ARN]
