"""Shops of their own for the online-booking tests, browsers with cookie jars, local times.

Each test module opens its own shops (tenants), so the shared world of
``tests/fixtures.py`` keeps exactly the rows other tests count on.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from basics.ids import encode_id
from basics.principal import STAFF_ROLES
from demo.rows import Rows
from identity import tokens
from store.engine import create_sessionmaker
from store.models import ACTIVE_BOOKING_STATUSES, Booking, BookingDraft, TenantKind
from store.types import utcnow
from tests.conftest import Backend

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
SHOP_HOURS: dict[str, list[list[str]]] = {
    **{day: [["07:00", "17:00"]] for day in WEEKDAYS},
    "sat": [["08:00", "12:00"]],
}
REFERENCE = r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$"

SLOTS = """query($slug: String!, $service: ID!, $from: DateTime!, $to: DateTime!) {
  availableSlots(tenantSlug: $slug, serviceId: $service, from: $from, to: $to) {
    startsAt endsAt remaining } }"""
DRAFT = "startsAt endsAt holdExpiresAt holdLive expiresAt tenant { slug } service { id name }"
START = f"""mutation($slug: String!, $service: ID!, $at: DateTime!) {{
  startBooking(tenantSlug: $slug, serviceId: $service, startsAt: $at) {{ draft {{ {DRAFT} }} }} }}"""
RESUME = f"query($slug: String) {{ resumeBooking(tenantSlug: $slug) {{ {DRAFT} }} }}"
COMPLETE = """mutation($input: CompleteBookingInput!) {
  completeBooking(input: $input) {
    reference startsAt endsAt tenant { slug } service { id } } }"""


@dataclass
class Shop:
    id: str
    slug: str
    services: dict[str, str] = field(default_factory=dict)
    raw_services: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


async def open_shop(
    backend: Backend,
    label: str,
    *,
    hours: dict[str, list[list[str]]] | None = None,
    services: dict[str, tuple[int, int]] | None = None,
    timezone: str = "Europe/Copenhagen",
) -> Shop:
    """A tenant with opening hours and services ``{key: (minutes, capacity)}``."""
    services = services if services is not None else {"main": (30, 1), "pair": (30, 2)}
    slug = f"{label}-{uuid.uuid4().hex[:8]}"
    rows = Rows()
    tenant_id = rows.tenant(
        slug=slug,
        name=label.title(),
        kind=TenantKind.INSPECTION_STATION,
        timezone=timezone,
        opening_hours=SHOP_HOURS if hours is None else hours,
    )
    ids = {
        key: rows.service(
            tenant_id,
            name=f"Ydelse {key}",
            duration_minutes=minutes,
            price_ore=50000,
            capacity_per_slot=capacity,
        )
        for key, (minutes, capacity) in services.items()
    }
    ids["retired"] = rows.service(
        tenant_id, name="Gammel ydelse", duration_minutes=30, price_ore=10000, active=False
    )
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        await rows.insert(session)
    return Shop(
        id=tenant_id,
        slug=slug,
        services={key: encode_id("Service", service) for key, service in ids.items()},
        raw_services=dict(ids),
        tokens={
            role: tokens.staff_token(
                backend.settings,
                subject=f"{role}@{slug}",
                tenant_id=tenant_id,
                tenant_slug=slug,
                role=role,
            )
            for role in sorted(STAFF_ROLES)
        },
    )


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = COPENHAGEN) -> datetime:
    """A wall-clock time in ``zone`` as an aware UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def next_weekday(weekday: int, *, at_least_days: int = 7) -> date:
    """The first ``weekday`` (0 = Monday) at least ``at_least_days`` from today in Copenhagen."""
    day = datetime.now(COPENHAGEN).date() + timedelta(days=at_least_days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of March or October (both have 31 days): when the clocks change."""
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def next_last_sunday(month: int) -> date:
    today = datetime.now(COPENHAGEN).date()
    for year in (today.year, today.year + 1):
        found = last_sunday(year, month)
        if found > today + timedelta(days=2):
            return found
    raise AssertionError("unreachable")


class SlotPicker:
    """Distinct weekday slot times (local 07:00-16:30 on the 30-minute grid), one per call."""

    def __init__(self, first_day: date) -> None:
        self._times = (
            local(first_day + timedelta(days=d), 7, 0) + timedelta(minutes=30 * i)
            for d in itertools.count()
            if (first_day + timedelta(days=d)).weekday() < 5
            for i in range(20)
        )

    def take(self) -> datetime:
        return next(self._times)


_addresses = itertools.count(1)


@asynccontextmanager
async def browser(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own: its own cookie jar and its own client address."""
    n = next(_addresses)
    address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def contact(**overrides: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    values = {
        "name": f"Online Kunde {tag}",
        "email": f"online-{tag}@example.dk",
        # +45 28xxxxxx: a Danish mobile range where every number is valid.
        "phone": f"+4528{int(tag, 16) % 1_000_000:06d}",
    }
    values.update(overrides)
    return values


def draft_id_of(http: httpx.AsyncClient) -> str:
    value = http.cookies.get("tg_draft")
    assert value, "no tg_draft cookie"
    return value.split(".")[0]


async def active_bookings(backend: Backend, service_id: str, starts_at: datetime) -> int:
    async with create_sessionmaker(backend.engine)() as session:
        return int(
            (
                await session.execute(
                    select(func.count()).where(
                        Booking.service_id == service_id,
                        Booking.starts_at == starts_at,
                        Booking.status.in_(ACTIVE_BOOKING_STATUSES),
                    )
                )
            ).scalar_one()
        )


async def drafts_of(backend: Backend, service_id: str) -> list[BookingDraft]:
    async with create_sessionmaker(backend.engine)() as session:
        return list(
            (
                await session.execute(
                    select(BookingDraft).where(BookingDraft.service_id == service_id)
                )
            ).scalars()
        )


async def live_holds(backend: Backend, service_id: str, starts_at: datetime) -> int:
    now = utcnow()
    return sum(
        1
        for d in await drafts_of(backend, service_id)
        if d.starts_at == starts_at and d.completed_at is None and d.hold_expires_at > now
    )
