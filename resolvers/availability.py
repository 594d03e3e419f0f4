"""Free slots of one service, with the capacity left, for a booking page.

The grid and the counting are the booking rules of ``bookings.slots`` and
``bookings.capacity``; this resolver only finds the tenant's service in the
caller's reach and bounds the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select

from authz.kernel import owned_by
from authz.scope import service_scope
from basics.errors import BadUserInput, NotFound
from basics.ids import decode_id
from bookings import capacity
from bookings.slots import BOOKABLE_AHEAD, SlotView, remaining, slot_grid
from resolvers import validation
from resolvers.context import RequestContext
from store.models import Service, Tenant
from store.types import utcnow

# A longer window would let one anonymous request make the server build and
# count thousands of slots.
MAX_WINDOW = timedelta(days=31)
MAX_WINDOW_TEXT = "31 days"


async def available_slots(
    ctx: RequestContext,
    tenant_slug: str,
    service_id: str,
    window_from: datetime,
    window_to: datetime,
) -> list[SlotView]:
    """Future slots of one service starting in ``[from, to)``, with the capacity left.

    Full slots are listed with ``remaining`` 0, so a booking page can show the
    whole day. Two queries whatever the window: the tenant with the service,
    then every booking and live hold in the window.
    """
    window_from = validation.aware("from", window_from)
    window_to = validation.aware("to", window_to)
    if window_to <= window_from:
        raise BadUserInput("to", "must be after from")
    if window_to - window_from > MAX_WINDOW:
        raise BadUserInput("to", f"must be at most {MAX_WINDOW_TEXT} after from")
    key = decode_id("serviceId", service_id, "Service")
    found = (
        await ctx.session.execute(
            select(Tenant, Service)
            .outerjoin(
                Service,
                (owned_by(Service, Tenant.id)) & (Service.id == key) & service_scope(ctx.principal),
            )
            .where(Tenant.slug == tenant_slug)
        )
    ).first()
    if found is None:
        raise NotFound("Tenant not found", field="tenantSlug")
    tenant, service = cast(tuple[Tenant, Service | None], tuple(found))
    if service is None:
        raise NotFound("Service not found", field="serviceId")
    now = utcnow()
    start = max(window_from, now)
    end = min(window_to, now + BOOKABLE_AHEAD)
    if start >= end or not service.active:
        return []
    slots = [
        slot
        for slot in slot_grid(
            tenant.opening_hours, tenant.timezone, service.duration_minutes, start, end
        )
        if slot[0] > now
    ]
    if not slots:
        return []
    first, last = slots[0][0], slots[-1][1]
    taken = await capacity.taken_intervals(ctx.session, service.id, first, last, now)
    return remaining(service.capacity_per_slot, slots, taken)
