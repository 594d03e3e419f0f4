"""Online booking by a person without an account: hold a slot, come back, complete it.

``startBooking`` holds one slot for ``HOLD_MINUTES`` in a draft and sets the one
cookie the service uses, ``tg_draft``: the draft's random id with an HMAC, so a
guessed or altered value is refused before the database is asked. The draft
holds no personal data; what the person types arrives only with
``completeBooking``, which stores it as the tenant's customer and booking.

Every write takes the service's row lock first (``availability.lock_service``),
exactly like staff bookings, so holds and bookings are counted and added one
after the other and a slot never takes more than its capacity.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import trail as audit
from basics.errors import BadUserInput, Conflict, NotFound
from basics.ids import decode_id
from resolvers import availability, validation
from resolvers.address_limits import booking_limit, limit_by_address
from resolvers.booking_writes import MAX_NOTES_LENGTH, new_reference
from resolvers.context import RequestContext
from store.engine import write_transaction
from store.models import (
    Booking,
    BookingChannel,
    BookingDraft,
    BookingStatus,
    CreatedVia,
    Customer,
    Tenant,
    Vehicle,
)
from store.types import new_id, utcnow

COOKIE_NAME = "tg_draft"
COOKIE_MAX_AGE = timedelta(days=7)
HOLD_MINUTES = 15
ONLINE_ACTOR = "anonymous:online"
_DRAFT_ID = re.compile(r"^[0-9a-f]{32}$")


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


# --- the cookie ------------------------------------------------------------------


def _cookie_key(ctx: RequestContext) -> bytes:
    # A key of its own, derived from the signing key, so a cookie signature can
    # never double as anything else signed with that key.
    return hmac.new(
        ctx.settings.signing_key().encode(), b"tenantgraph tg_draft cookie", hashlib.sha256
    ).digest()


def _signature(ctx: RequestContext, draft_id: str) -> str:
    digest = hmac.new(_cookie_key(ctx), draft_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def cookie_value(ctx: RequestContext, draft_id: str) -> str:
    return f"{draft_id}.{_signature(ctx, draft_id)}"


class _BadCookie(Exception):
    """The cookie is present but was not issued by this service."""


def _draft_id(ctx: RequestContext) -> str | None:
    """The draft id from the caller's cookie; None without one; ``_BadCookie`` if forged."""
    raw = ctx.request.cookies.get(COOKIE_NAME) if ctx.request is not None else None
    if not raw:
        return None
    draft_id, _, signature = raw.partition(".")
    if not _DRAFT_ID.match(draft_id) or not hmac.compare_digest(
        signature.encode(), _signature(ctx, draft_id).encode()
    ):
        raise _BadCookie
    return draft_id


def _set_cookie(ctx: RequestContext, draft_id: str) -> None:
    if ctx.response is not None:
        ctx.response.set_cookie(
            COOKIE_NAME,
            cookie_value(ctx, draft_id),
            max_age=int(COOKIE_MAX_AGE.total_seconds()),
            path="/",
            secure=ctx.settings.is_production,
            httponly=True,
            samesite="lax",
        )


def _clear_cookie(ctx: RequestContext) -> None:
    if ctx.response is not None:
        ctx.response.delete_cookie(
            COOKIE_NAME,
            path="/",
            secure=ctx.settings.is_production,
            httponly=True,
            samesite="lax",
        )


