"""Online booking by a person without an account: hold a slot, come back, complete it.

``startBooking`` holds one slot in a draft (``bookings.holds``) and sets the one
cookie the service uses (``resolvers.draft_cookie``). The draft holds no
personal data; what the person types arrives only with ``completeBooking``,
which stores it as the tenant's customer and booking.

Every write takes the service's row lock first (``bookings.capacity``), exactly
like staff bookings, so holds and bookings are counted and added one after the
other and a slot never takes more than its capacity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail as audit
from basics.errors import BadUserInput, Conflict, NotFound
from basics.ids import decode_id
from bookings import capacity, holds
from bookings.references import unused_reference
from bookings.slots import BOOKABLE_AHEAD, is_slot_start, within_opening_hours
from resolvers import draft_cookie, validation
from resolvers.address_limits import booking_limit, limit_by_address
from resolvers.context import RequestContext
from resolvers.online_contact import Contact, customer_for, validate_contact, vehicle_for
from store.engine import write_transaction
from store.models import (
    Booking,
    BookingChannel,
    BookingDraft,
    BookingStatus,
    Customer,
    Service,
    Tenant,
    Vehicle,
)
from store.types import new_id, utcnow

ONLINE_ACTOR = "anonymous:online"


@dataclass(frozen=True)
class DraftView:
    """A draft as its holder sees it (never its id: that stays in the HttpOnly cookie)."""

    tenant_id: str
    service_id: str
    starts_at: datetime
    ends_at: datetime
    hold_expires_at: datetime
    expires_at: datetime
    hold_live: bool


@dataclass(frozen=True)
class CompletedBooking:
    reference: str
    tenant_id: str
    service_id: str
    starts_at: datetime
    ends_at: datetime


def _view(draft: BookingDraft, now: datetime) -> DraftView:
    return DraftView(
        tenant_id=draft.tenant_id,
        service_id=draft.service_id,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        hold_expires_at=draft.hold_expires_at,
        expires_at=draft.expires_at,
        hold_live=holds.hold_is_live(draft, now),
    )


# --- startBooking -----------------------------------------------------------------


async def start_booking(
    ctx: RequestContext, tenant_slug: str, service_id: str, starts_at: datetime
) -> DraftView:
    """Hold a free slot for ``HOLD_MINUTES`` and remember it in the cookie.

    A caller who already holds a slot lets it go: one cookie, one booking in
    progress. Every refusal leaves the database (and the old hold) as it was.
    """
    await limit_by_address(ctx, "startBooking", booking_limit(ctx))
    key = decode_id("serviceId", service_id, "Service")
    starts_at = validation.aware("startsAt", starts_at)
    now = utcnow()
    if starts_at <= now:
        raise BadUserInput("startsAt", "must be in the future")
    if starts_at > now + BOOKABLE_AHEAD:
        raise BadUserInput("startsAt", "must be within two years")
    try:
        previous = draft_cookie.draft_id(ctx)
    except draft_cookie.BadCookie:
        previous = None
    async with write_transaction(ctx.sessions) as tx:
        tenant = (
            await tx.execute(select(Tenant).where(Tenant.slug == tenant_slug))
        ).scalar_one_or_none()
        if tenant is None:
            raise NotFound("Tenant not found", field="tenantSlug")
        service = await capacity.bookable_service(tx, tenant.id, key)
        if service is None or not service.active:
            raise NotFound("Service not found", field="serviceId")
        _check_slot(tenant, service, starts_at)
        if previous is not None:
            await holds.release(tx, previous)
        draft = holds.new_hold(tenant.id, service, starts_at, now)
        await capacity.lock_slot(tx, service.id, draft.starts_at, draft.ends_at)
        if await capacity.slot_is_full(tx, service, starts_at, draft.ends_at, now=now):
            raise Conflict("startsAt: the slot is fully booked", field="startsAt")
        tx.add(draft)
    draft_cookie.set_cookie(ctx, draft.id)
    return _view(draft, now)


def _check_slot(tenant: Tenant, service: Service, starts_at: datetime) -> None:
    """Online, only a slot of the service's grid inside the opening hours is bookable."""
    if not tenant.opening_hours:
        raise BadUserInput("tenantSlug", "takes no online bookings (no opening hours are set)")
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    hours, zone = tenant.opening_hours, tenant.timezone
    if not within_opening_hours(hours, zone, starts_at, ends_at):
        raise BadUserInput("startsAt", "is outside the opening hours")
    if not is_slot_start(hours, zone, service.duration_minutes, starts_at):
        raise BadUserInput("startsAt", "is not one of the service's slot times")


# --- resumeBooking ----------------------------------------------------------------


async def resume_booking(ctx: RequestContext, tenant_slug: str | None) -> DraftView | None:
    """The caller's unfinished booking, or None (no cookie, a forged one, done or lapsed).

    With ``tenant_slug``, only a draft at that business: the cookie is shared
    by every business's booking page.
    """
    try:
        draft_id = draft_cookie.draft_id(ctx)
    except draft_cookie.BadCookie:
        return None
    if draft_id is None:
        return None
    now = utcnow()
    statement = select(BookingDraft).where(
        BookingDraft.id == draft_id,
        BookingDraft.completed_at.is_(None),
        BookingDraft.expires_at > now,
    )
    if tenant_slug is not None:
        statement = statement.join(Tenant, Tenant.id == BookingDraft.tenant_id).where(
            Tenant.slug == tenant_slug
        )
    draft = (await ctx.session.execute(statement)).scalar_one_or_none()
    return None if draft is None else _view(draft, now)


# --- completeBooking --------------------------------------------------------------


