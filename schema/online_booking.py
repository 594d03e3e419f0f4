"""Online booking for everyone: free slots, a draft held by the one cookie, completing it.

``OnlineBookingQuery`` and ``OnlineBookingMutation`` are mixed into the root
types. None of these fields needs an account; the caller's draft is found
through the ``tg_draft`` cookie, never through an argument.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from resolvers import availability, online_booking
from schema.context import Info
from schema.types import Service, Tenant
from store import models


@strawberry.type(description="A bookable time of one service. Times are UTC.")
class Slot:
    starts_at: datetime
    ends_at: datetime
    remaining: int = strawberry.field(
        description="Places left: capacity minus active bookings and live holds; "
        "0 means fully booked (full slots are listed, not left out)."
    )


@strawberry.type(
    description="The caller's unfinished online booking, remembered by the tg_draft cookie."
)
class BookingDraft:
    tenant_id: strawberry.Private[str]
    service_id: strawberry.Private[str]
    starts_at: datetime
    ends_at: datetime
    hold_expires_at: datetime = strawberry.field(
        description="Until then the slot is kept for this booking (15 minutes from the start)."
    )
    hold_live: bool = strawberry.field(
        description="Whether the slot is still held. After the hold, completing succeeds only "
        "if the slot is still free."
    )
    expires_at: datetime = strawberry.field(
        description="When the draft and its cookie lapse (7 days from the start)."
    )

    @strawberry.field
    async def tenant(self, info: Info) -> Tenant | None:
        return await info.context.loaders.by_id(models.Tenant).load(self.tenant_id)  # type: ignore[return-value]

    @strawberry.field(description="Null if the service is no longer offered.")
    async def service(self, info: Info) -> Service | None:
        return await info.context.loaders.by_id(models.Service).load(self.service_id)  # type: ignore[return-value]

    @classmethod
    def of(cls, view: online_booking.DraftView) -> BookingDraft:
        return cls(
            tenant_id=view.tenant_id,
            service_id=view.service_id,
            starts_at=view.starts_at,
            ends_at=view.ends_at,
            hold_expires_at=view.hold_expires_at,
            hold_live=view.hold_live,
            expires_at=view.expires_at,
        )


@strawberry.type
class StartBookingPayload:
    draft: BookingDraft


@strawberry.input(description="What the person types to finish an online booking.")
class CompleteBookingInput:
    name: str
    email: str
    phone: str = strawberry.field(description="Danish unless it has a country code.")
    registration: str | None = None
    vin: str | None = None
    customer_notes: str | None = None
    tenant_slug: str | None = strawberry.field(
        default=None,
        description="The business whose page this is; if given, the draft must be there.",
    )


@strawberry.type
class CompleteBookingPayload:
    tenant_id: strawberry.Private[str]
    service_id: strawberry.Private[str]
    reference: str = strawberry.field(description="Quote it to the business.")
    starts_at: datetime
    ends_at: datetime

    @strawberry.field
    async def tenant(self, info: Info) -> Tenant | None:
        return await info.context.loaders.by_id(models.Tenant).load(self.tenant_id)  # type: ignore[return-value]

    @strawberry.field
    async def service(self, info: Info) -> Service | None:
        return await info.context.loaders.by_id(models.Service).load(self.service_id)  # type: ignore[return-value]


@strawberry.type
class OnlineBookingQuery:
    @strawberry.field(
        description="Free and full slots of one service starting between from and to (at most "
        "31 days apart; past times left out), on the service's duration grid inside the "
        "tenant's opening hours."
    )
    async def available_slots(
        self,
        info: Info,
        tenant_slug: str,
        service_id: strawberry.ID,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> list[Slot]:
        found = await availability.available_slots(info.context, tenant_slug, service_id, from_, to)
        return [
            Slot(starts_at=s.starts_at, ends_at=s.ends_at, remaining=s.remaining) for s in found
        ]

    @strawberry.field(
        description="The caller's unfinished online booking from its cookie, or null. With "
        "tenantSlug, only one at that business."
    )
    async def resume_booking(
        self, info: Info, tenant_slug: str | None = None
    ) -> BookingDraft | None:
        view = await online_booking.resume_booking(info.context, tenant_slug)
        return None if view is None else BookingDraft.of(view)


@strawberry.type
class OnlineBookingMutation:
    @strawberry.mutation(
        description="Hold a free slot for 15 minutes and set the tg_draft cookie (the only "
        "cookie this service sets). A slot held before by the same cookie is let go."
    )
    async def start_booking(
        self, info: Info, tenant_slug: str, service_id: strawberry.ID, starts_at: datetime
    ) -> StartBookingPayload:
        view = await online_booking.start_booking(info.context, tenant_slug, service_id, starts_at)
        return StartBookingPayload(draft=BookingDraft.of(view))

    @strawberry.mutation(
        description="Finish the cookie's booking: confirmed at once, the cookie cleared. A "
        "second completion answers CONFLICT."
    )
    async def complete_booking(
        self, info: Info, input: CompleteBookingInput
    ) -> CompleteBookingPayload:
        done = await online_booking.complete_booking(
            info.context,
            name=input.name,
            email=input.email,
            phone=input.phone,
            registration=input.registration,
            vin=input.vin,
            customer_notes=input.customer_notes,
            tenant_slug=input.tenant_slug,
        )
        return CompleteBookingPayload(
            tenant_id=done.tenant_id,
            service_id=done.service_id,
            reference=done.reference,
            starts_at=done.starts_at,
            ends_at=done.ends_at,
        )