def _view(draft: BookingDraft, now: datetime) -> DraftView:
    return DraftView(
        tenant_id=draft.tenant_id,
        service_id=draft.service_id,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        hold_expires_at=draft.hold_expires_at,
        expires_at=draft.expires_at,
        hold_live=draft.completed_at is None and draft.hold_expires_at > now,
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
    if starts_at > now + availability.BOOKABLE_AHEAD:
        raise BadUserInput("startsAt", "must be within two years")
    try:
        previous = _draft_id(ctx)
    except _BadCookie:
        previous = None
    async with write_transaction(ctx.sessions) as tx:
        tenant = (
            await tx.execute(select(Tenant).where(Tenant.slug == tenant_slug))
        ).scalar_one_or_none()
        if tenant is None:
            raise NotFound("Tenant not found", field="tenantSlug")
        service = await availability.lock_service(tx, key, tenant.id)
        if service is None or not service.active:
            raise NotFound("Service not found", field="serviceId")
        if not tenant.opening_hours:
            raise BadUserInput("tenantSlug", "takes no online bookings (no opening hours are set)")
        ends_at = starts_at + timedelta(minutes=service.duration_minutes)
        hours, zone = tenant.opening_hours, tenant.timezone
        if not availability.within_opening_hours(hours, zone, starts_at, ends_at):
            raise BadUserInput("startsAt", "is outside the opening hours")
        if not availability.is_slot_start(hours, zone, service.duration_minutes, starts_at):
            raise BadUserInput("startsAt", "is not one of the service's slot times")
        if previous is not None:
            await tx.execute(
                delete(BookingDraft).where(
                    BookingDraft.id == previous, BookingDraft.completed_at.is_(None)
                )
            )
        occupied = await availability.count_occupied(tx, service.id, starts_at, ends_at, now=now)
        if occupied >= service.capacity_per_slot:
            raise Conflict("startsAt: the slot is fully booked", field="startsAt")
        draft = BookingDraft(
            id=new_id(),
            tenant_id=tenant.id,
            service_id=service.id,
            starts_at=starts_at,
            ends_at=ends_at,
            hold_expires_at=now + timedelta(minutes=HOLD_MINUTES),
            expires_at=now + COOKIE_MAX_AGE,
            created_at=now,
        )
        tx.add(draft)
    _set_cookie(ctx, draft.id)
    return _view(draft, now)


# --- resumeBooking ----------------------------------------------------------------


async def resume_booking(ctx: RequestContext, tenant_slug: str | None) -> DraftView | None:
    """The caller's unfinished booking, or None (no cookie, a forged one, done or lapsed).

    With ``tenant_slug``, only a draft at that business: the cookie is shared
    by every business's booking page.
    """
    try:
        draft_id = _draft_id(ctx)
    except _BadCookie:
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


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str
    registration: str | None
    vin: str | None
    customer_notes: str | None


def validate_contact(
    *,
    name: str,
    email: str,
    phone: str,
    registration: str | None,
    vin: str | None,
    customer_notes: str | None,
) -> Contact:
    """The same rules as createCustomer and createVehicle, naming ``input.<field>``."""
    reg = registration.strip() if registration is not None else ""
    chassis = vin.strip() if vin is not None else ""
    return Contact(
        name=validation.text("input.name", name, max_length=200),
        email=validation.email("input.email", email),
        phone=validation.phone("input.phone", phone),
        registration=validation.registration("input.registration", reg) if reg else None,
        vin=validation.vin("input.vin", chassis) if chassis else None,
        customer_notes=validation.optional_text(
            "input.customerNotes", customer_notes, max_length=MAX_NOTES_LENGTH, multiline=True
        ),
    )


async def _customer_for(
    tx: AsyncSession, tenant_id: str, contact: Contact
) -> tuple[Customer, bool]:
    """The tenant's customer with this email (else phone), or a new one; (customer, created).

    An existing record is never changed from an anonymous request: anyone may
    type anyone's email. A record whose processing is restricted (Art. 18) is
    not used; the person gets a record of their own instead, and the answer is
    the same either way, so it tells nobody whether the email is known.
    """
    existing = (
        await tx.execute(
            select(Customer)
            .where(
                Customer.tenant_id == tenant_id,
                Customer.restricted_at.is_(None),
                or_(Customer.email == contact.email, Customer.phone == contact.phone),
            )
            .order_by(case((Customer.email == contact.email, 0), else_=1), Customer.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    customer = Customer(
        id=new_id(),
        tenant_id=tenant_id,
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        created_via=CreatedVia.ONLINE,
    )
    tx.add(customer)
    return customer, True


async def _vehicle_for(
    tx: AsyncSession, tenant_id: str, customer: Customer, contact: Contact, customer_is_new: bool
) -> tuple[Vehicle | None, bool]:
    """The customer's own vehicle with this registration or VIN, or a new one."""
    if contact.registration is None and contact.vin is None:
        return None, False
    if not customer_is_new:
        matches = []
        if contact.registration is not None:
            matches.append(Vehicle.registration == contact.registration)
        if contact.vin is not None:
            matches.append(Vehicle.vin == contact.vin)
        existing = (
            await tx.execute(
                select(Vehicle)
                .where(
                    Vehicle.tenant_id == tenant_id,
                    Vehicle.owner_id == customer.id,
                    or_(*matches),
                )
                .order_by(Vehicle.created_at)
                .limit(1)
            )
        ).scalar_one_or_none()
        if existing is not None:
            return existing, False
    vehicle = Vehicle(
        id=new_id(),
        tenant_id=tenant_id,
        owner_id=customer.id,
        registration=contact.registration,
        vin=contact.vin,
    )
    tx.add(vehicle)
    return vehicle, True


async def _unused_reference(tx: AsyncSession, tenant_id: str) -> str:
    while True:
        reference = new_reference()
        taken = await tx.execute(
            select(Booking.id).where(Booking.tenant_id == tenant_id, Booking.reference == reference)
        )
        if taken.first() is None:
            return reference


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

    The capacity is checked again under the service lock: a live hold has kept
    its place; after the hold lapsed the slot may have filled (``CONFLICT``).
    """
    await limit_by_address(ctx, "completeBooking", booking_limit(ctx))
    try:
        draft_id = _draft_id(ctx)
    except _BadCookie:
        _clear_cookie(ctx)
        raise BadUserInput(COOKIE_NAME, "cookie is not valid: start the booking again") from None
    if draft_id is None:
        raise NotFound("no booking in progress: start one with startBooking", field=COOKIE_NAME)
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
        draft = (
            await tx.execute(select(BookingDraft).where(BookingDraft.id == draft_id))
        ).scalar_one_or_none()
        if draft is None or draft.expires_at <= now:
            raise NotFound("no booking in progress (it has lapsed)", field=COOKIE_NAME)
        tenant = (await tx.execute(select(Tenant).where(Tenant.id == draft.tenant_id))).scalar_one()
        if tenant_slug is not None and tenant.slug != tenant_slug:
            raise NotFound("no booking in progress at this business", field="input.tenantSlug")
        if draft.completed_at is not None:
            raise Conflict("this booking has already been completed")
        service = await availability.lock_service(tx, draft.service_id, draft.tenant_id)
        if service is None or not service.active:
            raise Conflict("the service can no longer be booked: choose another")
        # Claim the draft under the lock: of two completions racing with one
        # cookie, the second finds it claimed.
        claimed = await tx.execute(
            update(BookingDraft)
            .where(BookingDraft.id == draft_id, BookingDraft.completed_at.is_(None))
            .values(completed_at=now)
        )
        if claimed.rowcount == 0:  # type: ignore[attr-defined]
            raise Conflict("this booking has already been completed")
        if draft.starts_at <= now:
            raise Conflict("the chosen time has passed: choose another")
        if draft.hold_expires_at <= now:
            occupied = await availability.count_occupied(
                tx, service.id, draft.starts_at, draft.ends_at, now=now, ignore_draft_id=draft.id
            )
            if occupied >= service.capacity_per_slot:
                raise Conflict("the hold lapsed and the slot has been taken: choose another time")
        customer, new_customer = await _customer_for(tx, tenant.id, contact)
        vehicle, new_vehicle = await _vehicle_for(tx, tenant.id, customer, contact, new_customer)
        booking = Booking(
            id=new_id(),
            tenant_id=tenant.id,
            customer_id=customer.id,
            vehicle_id=vehicle.id if vehicle is not None else None,
            service_id=service.id,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            status=BookingStatus.CONFIRMED,
            reference=await _unused_reference(tx, tenant.id),
            customer_notes=contact.customer_notes,
            internal_notes=None,
            price_ore=service.price_ore,
            channel=BookingChannel.ONLINE,
            created_by=ONLINE_ACTOR,
        )
        tx.add(booking)
        await tx.flush()
        if new_customer:
            await audit.record(
                tx,
                tenant_id=tenant.id,
                actor=ONLINE_ACTOR,
                action="customer.create_online",
                entity_type="Customer",
                entity_id=customer.id,
                fields=["name", "email", "phone", "created_via"],
            )
        if new_vehicle and vehicle is not None:
            await audit.record(
                tx,
                tenant_id=tenant.id,
                actor=ONLINE_ACTOR,
                action="vehicle.create_online",
                entity_type="Vehicle",
                entity_id=vehicle.id,
                fields=[
                    "owner_id",
                    *(["registration"] if contact.registration else []),
                    *(["vin"] if contact.vin else []),
                ],
            )
        written = ["customer_id", "service_id", "starts_at", "ends_at", "price_ore", "status"]
        written += ["channel"]
        if vehicle is not None:
            written.append("vehicle_id")
        if contact.customer_notes:
            written.append("customer_notes")
        await audit.record(
            tx,
            tenant_id=tenant.id,
            actor=ONLINE_ACTOR,
            action="booking.create_online",
            entity_type="Booking",
            entity_id=booking.id,
            fields=written,
        )
    _clear_cookie(ctx)
    return CompletedBooking(
        reference=booking.reference,
        tenant_id=tenant.id,
        service_id=service.id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
    )


# --- housekeeping -----------------------------------------------------------------


async def purge_expired_drafts(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Delete drafts whose cookie has lapsed (completed or not); returns how many.

    Their holds stopped counting long before; this only keeps the table small.
    """
    async with write_transaction(sessions) as tx:
        deleted = await tx.execute(delete(BookingDraft).where(BookingDraft.expires_at <= now))
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]
