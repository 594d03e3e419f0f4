"""Staff notes in the person's copy, and staff withholding one (GDPR Art. 15(4))."""

from __future__ import annotations

from sqlalchemy import select

from authz.kernel import owned_by, require_writer
from basics.errors import NotFound
from basics.ids import decode_id
from privacy import staff_notes
from resolvers.context import RequestContext
from store.engine import write_transaction
from store.models import Booking


async def notes_of(ctx: RequestContext, customer_id: str) -> list[staff_notes.StaffNoteFact]:
    """The notes on one of the caller's own customer records (``myData`` scopes them)."""
    found = await staff_notes.notes_by_customer(ctx.session, [customer_id])
    return found.get(customer_id, [])


async def withhold_staff_note(ctx: RequestContext, booking_gid: str, reason: str) -> Booking:
    """Withhold a booking's staff note from the person's copy, with the reason they are told.

    Only the business's own staff (the policy decides which roles); a booking
    of another business is simply not found.
    """
    tenant_id = require_writer(ctx.principal, ctx.decisions, "withholdStaffNote")
    key = decode_id("bookingId", booking_gid, "Booking")
    cleaned = staff_notes.clean_reason(reason)
    async with write_transaction(ctx.sessions) as tx:
        booking = (
            await tx.execute(
                select(Booking)
                .where(Booking.id == key, owned_by(Booking, tenant_id))
                .with_for_update()
            )
        ).scalar_one_or_none()
        if booking is None:
            raise NotFound("Booking not found", field="bookingId")
        await staff_notes.withhold(tx, booking, cleaned, actor=ctx.principal.actor)
    return booking
