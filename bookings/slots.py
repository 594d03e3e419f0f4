"""The slot grid: a service's duration stepped through the tenant's opening hours.

Opening hours are wall-clock times in the tenant's zone (``Tenant.timezone``).
Each day's interval is turned into two UTC instants with ``zoneinfo`` and the
grid is stepped in elapsed time from the opening instant, so a day on which
the clocks change has exactly as many slots as it has hours: the last Sunday of
March one hour fewer, the last Sunday of October one more, when an interval
spans the change. A wall-clock time that does not exist that day (02:30 when
the clocks jump to 03:00) is read with the offset in force before the change;
an ambiguous one (02:30 when 03:00 falls back to 02:00) as its first occurrence.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Nothing is bookable further ahead, by staff or online.
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


def remaining(capacity: int, slots: list[Interval], taken: list[Interval]) -> list[SlotView]:
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
