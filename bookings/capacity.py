"""A slot's capacity: what occupies it, and the lock that makes counting it safe.

What occupies a slot is the same everywhere: active bookings (``PENDING``,
``CONFIRMED``) and live holds of online drafts that overlap it. A hold stops
counting the moment its ``hold_expires_at`` passes; nothing has to run for it.

Every write that depends on a count first locks the time it books
(``lock_slot``): on PostgreSQL one transaction-scoped advisory lock per
quarter hour of the service's time it covers; on SQLite the write
transaction already holds the database's write lock. Two bookings that
overlap share a quarter hour, so they are counted and inserted one after the
other; bookings of the same service at other times no longer wait for each
other, as they did when every booking locked the service's row.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bookings.slots import Interval
from store.engine import SerialReader
from store.models import ACTIVE_BOOKING_STATUSES, Booking, BookingDraft, Service


def _overlapping_bookings(service_id: str, starts_at: datetime, ends_at: datetime) -> Any:
    return (
        Booking.service_id == service_id,
        Booking.status.in_(ACTIVE_BOOKING_STATUSES),
        Booking.ends_at > starts_at,
        Booking.starts_at < ends_at,
    )


def _live_holds(service_id: str, starts_at: datetime, ends_at: datetime, now: datetime) -> Any:
    return (
        BookingDraft.service_id == service_id,
        BookingDraft.hold_expires_at > now,
        BookingDraft.completed_at.is_(None),
        BookingDraft.ends_at > starts_at,
        BookingDraft.starts_at < ends_at,
    )


async def bookable_service(tx: AsyncSession, tenant_id: str, service_id: str) -> Service | None:
    """The tenant's service, or None when the tenant has no such service."""
    return (
        await tx.execute(
            select(Service).where(Service.id == service_id, Service.tenant_id == tenant_id)
        )
    ).scalar_one_or_none()


LOCK_GRAIN_SECONDS = 15 * 60

# Key one is the service, key two a quarter hour since the epoch (an int4 for
# some 61,000 years). generate_series yields the quarters in ascending order, so
# two transactions always take their common locks in the same order.
_LOCK_QUARTERS = text(
    "SELECT pg_advisory_xact_lock(hashtext(:service_id), quarter::int) "
    "FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS quarter"
)


def lock_quarters(starts_at: datetime, ends_at: datetime) -> tuple[int, int]:
    """The first and last quarter hour (since the epoch) that ``[starts_at, ends_at)`` touches."""
    first = int(starts_at.timestamp()) // LOCK_GRAIN_SECONDS
    last = (math.ceil(ends_at.timestamp()) - 1) // LOCK_GRAIN_SECONDS
    return first, max(first, last)


async def lock_slot(
    tx: AsyncSession, service_id: str, starts_at: datetime, ends_at: datetime
) -> None:
    """Lock the service's time ``[starts_at, ends_at)`` until the transaction ends.

    Take it before counting what occupies that time. Hash collisions of two
    services only make their bookings wait for each other, never race.
    """
    if tx.get_bind().dialect.name != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE already holds the database's write lock
    first, last = lock_quarters(starts_at, ends_at)
    await tx.execute(_LOCK_QUARTERS, {"service_id": service_id, "first": first, "last": last})


async def count_occupied(
    tx: AsyncSession,
    service_id: str,
    starts_at: datetime,
    ends_at: datetime,
    *,
    now: datetime,
    ignore_booking_id: str | None = None,
    ignore_draft_id: str | None = None,
) -> int:
    """Active bookings plus live holds overlapping ``[starts_at, ends_at)``, in one statement.

    Call it after ``lock_slot`` so nothing can be added between the count
    and the write that depends on it.
    """
    bookings = select(func.count()).where(*_overlapping_bookings(service_id, starts_at, ends_at))
    if ignore_booking_id is not None:
        bookings = bookings.where(Booking.id != ignore_booking_id)
    holds = select(func.count()).where(*_live_holds(service_id, starts_at, ends_at, now))
    if ignore_draft_id is not None:
        holds = holds.where(BookingDraft.id != ignore_draft_id)
    statement = select(bookings.scalar_subquery() + holds.scalar_subquery())
    return int((await tx.execute(statement)).scalar_one())


async def slot_is_full(
    tx: AsyncSession,
    service: Service,
    starts_at: datetime,
    ends_at: datetime,
    *,
    now: datetime,
    ignore_booking_id: str | None = None,
    ignore_draft_id: str | None = None,
) -> bool:
    """Whether ``[starts_at, ends_at)`` already holds ``capacity_per_slot`` bookings and holds."""
    occupied = await count_occupied(
        tx,
        service.id,
        starts_at,
        ends_at,
        now=now,
        ignore_booking_id=ignore_booking_id,
        ignore_draft_id=ignore_draft_id,
    )
    return occupied >= service.capacity_per_slot


async def taken_intervals(
    session: AsyncSession | SerialReader,
    service_id: str,
    first: datetime,
    last: datetime,
    now: datetime,
) -> list[Interval]:
    """Every active booking and live hold of the service overlapping ``[first, last)``."""
    taken = union_all(
        select(Booking.starts_at, Booking.ends_at).where(
            *_overlapping_bookings(service_id, first, last)
        ),
        select(BookingDraft.starts_at, BookingDraft.ends_at).where(
            *_live_holds(service_id, first, last, now)
        ),
    )
    rows = (await session.execute(select(taken.subquery()))).all()
    # UNION ALL loses the column type on SQLite; normalise to aware UTC.
    return [(_utc(start_at), _utc(end_at)) for start_at, end_at in map(tuple, rows)]


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
