"""Booking writes: create, reschedule and cancel, never beyond a slot's capacity.

Every write locks the time it books before counting it (``capacity.lock_slot``:
advisory locks on PostgreSQL; on SQLite the write transaction already holds
the database's write lock), so two bookings that overlap are checked and
inserted one after the other and the capacity check cannot race. Everything
that needs no lock (the customer, vehicle, service and opening hours, a fresh
reference) is read before it, to keep the locked section short. The count
includes the live holds of online drafts; the counting and the lock are the
booking rules of ``bookings.capacity``, shared with online booking.

Staff bookings stay inside the tenant's opening hours, like online ones; a
tenant that has set no opening hours takes staff bookings at any time (online
booking needs opening hours). Only a ``tenant_admin`` may book a full slot
anyway, with ``overbook: true``, and that is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from audit.trail import record, record_write
from authz.kernel import owned_by, require_writer, row_in_reach
from basics.errors import BadUserInput, Conflict, Forbidden, NotFound
from basics.ids import decode_id
from bookings import capacity
from bookings.references import unused_reference
from bookings.slots import BOOKABLE_AHEAD, within_opening_hours
from resolvers import validation
from resolvers.context import RequestContext
from resolvers.customer_writes import ensure_not_restricted
from store.engine import write_transaction
from store.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingChannel,
    BookingStatus,
    Customer,
    Service,
    Tenant,
    Vehicle,
)
from store.types import utcnow

STAFF_BOOKING_CHANNELS = (BookingChannel.PHONE, BookingChannel.STAFF)
MAX_NOTES_LENGTH = 2000


def _check_start(field: str, starts_at: datetime) -> datetime:
    starts_at = validation.aware(field, starts_at)
    now = utcnow()
    if starts_at < now:
        raise BadUserInput(field, "must be in the future")
    if starts_at > now + BOOKABLE_AHEAD:
        raise BadUserInput(field, "must be within two years")
    return starts_at


async def _bookable_service(
    tx: AsyncSession, tenant_id: str, service_id: str, field: str
) -> Service:
    service = await capacity.bookable_service(tx, tenant_id, service_id)
    if service is None:
        raise NotFound("Service not found", field=field)
    if not service.active:
        raise BadUserInput(field, "is not bookable")
    return service


async def _ensure_capacity(
    tx: AsyncSession,
    service: Service,
    starts_at: datetime,
    ends_at: datetime,
    *,
    field: str,
    ignore_booking_id: str | None = None,
    overbook: bool = False,
) -> bool:
    """Refuse a booking that would put more active bookings and live holds in a slot
    than its capacity, unless ``overbook``; return whether the slot was already full."""
    full = await capacity.slot_is_full(
        tx, service, starts_at, ends_at, now=utcnow(), ignore_booking_id=ignore_booking_id
    )
    if full and not overbook:
        raise Conflict(f"{field}: the slot is fully booked", field=field)
    return full


async def _opening_hours(tx: AsyncSession, tenant_id: str) -> tuple[Any, str]:
    """The tenant's opening hours (empty: none set) and time zone."""
    tenant = (
        await tx.execute(
            select(Tenant.opening_hours, Tenant.timezone).where(Tenant.id == tenant_id)
        )
    ).one()
    return tenant.opening_hours, tenant.timezone


def _ensure_open(
    hours: tuple[Any, str], starts_at: datetime, ends_at: datetime, field: str
) -> None:
    """Refuse a time outside the tenant's opening hours; without any set, every time is open."""
    opening_hours, timezone = hours
    if opening_hours and not within_opening_hours(opening_hours, timezone, starts_at, ends_at):
        raise BadUserInput(field, "is outside the opening hours")


async def create_booking(
    ctx: RequestContext,
    *,
    customer_id: str,
    service_id: str,
    starts_at: datetime,
    vehicle_id: str | None,
    customer_notes: str | None,
    internal_notes: str | None,
    channel: BookingChannel,
    overbook: bool = False,
) -> Booking:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "createBooking")
    if overbook and not ctx.principal.has_any_role("tenant_admin"):
        raise Forbidden("only a tenant_admin may overbook", path=["createBooking"])
    if channel not in STAFF_BOOKING_CHANNELS:
        raise BadUserInput("input.channel", "must be PHONE or STAFF for staff bookings")
    customer_key = decode_id("input.customerId", customer_id, "Customer")
    service_key = decode_id("input.serviceId", service_id, "Service")
    vehicle_key = (
        decode_id("input.vehicleId", vehicle_id, "Vehicle") if vehicle_id is not None else None
    )
    starts_at = _check_start("input.startsAt", starts_at)
    notes = validation.optional_text(
        "input.customerNotes", customer_notes, max_length=MAX_NOTES_LENGTH, multiline=True
    )
    internal = validation.optional_text(
        "input.internalNotes", internal_notes, max_length=MAX_NOTES_LENGTH, multiline=True
    )
    async with write_transaction(ctx.sessions) as tx:
        # Everything up to the slot's lock needs none: the fewer statements
        # under it, the shorter overlapping bookings wait for each other.
        customer = (
            await tx.execute(
                select(Customer).where(Customer.id == customer_key, owned_by(Customer, tenant_id))
            )
        ).scalar_one_or_none()
        if customer is None:
            raise NotFound("Customer not found", field="input.customerId")
        ensure_not_restricted(customer, "input.customerId")
        if vehicle_key is not None:
            await _check_vehicle(tx, tenant_id, vehicle_key, customer_key)
        service = await _bookable_service(tx, tenant_id, service_key, "input.serviceId")
        ends_at = starts_at + timedelta(minutes=service.duration_minutes)
        _ensure_open(await _opening_hours(tx, tenant_id), starts_at, ends_at, "input.startsAt")
        reference = await unused_reference(tx, tenant_id)
        await capacity.lock_slot(tx, service.id, starts_at, ends_at)
        overbooked = await _ensure_capacity(
            tx, service, starts_at, ends_at, field="input.startsAt", overbook=overbook
        )
        booking = Booking(
            tenant_id=tenant_id,
            customer_id=customer_key,
            vehicle_id=vehicle_key,
            service_id=service.id,
            starts_at=starts_at,
            ends_at=ends_at,
            status=BookingStatus.CONFIRMED,
            reference=reference,
            customer_notes=notes,
            internal_notes=internal,
            price_ore=service.price_ore,
            channel=channel,
            created_by=ctx.principal.actor,
        )
        tx.add(booking)
        await tx.flush()
        await _record_create(ctx, tx, booking, overbooked=overbooked)
    return booking


