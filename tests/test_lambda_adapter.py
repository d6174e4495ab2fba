"""The Lambda adapter, called the way AWS Lambda's Python runtime calls a handler."""

from __future__ import annotations

import json
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from asl_export.lambda_adapter import StepImportError, handler, make_handler, step_error
from engine.errors import StatesError, error_name_of


@dataclass
class FakeContext:
    """The attributes of the runtime's context object a step might read."""

    function_name: str = "ReserveBooking"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


class BookingReservationError(Exception):
    pass


class DeclinedError(Exception):
    error_name = "Payment.Declined"


def echo(event: Any) -> Any:
    return {"got": event}


async def async_echo(event: Any) -> Any:
    await anyio.sleep(0)
    return {"async": event}


def with_context(event: Any, context: Any) -> Any:
    return {"function": context.function_name, "event": event}


def reserve(event: Any) -> Any:
    raise BookingReservationError(f"no seat for {event['flight']}")


def decline(event: Any) -> Any:
    try:
        raise KeyError("card")
    except KeyError as exc:
        raise DeclinedError("card declined") from exc


async def async_fail(event: Any) -> Any:
    raise StatesError("Custom.Failure", "it broke")


def invoke(step_handler: Any, event: Any) -> tuple[str, Any]:
    """Run a handler as the Lambda runtime does: ("ok", result) or ("error", error document)."""
    try:
        result = step_handler(event, FakeContext())
    except Exception:
        etype, value, tb = sys.exc_info()
        assert etype is not None
        document = {
            "errorMessage": str(value),
            "errorType": etype.__name__,
            "stackTrace": traceback.format_list(traceback.extract_tb(tb)),
        }
        return "error", json.loads(json.dumps(document))
    return "ok", json.loads(json.dumps(result))


@pytest.fixture
def step_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    def use(target: str) -> None:
        monkeypatch.setenv("SAGA_STEP", target)

    return use


def test_event_in_result_out(step_env: Any) -> None:
    step_env("tests.test_lambda_adapter:echo")
    assert invoke(handler, {"a": [1, 2]}) == ("ok", {"got": {"a": [1, 2]}})


def test_async_steps_run_under_anyio(step_env: Any) -> None:
    step_env("tests.test_lambda_adapter:async_echo")
    assert invoke(handler, "x") == ("ok", {"async": "x"})


def test_two_parameter_steps_get_the_context() -> None:
    assert invoke(make_handler(with_context), 7) == (
        "ok",
        {"function": "ReserveBooking", "event": 7},
    )


def test_class_name_is_the_error_type(step_env: Any) -> None:
    step_env("tests.test_lambda_adapter:reserve")
    outcome, error = invoke(handler, {"flight": "LH1"})
    assert outcome == "error"
    assert error["errorType"] == "BookingReservationError"
    assert error["errorMessage"] == "no seat for LH1"
    assert any("in reserve" in line for line in error["stackTrace"])


def test_error_name_attribute_becomes_the_error_type_keeping_message_and_chain() -> None:
    step_handler = make_handler("tests.test_lambda_adapter:decline")
    outcome, error = invoke(step_handler, {})
    assert outcome == "error"
    assert error["errorType"] == "Payment.Declined"
    assert error["errorMessage"] == "card declined"
    assert any("in decline" in line for line in error["stackTrace"])
    with pytest.raises(Exception) as caught:
        step_handler({}, FakeContext())
    assert type(caught.value).__name__ == "Payment.Declined"
    assert isinstance(caught.value.__cause__, DeclinedError)
    assert isinstance(caught.value.__cause__.__cause__, KeyError)
    assert error_name_of(caught.value) == "Payment.Declined"


def test_states_error_reports_its_error_name() -> None:
    outcome, error = invoke(make_handler(async_fail), {})
    assert (outcome, error["errorType"], error["errorMessage"]) == (
        "error",
        "Custom.Failure",
        "Custom.Failure: it broke",
    )


def test_step_error_reuses_one_class_per_name() -> None:
    first = step_error(DeclinedError("a"))
    second = step_error(DeclinedError("b"))
    assert type(first) is type(second)
    plain = BookingReservationError("x")
    assert step_error(plain) is plain


def test_missing_or_bad_step_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAGA_STEP", raising=False)
    with pytest.raises(StepImportError, match="SAGA_STEP is not set"):
        handler({}, FakeContext())
    with pytest.raises(StepImportError, match=r"cannot import the step 'tests\.nope:f'"):
        make_handler("tests.nope:f")({}, FakeContext())
    with pytest.raises(StepImportError, match="not an import path"):
        make_handler("no_colon")({}, FakeContext())
    with pytest.raises(StepImportError, match="is not callable"):
        make_handler("tests.test_lambda_adapter:__doc__")({}, FakeContext())


def test_saga_steps_run_unchanged_through_the_adapter() -> None:
    from asl_export.functions import function_specs_for
    from tests.test_export_golden import SHOP, shop

    specs = {spec.placeholder: spec.handler for spec in function_specs_for(shop(), SHOP.handlers())}
    assert specs["ChargeCard.Arn"] == "tests.test_export_golden:charge_card"
    assert invoke(make_handler(specs["ChargeCard.Arn"]), {}) == ("ok", {"charged": True})
    assert invoke(make_handler(specs["ReserveSeat"]), {"orderId": "o1"}) == ("ok", "seat-o1")
