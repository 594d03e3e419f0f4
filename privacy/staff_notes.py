"""Notes the business's staff wrote about a person, as the person's copy shows them.

A staff note on a booking (``internal_notes``) is personal data about the
person, so their copy (``myData``, the export) includes it, marked as a staff
note (GDPR Art. 15(1) and (3)). Where showing a note would adversely affect
someone else (Art. 15(4)), staff mark it withheld with a reason: the copy then
says that a note was withheld and why, without its text.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail as audit
from basics.errors import BadUserInput
from basics.ids import encode_id
from privacy.reader import Reader
from store.models import Booking

WITHHOLD_ACTION = "booking.staff_note_withheld"
MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class StaffNoteFact:
    booking_id: str  # global id
    note: str | None  # None when withheld
    withheld: bool
    withheld_reason: str | None

    def as_export(self) -> dict[str, Any]:
        return {
            "booking_id": self.booking_id,
            "staff_note": self.note,
            "withheld": self.withheld,
            "withheld_reason": self.withheld_reason,
        }


def _fact(booking_id: str, note: str, withheld: str | None) -> StaffNoteFact:
    return StaffNoteFact(
        booking_id=encode_id("Booking", booking_id),
        note=None if withheld else note,
        withheld=withheld is not None,
        withheld_reason=withheld,
    )


async def notes_by_customer(
    session: Reader, customer_ids: Collection[str]
) -> dict[str, list[StaffNoteFact]]:
    """The staff notes on each customer's bookings, oldest booking first, in one query."""
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(
            Booking.customer_id,
            Booking.id,
            Booking.internal_notes,
            Booking.internal_notes_withheld,
        )
        .where(Booking.customer_id.in_(set(customer_ids)), Booking.internal_notes.is_not(None))
        .order_by(Booking.customer_id, Booking.starts_at, Booking.id)
    )
    found: dict[str, list[StaffNoteFact]] = {}
    for row in rows:
        customer_id, booking_id, note, withheld = tuple(row)
        found.setdefault(customer_id, []).append(_fact(booking_id, note, withheld))
    return found


def clean_reason(reason: str | None) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise BadUserInput("reason", "is required: the person is told why the note is withheld")
    if len(cleaned) > MAX_REASON_LENGTH:
        raise BadUserInput("reason", f"must be at most {MAX_REASON_LENGTH} characters")
    return cleaned


async def withhold(tx: AsyncSession, booking: Booking, reason: str, *, actor: str) -> None:
    """Mark the booking's staff note withheld from the person's copy; audited without values."""
    if not booking.internal_notes:
        raise BadUserInput("bookingId", "has no staff note to withhold")
    booking.internal_notes_withheld = clean_reason(reason)
    await audit.record(
        tx,
        tenant_id=booking.tenant_id,
        actor=actor,
        action=WITHHOLD_ACTION,
        entity_type="Booking",
        entity_id=booking.id,
        fields=["internal_notes_withheld"],
    )
