"""The trip-booking saga: the flight, then hotel and car side by side, then the card.

Every step is compensated (the card with ``compensate_self``, since a charge may land before
the decline is seen); the input's flags make steps and compensations fail:
``flightBusy`` (how many tries of Book Flight are busy), ``declineCard``, ``hotelDown``
(Cancel Hotel fails), ``noCar`` (Rent Car fails).
"""

from __future__ import annotations

from typing import Any

from saga import JsonPath, Retry, Saga


class FlightBusy(Exception):
    pass


class NoCarLeft(Exception):
    pass


class CardDeclined(Exception):
    pass


class HotelSystemDown(Exception):
    pass


trip = Saga("BookTrip")


@trip.step(
    "Book Flight",
    retry=[Retry(FlightBusy, interval=1, backoff_rate=2.0, max_retries=3, jitter=True)],
    parameters={
        "trip": JsonPath("$"),
        "try": JsonPath("$$.State.RetryCount"),
        "reference": JsonPath("States.UUID()"),
    },
)
def book_flight(event: dict[str, Any]) -> str:
    if event["try"] < event["trip"].get("flightBusy", 0):
        raise FlightBusy(f"the airline is busy (try {event['try'] + 1})")
    return f"flight-{event['reference']}"


@book_flight.compensate("Cancel Flight")
def cancel_flight(event: dict[str, Any]) -> None:
    return None


side_by_side = trip.parallel("Hotel And Car")


@side_by_side.step("Book Hotel")
def book_hotel(event: dict[str, Any]) -> str:
    return "hotel-1"


@book_hotel.compensate("Cancel Hotel")
def cancel_hotel(event: dict[str, Any]) -> None:
    if event.get("hotelDown"):
        raise HotelSystemDown("the hotel system is down: booking hotel-1 is still held")


@side_by_side.step("Rent Car")
def rent_car(event: dict[str, Any]) -> str:
    if event.get("noCar"):
        raise NoCarLeft("no car left at the airport")
    return "car-1"


@rent_car.compensate("Return Car")
def return_car(event: dict[str, Any]) -> None:
    return None


@trip.step("Charge Card", compensate_self=True)
def charge_card(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("declineCard"):
        raise CardDeclined(f"card declined for {event.get('amount', 0)}")
    return {"charged": event.get("amount", 0)}


@charge_card.compensate("Refund Card")
def refund_card(event: dict[str, Any]) -> None:
    return None


@trip.on_failure("Notify Customer")
def notify_customer(event: dict[str, Any]) -> str:
    return "notified"
