"""Free slots: a service's duration grid inside the tenant's opening hours.

Opening hours are wall-clock times in the tenant's zone (``Tenant.timezone``).
Each day's interval is turned into two UTC instants with ``zoneinfo`` and the
grid is stepped in elapsed time from the opening instant, so a day on which
the clocks change has exactly as many slots as it has hours: the last Sunday of
March one hour fewer, the last Sunday of October one more, when an interval
spans the change. A wall-clock time that does not exist that day (02:30 when
the clocks jump to 03:00) is read with the offset in force before the change;
an ambiguous one (02:30 when 03:00 falls back to 02:00) as its first occurrence.

What occupies a slot is the same everywhere: active bookings (``PENDING``,
``CONFIRMED``) and live holds of online drafts that overlap it. A hold stops
counting the moment its ``hold_expires_at`` passes; nothing has to run for it.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from authz.scope import service_scope
from basics.errors import BadUserInput, NotFound
from basics.ids import decode_id
from resolvers import validation
from resolvers.context import RequestContext
from store.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingDraft,
    Service,
    Tenant,
)
from store.types import utcnow

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A longer window would let one anonymous request make the server build and
# count thousands of slots.
MAX_WINDOW = timedelta(days=31)
MAX_WINDOW_TEXT = "31 days"
# Nothing is bookable further ahead (the staff flow has the same limit).
BOOKABLE_AHEAD = timedelta(days=2 * 365)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class SlotView:
    starts_at: datetime
    ends_at: datetime
    remaining: int


def _clock(value: Any) -> tuple[int, int] | None:
    """``"HH:MM"`` as (hour, minute); ``"24:00"`` is the end of the day."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    h, m = int(hours), int(minutes)
    if (h, m) == (24, 0) or (h < 24 and m < 60):
        return h, m
    return None


def _instant(day: date, clock: tuple[int, int], zone: ZoneInfo) -> datetime:
    if clock == (24, 0):
        day, clock = day + timedelta(days=1), (0, 0)
    local = datetime.combine(day, time(clock[0], clock[1]), tzinfo=zone)
    return local.astimezone(UTC)


def opening_intervals(
    opening_hours: Mapping[str, Any] | None, timezone: str, start: datetime, end: datetime
) -> list[Interval]:
    """The opening intervals (UTC, sorted) that overlap ``[start, end)``.

    An interval whose closing time is not after its opening time runs past
    midnight into the next day. Malformed entries are ignored.
    """
    if not opening_hours:
        return []
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    found: list[Interval] = []
    while day <= last:
        for entry in opening_hours.get(DAY_KEYS[day.weekday()]) or []:
            if not isinstance(entry, list | tuple) or len(entry) != 2:
                continue
            opens, closes = _clock(entry[0]), _clock(entry[1])
            if opens is None or closes is None or opens == (24, 0):
                continue
            opens_at = _instant(day, opens, zone)
            closes_at = _instant(day, closes, zone)
            if closes_at <= opens_at:
                closes_at = _instant(day + timedelta(days=1), closes, zone)
            if opens_at < end and closes_at > start:
                found.append((opens_at, closes_at))
        day += timedelta(days=1)
    return sorted(found)


def slot_grid(
    opening_hours: Mapping[str, Any] | None,
    timezone: str,
    duration_minutes: int,
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """Slots stepped by ``duration_minutes`` from each opening, wholly inside the interval,
    starting in ``[start, end)``."""
    step = timedelta(minutes=duration_minutes)
    if step <= timedelta(0):
        return []
    slots: dict[datetime, datetime] = {}
    for opens_at, closes_at in opening_intervals(opening_hours, timezone, start, end + step):
        at = opens_at
        if at < start:
            at += step * -((opens_at - start) // step)  # first grid point at or after start
        while at + step <= closes_at and at < end:
            slots.setdefault(at, at + step)
            at += step
    return sorted(slots.items())


def within_opening_hours(
    opening_hours: Mapping[str, Any] | None, timezone: str, starts_at: datetime, ends_at: datetime
) -> bool:
    """Whether ``[starts_at, ends_at)`` lies inside the opening hours (adjoining intervals join)."""
    merged: list[list[datetime]] = []
    for opens_at, closes_at in opening_intervals(opening_hours, timezone, starts_at, ends_at):
        if merged and opens_at <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], closes_at)
        else:
            merged.append([opens_at, closes_at])
    return any(opens_at <= starts_at and ends_at <= closes_at for opens_at, closes_at in merged)


def is_slot_start(
    opening_hours: Mapping[str, Any] | None,
    timezone: str,
    duration_minutes: int,
    starts_at: datetime,
) -> bool:
    grid = slot_grid(
        opening_hours, timezone, duration_minutes, starts_at, starts_at + timedelta(microseconds=1)
    )
    return any(start == starts_at for start, _ in grid)


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


async def lock_service(tx: AsyncSession, service_id: str, tenant_id: str) -> Service | None:
    """Bump the service's ``booking_lock``: its row lock on PostgreSQL (SQLite's write
    transaction is already exclusive), taken before every capacity check and write."""
    bumped = await tx.execute(
        update(Service)
        .where(Service.id == service_id, Service.tenant_id == tenant_id)
        .values(booking_lock=Service.booking_lock + 1)
    )
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        return None
    return (await tx.execute(select(Service).where(Service.id == service_id))).scalar_one()


def _remaining(capacity: int, slots: list[Interval], taken: list[Interval]) -> list[SlotView]:
    """Capacity left per slot; ``taken`` is every booking and hold near the slots."""
    taken.sort()
    starts = [start for start, _ in taken]
    longest = max((end - start for start, end in taken), default=timedelta(0))
    out = []
    for slot_start, slot_end in slots:
        lo = bisect.bisect_right(starts, slot_start - longest)
        hi = bisect.bisect_left(starts, slot_end)
        overlapping = sum(1 for start, end in taken[lo:hi] if end > slot_start)
        out.append(SlotView(slot_start, slot_end, max(0, capacity - overlapping)))
    return out


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
                (Service.tenant_id == Tenant.id)
                & (Service.id == key)
                & service_scope(ctx.principal),
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
    taken = union_all(
        select(Booking.starts_at, Booking.ends_at).where(
            *_overlapping_bookings(service.id, first, last)
        ),
        select(BookingDraft.starts_at, BookingDraft.ends_at).where(
            *_live_holds(service.id, first, last, now)
        ),
    )
    rows = (await ctx.session.execute(select(taken.subquery()))).all()
    # UNION ALL loses the column type on SQLite; normalise to aware UTC.
    intervals = [(_utc(start_at), _utc(end_at)) for start_at, end_at in map(tuple, rows)]
    return _remaining(service.capacity_per_slot, slots, intervals)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
