"""What a booking left behind in the tables and queues, and whether that is what it should be.

After a failed booking every forward effect must be undone: the seat back on the flight, the
booking CANCELLED (or never written), the card not charged (declined, or refunded) and the
request parked in the dead-letter queue. After a confirmed one: one seat fewer, the booking
CONFIRMED, the charge captured, nothing dead-lettered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from examples.airline_booking.environment import AirlineEnvironment
from examples.airline_booking.scenarios import PreparedRun
from examples.airline_booking.style import Style
from examples.airline_booking.trace import error_message, short_cause

__all__ = ["Check", "Evidence", "collect_evidence", "render_evidence"]

_ERROR_KEYS = (
    "flightError",
    "bookingError",
    "paymentError",
    "notificationError",
    "notificationgError",  # the reference definition's spelling
)


@dataclass(frozen=True)
class Check:
    """One fact about the world after the run, and whether it is the expected one."""

    ok: bool
    text: str


@dataclass(frozen=True)
class Evidence:
    """The rows and messages one execution left, read back from the services."""

    flight_id: str
    seats_before: int
    seats_after: int | None
    bookings: list[dict[str, Any]]
    charge: dict[str, Any] | None
    notifications: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]

    def checks(self, *, succeeded: bool) -> list[Check]:
        """The facts, each judged against what a confirmed or an undone booking leaves."""
        return [
            self._seat_check(succeeded),
            self._booking_check(succeeded),
            self._charge_check(succeeded),
            self._notification_check(succeeded),
            self._dead_letter_check(succeeded),
        ]

    def _seat_check(self, succeeded: bool) -> Check:
        if succeeded:
            expected, story = self.seats_before - 1, "one seat sold"
        elif self.seats_before == 0:
            expected, story = 0, "sold out: nothing was reserved"
        else:
            expected, story = self.seats_before, "seat capacity restored"
        after = self.seats_after
        text = f"flight {self.flight_id}: seatCapacity {self.seats_before} → {after} ({story})"
        return Check(after == expected, text)

    def _booking_check(self, succeeded: bool) -> Check:
        if not self.bookings:
            return Check(not succeeded, "bookings table: no booking was written")
        texts = []
        ok = True
        for row in self.bookings:
            status = row.get("status")
            reference = f", reference {row['bookingReference']}" if succeeded else ""
            texts.append(f"booking {row['id']}: {status}{reference}")
            ok = ok and status == ("CONFIRMED" if succeeded else "CANCELLED")
        return Check(ok, "; ".join(texts))

    def _charge_check(self, succeeded: bool) -> Check:
        charge = self.charge
        if charge is None:
            return Check(not succeeded, "payment provider: no charge on record")
        status = charge["status"]
        money = _money(charge["amount"], charge.get("currency", ""))
        if status == "REFUNDED":
            text = f"charge {charge['id']}: {money} captured, then REFUNDED ({charge['refundId']})"
        elif status == "CAPTURED":
            text = f"charge {charge['id']}: {money} CAPTURED, receipt {charge['receiptUrl']}"
        elif status == "DECLINED":
            text = f"charge {charge['id']}: DECLINED by the card issuer, nothing to refund"
        else:
            text = f"charge {charge['id']}: {money} {status}, never captured"
        ok = status == "CAPTURED" if succeeded else status != "CAPTURED"
        return Check(ok, text)

    def _notification_check(self, succeeded: bool) -> Check:
        if not self.notifications:
            return Check(False, "customer: not notified")
        last = self.notifications[-1]
        text = f'customer notified: "{last["subject"]}" (Booking.Status {last["status"]})'
        expected = "confirmed" if succeeded else "cancelled"
        return Check(last["status"] == expected, text)

    def _dead_letter_check(self, succeeded: bool) -> Check:
        if not self.dead_letters:
            return Check(succeeded, "dead-letter queue: empty")
        body = self.dead_letters[-1]
        errors = [
            f"{key} {value.get('Error')} ({short_cause(error_message(value.get('Cause')))})"
            for key in _ERROR_KEYS
            if isinstance(value := body.get(key), dict)
        ]
        what = "; ".join(errors) if errors else json.dumps(body)[:120]
        count = len(self.dead_letters)
        text = f"dead-letter queue: {count} message for {body.get('name')} — {what}"
        return Check(not succeeded and count == 1, text)


def _money(amount: Any, currency: str) -> str:
    if isinstance(amount, int):
        return f"{amount / 100:.2f} {currency}".strip()
    return f"{amount} {currency}".strip()


def collect_evidence(env: AirlineEnvironment, run: PreparedRun) -> Evidence:
    """Read back what the execution of ``run`` left in the tables and queues."""
    notifications = [
        note
        for note in env.notifications()
        if isinstance(note.get("message"), dict)
        and note["message"].get("customerId") == run.customer_id
    ]
    dead_letters = [body for body in env.dead_letters() if body.get("name") == run.execution_name]
    return Evidence(
        flight_id=run.flight_id,
        seats_before=run.seats_before,
        seats_after=env.seat_capacity(run.flight_id),
        bookings=env.bookings_of(run.execution_name),
        charge=env.charge(run.charge_id),
        notifications=notifications,
        dead_letters=dead_letters,
    )


def render_evidence(evidence: Evidence, *, succeeded: bool, style: Style) -> list[str]:
    """One line per fact, ticked when it is what the outcome requires."""
    lines = []
    for check in evidence.checks(succeeded=succeeded):
        mark = style.green("✓") if check.ok else style.red("✗")
        lines.append(f"  {mark} {check.text}")
    return lines