def _cookie_draft_id(ctx: RequestContext) -> str:
    """The draft the cookie names, or the error that tells the person to start again."""
    try:
        draft_id = draft_cookie.draft_id(ctx)
    except draft_cookie.BadCookie:
        draft_cookie.clear_cookie(ctx)
        raise BadUserInput(
            draft_cookie.COOKIE_NAME, "cookie is not valid: start the booking again"
        ) from None
    if draft_id is None:
        raise NotFound(
            "no booking in progress: start one with startBooking", field=draft_cookie.COOKIE_NAME
        )
    return draft_id


async def _claim_draft(
    tx: AsyncSession, draft_id: str, tenant_slug: str | None, now: datetime
) -> tuple[BookingDraft, Tenant, Service]:
    """Claim the draft: of two completions racing with one cookie, the second finds
    it claimed (the claim is one conditional UPDATE). The slot's lock is taken
    before the booking is written; a lapsed hold is counted again under it."""
    draft = (
        await tx.execute(select(BookingDraft).where(BookingDraft.id == draft_id))
    ).scalar_one_or_none()
    if draft is None or draft.expires_at <= now:
        raise NotFound("no booking in progress (it has lapsed)", field=draft_cookie.COOKIE_NAME)
    tenant = (await tx.execute(select(Tenant).where(Tenant.id == draft.tenant_id))).scalar_one()
    if tenant_slug is not None and tenant.slug != tenant_slug:
        raise NotFound("no booking in progress at this business", field="input.tenantSlug")
    if draft.completed_at is not None:
        raise Conflict("this booking has already been completed")
    service = await capacity.bookable_service(tx, draft.tenant_id, draft.service_id)
    if service is None or not service.active:
        raise Conflict("the service can no longer be booked: choose another")
    if not await holds.claim(tx, draft_id, now):
        raise Conflict("this booking has already been completed")
    if draft.starts_at <= now:
        raise Conflict("the chosen time has passed: choose another")
    # Locked even for a live hold, and its life judged after the lock: a hold
    # that lapsed meanwhile may have let another booking count it free.
    await capacity.lock_slot(tx, service.id, draft.starts_at, draft.ends_at)
    locked_at = utcnow()
    if draft.hold_expires_at <= locked_at and await capacity.slot_is_full(
        tx, service, draft.starts_at, draft.ends_at, now=locked_at, ignore_draft_id=draft.id
    ):
        raise Conflict("the hold lapsed and the slot has been taken: choose another time")
    return draft, tenant, service


async def complete_booking(
    ctx: RequestContext,
    *,
    name: str,
    email: str,
    phone: str,
    registration: str | None,
    vin: str | None,
    customer_notes: str | None,
    tenant_slug: str | None,
) -> CompletedBooking:
    """Turn the cookie's draft into a confirmed online booking, once.

    A live hold has kept its place; after the hold lapsed the slot may have
    filled, which is counted again under the slot's lock (``CONFLICT``).
    """
    await limit_by_address(ctx, "completeBooking", booking_limit(ctx))
    draft_id = _cookie_draft_id(ctx)
    contact = validate_contact(
        name=name,
        email=email,
        phone=phone,
        registration=registration,
        vin=vin,
        customer_notes=customer_notes,
    )
    now = utcnow()
    async with write_transaction(ctx.sessions) as tx:
        draft, tenant, service = await _claim_draft(tx, draft_id, tenant_slug, now)
        customer, new_customer = await customer_for(tx, tenant.id, contact)
        vehicle, new_vehicle = await vehicle_for(tx, tenant.id, customer, contact, new_customer)
        booking = Booking(
            id=new_id(),
            tenant_id=tenant.id,
            customer_id=customer.id,
            vehicle_id=vehicle.id if vehicle is not None else None,
            service_id=service.id,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            status=BookingStatus.CONFIRMED,
            reference=await unused_reference(tx, tenant.id),
            customer_notes=contact.customer_notes,
            internal_notes=None,
            price_ore=service.price_ore,
            channel=BookingChannel.ONLINE,
            created_by=ONLINE_ACTOR,
        )
        tx.add(booking)
        await tx.flush()
        await _record_online(
            tx,
            booking,
            contact,
            customer if new_customer else None,
            vehicle if new_vehicle else None,
        )
    draft_cookie.clear_cookie(ctx)
    return CompletedBooking(
        reference=booking.reference,
        tenant_id=tenant.id,
        service_id=service.id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
    )


async def _record_online(
    tx: AsyncSession,
    booking: Booking,
    contact: Contact,
    new_customer: Customer | None,
    new_vehicle: Vehicle | None,
) -> None:
    """Audit what the anonymous request created: the customer and vehicle when new, the
    booking always, each by the fields it was given."""
    if new_customer is not None:
        await audit.record(
            tx,
            tenant_id=booking.tenant_id,
            actor=ONLINE_ACTOR,
            action="customer.create_online",
            entity_type="Customer",
            entity_id=new_customer.id,
            fields=["name", "email", "phone", "created_via"],
        )
    if new_vehicle is not None:
        await audit.record(
            tx,
            tenant_id=booking.tenant_id,
            actor=ONLINE_ACTOR,
            action="vehicle.create_online",
            entity_type="Vehicle",
            entity_id=new_vehicle.id,
            fields=[
                "owner_id",
                *(["registration"] if contact.registration else []),
                *(["vin"] if contact.vin else []),
            ],
        )
    written = ["customer_id", "service_id", "starts_at", "ends_at", "price_ore", "status"]
    written += ["channel"]
    if booking.vehicle_id is not None:
        written.append("vehicle_id")
    if contact.customer_notes:
        written.append("customer_notes")
    await audit.record(
        tx,
        tenant_id=booking.tenant_id,
        actor=ONLINE_ACTOR,
        action="booking.create_online",
        entity_type="Booking",
        entity_id=booking.id,
        fields=written,
    )
