"""The group-trip saga: a flight for a party, a seat and meal per passenger, hotel and car side
by side (each several steps), optional travel insurance, a fraud review answered by callback,
then the card.

Input: ``{"tripId": ..., "passengers": [{"name": ...}, ...], "insurance": bool, "amount": n,
"holdExpires": <ISO timestamp>}``. The fare hold's expiry is the saga's deadline: once it has
passed, the next step does not start and the trip is unwound (``holdExpires`` left out: no
deadline).
Flags make steps fail: a passenger's ``"noSeat": true`` (no seat for them), ``noCar``,
``declineCard``. The fraud review hands its task token to the reviewers' queue (here: the
function only acknowledges it); a test answers it with ``callbacks.answers("Fraud Review",
...)``, and without an answer the review times out after a day and the trip is unwound.
"""

from __future__ import annotations

from typing import Any

from saga import JsonPath, LambdaInvoke, Saga, equals


class SeatUnavailable(Exception):
    pass


class NoCarLeft(Exception):
    pass


class CardDeclined(Exception):
    pass


trip = Saga(
    "BookGroupTrip",
    success_state="Trip Booked",
    failure_state="Trip Failed",
    deadline_path="$.holdExpires",
)


@trip.step("Book Flight")
def book_flight(event: dict[str, Any]) -> str:
    return f"flight-{event['tripId']}"


@book_flight.compensate("Cancel Flight")
def cancel_flight(event: dict[str, Any]) -> None:
    return None


seats = trip.for_each(
    "Reserve Seats",
    items_path="$.passengers",
    max_concurrency=2,
    item_fields={"tripId": JsonPath("$.tripId")},
)


@seats.step("Reserve Seat")
def reserve_seat(event: dict[str, Any]) -> str:
    name = event["item"]["name"]
    if event["item"].get("noSeat"):
        raise SeatUnavailable(f"no seat left for {name}")
    return f"{event['tripId']}-seat-{event['index'] + 1}A"


@reserve_seat.compensate("Release Seat")
def release_seat(event: dict[str, Any]) -> None:
    return None


@seats.step("Choose Meal")
def choose_meal(event: dict[str, Any]) -> str:
    return str(event["item"].get("meal", "standard"))


@choose_meal.compensate("Cancel Meal")
def cancel_meal(event: dict[str, Any]) -> None:
    return None


stay_and_drive = trip.parallel("Hotel And Car")
hotel = stay_and_drive.branch("Hotel")
car = stay_and_drive.branch("Car")


@hotel.step("Book Hotel")
def book_hotel(event: dict[str, Any]) -> str:
    return f"hotel-{len(event['passengers'])}-guests"


@book_hotel.compensate("Cancel Hotel")
def cancel_hotel(event: dict[str, Any]) -> None:
    return None


@hotel.step("Add Breakfast")
def add_breakfast(event: dict[str, Any]) -> str:
    return "breakfast-included"


@add_breakfast.compensate("Remove Breakfast")
def remove_breakfast(event: dict[str, Any]) -> None:
    return None


@car.step("Rent Car")
def rent_car(event: dict[str, Any]) -> str:
    if event.get("noCar"):
        raise NoCarLeft("no car left at the airport")
    return "car-7"


@rent_car.compensate("Return Car")
def return_car(event: dict[str, Any]) -> None:
    return None


@car.step("Add Child Seat")
def add_child_seat(event: dict[str, Any]) -> str:
    return "child-seat"


@add_child_seat.compensate("Remove Child Seat")
def remove_child_seat(event: dict[str, Any]) -> None:
    return None


@trip.step("Buy Insurance", when=equals("$.insurance", True))
def buy_insurance(event: dict[str, Any]) -> str:
    return f"policy-{event['tripId']}"


@buy_insurance.compensate("Refund Insurance")
def refund_insurance(event: dict[str, Any]) -> None:
    return None


@trip.step(
    "Fraud Review",
    resource=LambdaInvoke("${FraudReview}", wait_for_task_token=True),
    heartbeat=3600,
    timeout=86400,
)
def fraud_review(event: dict[str, Any]) -> str:
    # In production: put event["taskToken"] on the reviewers' queue; the reviewer's answer
    # (SendTaskSuccess/SendTaskFailure) becomes this step's result or failure.
    return "queued for review"


@trip.step("Charge Card")
def charge_card(event: dict[str, Any]) -> str:
    if event.get("declineCard"):
        raise CardDeclined(f"card declined for {event['amount']}")
    return "charge-1"


@trip.on_failure("Notify Travellers")
def notify_travellers(event: dict[str, Any]) -> str:
    return f"told {len(event['passengers'])} travellers"
