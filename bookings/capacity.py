"""A slot's capacity: what occupies it, and the lock that makes counting it safe.

What occupies a slot is the same everywhere: active bookings (``PENDING``,
``CONFIRMED``) and live holds of online drafts that overlap it. A hold stops
counting the moment its ``hold_expires_at`` passes; nothing has to run for it.

Every write that depends on a count first bumps the service's ``booking_lock``
(``lock_service``). On PostgreSQL that takes the service row's lock; on SQLite
the write transaction already holds the database's write lock. Either way two
writes for one service are counted and inserted one after the other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, union_all, update
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


async def lock_service(tx: AsyncSession, tenant_id: str, service_id: str) -> Service | None:
    """Bump the tenant's service's ``booking_lock`` and return the service; None when the
    tenant has no such service. Taken before every capacity check and booking write."""
    bumped = await tx.execute(
        update(Service)
        .where(Service.id == service_id, Service.tenant_id == tenant_id)
        .values(booking_lock=Service.booking_lock + 1)
    )
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        return None
    return (await tx.execute(select(Service).where(Service.id == service_id))).scalar_one()


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

    Call it after ``lock_service`` so nothing can be added between the count
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
