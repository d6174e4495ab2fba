"""Definition-time validation: every misuse raises SagaDefinitionError with this exact message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from saga.errors import SagaDefinitionError
from saga.integrations import dynamodb
from saga.policies import Retry
from saga.saga import ORIGINAL_ERROR, Saga
from saga.steps import LambdaInvoke


def act(event: Any) -> Any:
    return event


def other(event: Any) -> Any:
    return event


def no_arguments() -> None:
    return None


def _table() -> Any:
    return dynamodb.get_item(table_name="T", key={})


CASES: dict[str, tuple[Callable[[Saga], object], str, str | None]] = {
    "duplicate name": (
        lambda s: (s.step("A", act), s.step("A", act)),
        "step 'A': the name is already used by the step 'A'; give every step, compensation, "
        "handler and group its own name",
        "A",
    ),
    "compensation reuses a step name": (
        lambda s: s.step("A", act).compensate("A", act),
        "compensation 'A': the name is already used by the step 'A'; give every step, "
        "compensation, handler and group its own name",
        "A",
    ),
    "step named like the Fail state": (
        lambda s: s.step("Saga Failed", act),
        "step 'Saga Failed': the name is already used by the failure state; give every step, "
        "compensation, handler and group its own name",
        "Saga Failed",
    ),
    "name over 80 characters": (
        lambda s: s.step("N" * 81, act),
        f"step '{'N' * 81}': the name is 81 characters long; Step Functions allows at most 80, "
        "so shorten it",
        "N" * 81,
    ),
    "negative retries": (
        lambda s: s.step("A", act, retry=[Retry("E", max_retries=-1)]),
        "step 'A': retrier 1: max_retries is -1; use 0 (never retry) or more",
        "A",
    ),
    "backoff rate below 1": (
        lambda s: s.step("A", act, retry=[Retry("E", backoff_rate=0.5)]),
        "step 'A': retrier 1: backoff_rate is 0.5; use 1.0 (a constant interval) or more",
        "A",
    ),
    "bad jitter": (
        lambda s: s.step("A", act, retry=[Retry("E", jitter="full")]),  # type: ignore[arg-type]
        "step 'A': retrier 1: jitter is 'full'; use 'FULL', 'NONE', True or False",
        "A",
    ),
    "fractional interval": (
        lambda s: s.step("A", act, retry=[Retry("E", interval=1.5)]),  # type: ignore[arg-type]
        "step 'A': retrier 1: interval is 1.5; use a whole number: 0 or more seconds",
        "A",
    ),
    "zero max delay": (
        lambda s: s.step("A", act, retry=[Retry("E", max_delay=0)]),
        "step 'A': retrier 1: max_delay is 0; use 1 or more seconds",
        "A",
    ),
    "compensation for an unknown step": (
        lambda s: (s.step("Reserve", act), s.compensation("Reserv", "Undo", act)),
        "compensation 'Undo': there is no step 'Reserv' to compensate; declare the step before "
        "its compensation, or fix the name (known steps: 'Reserve')",
        "Undo",
    ),
    "compensation of a compensation": (
        lambda s: (
            s.step("Reserve", act).compensate("Undo", act),
            s.compensation("Undo", "Undo again", act),
        ),
        "compensation 'Undo again': compensation 'Undo' is not a step, and only steps are "
        "compensated; name a declared step (known steps: 'Reserve')",
        "Undo again",
    ),
    "second compensation": (
        lambda s: (
            s.step("Reserve", act).compensate("Undo", act),
            s.compensation("Reserve", "Undo 2", act),
        ),
        "compensation 'Undo 2': step 'Reserve' already has compensation 'Undo'; a step has at "
        "most one compensation",
        "Undo 2",
    ),
    "catch-all retrier not last": (
        lambda s: s.step("A", act, retry=[Retry("States.ALL"), Retry("E")]),
        "step 'A': retrier 1 lists States.ALL but is not the last retrier; move it to the end",
        "A",
    ),
    "catch-all retrier with other errors": (
        lambda s: s.step("A", act, retry=[Retry("States.ALL", "E")]),
        "step 'A': retrier 1: errors lists States.ALL with other errors; States.ALL must stand "
        "alone",
        "A",
    ),
    "catch-all fail-fast before the compensate catcher": (
        lambda s: s.step("A", act, fail_fast_on=["States.ALL"]),
        "step 'A': fail_fast_on lists States.ALL, a catch-all that would come before the "
        "compensate_on catcher (States.ALL); a catch-all must be the last catcher: drop it from "
        "fail_fast_on (errors not in compensate_on already fail the execution without "
        "compensation), or set compensate_on=[]",
        "A",
    ),
    "catch-all compensate_on with other errors": (
        lambda s: s.step("A", act, compensate_on=["States.ALL", "E"]),
        "step 'A': compensate_on lists States.ALL with other errors; States.ALL must stand alone",
        "A",
    ),
    "error both fail-fast and compensating": (
        lambda s: s.step("A", act, compensate_on=["E"], fail_fast_on=["E"]),
        "step 'A': E is in both fail_fast_on and compensate_on; list it in one of them",
        "A",
    ),
    "shadowed retrier": (
        lambda s: s.step("A", act, retry=[Retry("E"), Retry("E", "F")]),
        "step 'A': retrier 2 lists 'E', which retrier 1 already matches (only the first "
        "matching retrier applies); list each error once",
        "A",
    ),
    "Exception is not a catch-all": (
        lambda s: s.step("A", act, retry=[Retry(Exception)]),
        "step 'A': retrier 1: errors names Exception, which in ASL matches only errors named "
        "'Exception', not its subclasses; name the exception classes, or use 'States.ALL' (any "
        "error) or 'States.TaskFailed' (any error but a timeout)",
        "A",
    ),
    "python action exported as a service integration": (
        lambda s: s.step("A", act, resource="arn:aws:states:::dynamodb:updateItem"),
        "step 'A': its Python action cannot be exported as resource "
        "'arn:aws:states:::dynamodb:updateItem': a Python action runs as a Lambda function, so "
        "use resource='${Placeholder}', a Lambda function ARN "
        "('arn:aws:lambda:REGION:ACCOUNT:function:NAME'), or LambdaInvoke('function-name')",
        "A",
    ),
    "lambda:invoke without a function name": (
        lambda s: s.step("A", act, resource="arn:aws:states:::lambda:invoke"),
        "step 'A': resource 'arn:aws:states:::lambda:invoke' needs a function name; use "
        "resource=LambdaInvoke('function-name')",
        "A",
    ),
    "resource that is not an ARN": (
        lambda s: s.step("A", act, resource="reserve"),
        "step 'A': its Python action cannot be exported as resource 'reserve': a Python action "
        "runs as a Lambda function, so use resource='${Placeholder}', a Lambda function ARN "
        "('arn:aws:lambda:REGION:ACCOUNT:function:NAME'), or LambdaInvoke('function-name')",
        "A",
    ),
    "no placeholder derivable": (
        lambda s: s.step("!!!", act),
        "step '!!!': its Python action cannot be exported: no placeholder can be derived from "
        "the name; give resource='${FunctionName}', a Lambda ARN or LambdaInvoke('name')",
        "!!!",
    ),
    "action that is not callable": (
        lambda s: s.step("A", 42),  # type: ignore[call-overload]
        "step 'A': its action 42 is neither a function nor a service integration; pass a "
        "function taking the event (and optionally a Lambda context), or an integration such as "
        "dynamodb.update_item(...)",
        "A",
    ),
    "action that takes no event": (
        lambda s: s.step("A", no_arguments),
        "step 'A': its action 'no_arguments' cannot be called with the event; it must accept "
        "(event) or (event, context)",
        "A",
    ),
    "integration with a resource": (
        lambda s: s.step("A", _table(), resource="${X}"),
        "step 'A': its action is the dynamodb:getItem integration, exported as "
        "arn:aws:states:::dynamodb:getItem; drop resource=",
        "A",
    ),
    "unprefixed integration error": (
        lambda s: s.step("A", _table(), retry=[Retry("ConditionalCheckFailedException")]),
        "step 'A': retrier 1: 'ConditionalCheckFailedException' never matches: Step Functions "
        "names this integration's errors 'DynamoDB.<Code>'; write "
        "'DynamoDB.ConditionalCheckFailedException'",
        "A",
    ),
    "misspelt option": (
        lambda s: s.step("A", act, timout=3),  # type: ignore[call-overload]
        "step 'A': unknown option 'timout'; did you mean 'timeout'?",
        "A",
    ),
    "option of another kind of step": (
        lambda s: s.step("A", act).compensate("U", act, compensate_self=True),  # type: ignore[call-overload]
        "compensation 'U': unknown option 'compensate_self'; it applies to a step only",
        "U",
    ),
    "heartbeat not below timeout": (
        lambda s: s.step("A", act, timeout=5, heartbeat=5),
        "step 'A': heartbeat (5) must be shorter than timeout (5); lower heartbeat or raise "
        "timeout",
        "A",
    ),
    "zero timeout": (
        lambda s: s.step("A", act, timeout=0),
        "step 'A': timeout is 0; use a whole number of seconds, at least 1",
        "A",
    ),
    "result path that is not a path": (
        lambda s: s.step("A", act, result_path="bookingId"),
        "step 'A': result_path is 'bookingId'; use a reference path into the state data such as "
        "'$.name' (or None)",
        "A",
    ),
    "selector with a discarded result": (
        lambda s: s.step("A", act, result_path=None, result_selector={"a.$": "$.x"}),
        "step 'A': result_selector has no effect with result_path=None; drop one of them",
        "A",
    ),
    "bad path in parameters": (
        lambda s: s.step("A", act, parameters={"a.$": "x"}),
        "step 'A': parameters.a.$ is 'x', which is not a valid JSONPath (e.g. '$.name')",
        "A",
    ),
    "compensate_self without a compensation": (
        lambda s: (s.step("A", act, compensate_self=True), s.to_state_machine()),
        "step 'A': compensate_self=True but it has no compensation; add one with "
        "@act.compensate(...) or drop compensate_self",
        "A",
    ),
    "one resource, two functions": (
        lambda s: (
            s.step("A", act, resource="${X}"),
            s.step("B", other, resource="${X}"),
            s.to_state_machine(),
        ),
        "step 'B': it is exported as 'X' like step 'A', but runs a different function; give one "
        "of them its own resource=",
        "B",
    ),
    "Fail state cannot find the failure": (
        lambda s: (
            s.step("A", act, error_path="$.a"),
            s.step("B", act, error_path="$.b"),
            s.to_state_machine(),
        ),
        "saga 'S': the Fail state 'Saga Failed' cannot read the original failure: the steps "
        "record their errors at different paths (step 'A' at $.a, step 'B' at $.b): use one "
        "error_path, or give the saga a static failure_cause=",
        None,
    ),
    "handler overwrites the failure": (
        lambda s: (
            s.step("A", act),
            s.on_failure("N", act, result_path="$.error"),
            s.to_state_machine(),
        ),
        "saga 'S': the Fail state 'Saga Failed' cannot read the original failure: failure "
        "handler 'N' writes its result_path at $.error, over the original error at $.error: "
        "give it another result_path, or give the saga a static failure_cause=",
        None,
    ),
    "fail fast on a States.* error": (
        lambda s: s.step("A", act, compensate_on=[ValueError], fail_fast_on=["States.Timeout"]),
        "step 'A': fail_fast_on lists States.Timeout, but the fail-fast Fail state cannot "
        "re-raise a reserved States.* name; list custom errors only (to fail on States.Timeout "
        "without compensation, leave it out of compensate_on instead)",
        "A",
    ),
    "original error with a catch-all": (
        lambda s: (s.step("A", act), s.to_state_machine()),
        "saga 'S': failure_error=ORIGINAL_ERROR re-raises the failed step's error name, but step "
        "'A' compensates on States.ALL, and a Fail state cannot raise a reserved States.* name; "
        "list custom errors in its compensate_on, or give failure_error a name",
        "A",
    ),
    "decorator without a name": (
        lambda s: s.step(act),  # type: ignore[call-overload]
        "step 'act': the first argument is the state name; write @saga.step(\"State Name\", "
        "...) with parentheses",
        None,
    ),
    "empty name": (
        lambda s: s.step("  ", act),
        "step name '  ': give every step a non-empty string name",
        None,
    ),
    "retry that is not a list": (
        lambda s: s.step("A", act, retry=Retry("E")),  # type: ignore[call-overload]
        "step 'A': retry is a single Retry; put it in a list: retry=[Retry(...)]",
        "A",
    ),
    "no steps": (
        lambda s: s.to_state_machine(),
        "saga 'S' has no steps; add one with @saga.step(...)",
        None,
    ),
    "empty parallel group": (
        lambda s: (s.parallel("G"), s.to_state_machine()),
        "parallel group 'G' has no steps; add them with group.step(...)",
        "G",
    ),
    "timeout on a parallel group": (
        lambda s: s.parallel("G", timeout=3),  # type: ignore[call-arg]
        "parallel group 'G': unknown option 'timeout'; set it on the group's steps",
        "G",
    ),
    "unwrap state name too long": (
        lambda s: (s.step("L" * 70, act, resource=LambdaInvoke("f")), s.to_state_machine()),
        f"step '{'L' * 70}': its LambdaInvoke result is unwrapped by a Pass state named "
        f"'{'L' * 70} (unwrap Payload)', which is 87 characters long; shorten the step name to "
        "at most 63 characters",
        "L" * 70,
    ),
    "default result paths collide": (
        lambda s: (s.step("a b", act), s.step("A B", act), s.to_state_machine()),
        "step 'A B': its default result path $.aB is also the default of step 'a b'; give one "
        "of them result_path=",
        "A B",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_misuse_message(case: str) -> None:
    declare, message, step = CASES[case]
    with pytest.raises(SagaDefinitionError) as raised:
        declare(Saga("S", failure_error=ORIGINAL_ERROR) if "original" in case else Saga("S"))
    assert str(raised.value) == message
    assert raised.value.step == step


def test_saga_level_misuse() -> None:
    with pytest.raises(SagaDefinitionError) as raised:
        Saga(
            "S",
            error_path="error",
            timeout=0,
            success_state="Saga Failed",
            failure_error="States.Failed",
        )
    assert str(raised.value) == (
        "saga 'S': error_path is 'error'; use a reference path into the state data such as "
        "'$.name' (or None); timeout is 0; use a whole number of seconds, at least 1; "
        "failure_error is 'States.Failed'; names starting with 'States.' are reserved, use your "
        "own; failure_state 'Saga Failed' is already the name of the success state"
    )