async def _check_vehicle(
    tx: AsyncSession, tenant_id: str, vehicle_key: str, customer_key: str
) -> None:
    """The booked vehicle is the tenant's and, when it has an owner, the customer's."""
    vehicle = (
        await tx.execute(
            select(Vehicle.owner_id).where(Vehicle.id == vehicle_key, owned_by(Vehicle, tenant_id))
        )
    ).first()
    if vehicle is None:
        raise NotFound("Vehicle not found", field="input.vehicleId")
    if vehicle.owner_id not in (None, customer_key):
        raise BadUserInput("input.vehicleId", "must belong to the booking's customer")


async def _record_create(
    ctx: RequestContext, tx: AsyncSession, booking: Booking, *, overbooked: bool
) -> None:
    """Audit the new booking by the fields it was given; an overbooking on its own too."""
    written = ["customer_id", "service_id", "starts_at", "ends_at", "price_ore"]
    written += [
        name
        for name, value in (
            ("vehicle_id", booking.vehicle_id),
            ("customer_notes", booking.customer_notes),
            ("internal_notes", booking.internal_notes),
        )
        if value
    ]
    await record_write(tx, ctx.principal, "booking.create", booking, written)
    if overbooked:
        await record(
            tx,
            tenant_id=booking.tenant_id,
            actor=ctx.principal.actor,
            action="booking.overbook",
            entity_type="Booking",
            entity_id=booking.id,
            fields=["starts_at", "ends_at"],
            details={"overbook": True},
        )


async def _locked_booking(tx: AsyncSession, tenant_id: str, key: str) -> Booking:
    """The booking, locked for update: two writes to one booking (a cancellation and
    a reschedule) run one after the other, each seeing what the other left."""
    return await row_in_reach(tx, Booking, key, tenant_id, lock=True)


async def reschedule_booking(ctx: RequestContext, global_id: str, starts_at: datetime) -> Booking:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "rescheduleBooking")
    key = decode_id("id", global_id, "Booking")
    starts_at = _check_start("startsAt", starts_at)
    async with write_transaction(ctx.sessions) as tx:
        booking = await _locked_booking(tx, tenant_id, key)
        if booking.status not in ACTIVE_BOOKING_STATUSES:
            raise Conflict(f"a {booking.status.value} booking cannot be rescheduled", field="id")
        if booking.customer_id is not None:
            customer = await tx.get(Customer, booking.customer_id)
            if customer is not None:
                ensure_not_restricted(customer, "id")
        service = await _bookable_service(tx, tenant_id, booking.service_id, "id")
        ends_at = starts_at + timedelta(minutes=service.duration_minutes)
        _ensure_open(await _opening_hours(tx, tenant_id), starts_at, ends_at, "startsAt")
        # Only the new time is locked: leaving the old one frees room, which
        # needs no lock.
        await capacity.lock_slot(tx, service.id, starts_at, ends_at)
        await _ensure_capacity(
            tx, service, starts_at, ends_at, field="startsAt", ignore_booking_id=booking.id
        )
        booking.starts_at = starts_at
        booking.ends_at = ends_at
        booking.updated_at = utcnow()
        await record_write(
            tx, ctx.principal, "booking.reschedule", booking, ["starts_at", "ends_at"]
        )
    return booking


async def cancel_booking(ctx: RequestContext, global_id: str) -> Booking:
    """Cancel a pending or confirmed booking; cancelling it again changes nothing."""
    tenant_id = require_writer(ctx.principal, ctx.decisions, "cancelBooking")
    key = decode_id("id", global_id, "Booking")
    async with write_transaction(ctx.sessions) as tx:
        booking = await _locked_booking(tx, tenant_id, key)
        if booking.status is BookingStatus.CANCELLED:
            return booking
        if booking.status not in ACTIVE_BOOKING_STATUSES:
            raise Conflict(f"a {booking.status.value} booking cannot be cancelled", field="id")
        booking.status = BookingStatus.CANCELLED
        booking.updated_at = utcnow()
        await record_write(tx, ctx.principal, "booking.cancel", booking, ["status"])
    return booking
