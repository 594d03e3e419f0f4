"""The demo data must look real and obey the same rules as data entered through the API."""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from demo import DEMO_SUBJECT_EMAIL, DEMO_TENANT_SLUGS, DemoSummary, seed_demo
from store.engine import create_engine, create_sessionmaker
from store.migrate import upgrade
from store.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingStatus,
    Customer,
    Document,
    DocumentKind,
    Service,
    Tenant,
    TenantKind,
    Vehicle,
)

CUSTOMERS_PER_TENANT = 30
NOW = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
REGISTRATION = re.compile(r"^[A-Z]{2}[0-9]{5}$")
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
async def session_factory(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = "sqlite+aiosqlite:///" + str(tmp_path / "demo.db")
    upgrade(url)
    engine = create_engine(url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def seeded(
    session_factory: async_sessionmaker[AsyncSession],
) -> tuple[async_sessionmaker[AsyncSession], DemoSummary]:
    summary = await seed_demo(session_factory, customers_per_tenant=CUSTOMERS_PER_TENANT, now=NOW)
    return session_factory, summary


async def test_tenants_and_counts(
    seeded: tuple[async_sessionmaker[AsyncSession], DemoSummary],
) -> None:
    session_factory, summary = seeded
    assert summary.created
    assert summary.tenants == 3
    assert summary.customers == 3 * CUSTOMERS_PER_TENANT
    assert summary.vehicles > 0 and summary.bookings > summary.customers
    async with session_factory() as session:
        tenants = (await session.scalars(select(Tenant))).all()
    kinds = {t.slug: t.kind for t in tenants}
    assert set(kinds) == set(DEMO_TENANT_SLUGS)
    assert sorted(kinds.values()) == sorted(
        [TenantKind.INSPECTION_STATION, TenantKind.INSPECTION_STATION, TenantKind.WORKSHOP]
    )
    for tenant in tenants:
        assert tenant.timezone == "Europe/Copenhagen"
        assert set(tenant.opening_hours) == set(WEEKDAYS)


async def test_contact_data_is_valid(
    seeded: tuple[async_sessionmaker[AsyncSession], DemoSummary],
) -> None:
    session_factory, _ = seeded
    async with session_factory() as session:
        customers = (await session.scalars(select(Customer))).all()
        vehicles = (await session.scalars(select(Vehicle))).all()
    for customer in customers:
        assert customer.phone is not None
        assert phonenumbers.is_valid_number(phonenumbers.parse(customer.phone, "DK"))
        assert customer.phone.startswith("+45") and len(customer.phone) == 11
        if customer.email is not None:
            assert customer.email == customer.email.lower()
            assert customer.email.rsplit("@", 1)[1] in {
                "example.dk",
                "example.com",
                "example.net",
            }
        if customer.postal_code is not None:
            assert re.fullmatch(r"\d{4}", customer.postal_code)
    assert vehicles
    for vehicle in vehicles:
        assert vehicle.registration is not None and REGISTRATION.match(vehicle.registration)
        assert vehicle.vin is not None and VIN.match(vehicle.vin)


async def test_bookings_respect_hours_and_capacity(
    seeded: tuple[async_sessionmaker[AsyncSession], DemoSummary],
) -> None:
    session_factory, _ = seeded
    async with session_factory() as session:
        tenants = {t.id: t for t in (await session.scalars(select(Tenant))).all()}
        services = {s.id: s for s in (await session.scalars(select(Service))).all()}
        bookings = (await session.scalars(select(Booking))).all()
    active: Counter[tuple[str, datetime]] = Counter(
        (b.service_id, b.starts_at) for b in bookings if b.status in ACTIVE_BOOKING_STATUSES
    )
    for (service_id, _starts_at), count in active.items():
        assert count <= services[service_id].capacity_per_slot

    references: set[tuple[str, str]] = set()
    for booking in bookings:
        service = services[booking.service_id]
        tenant = tenants[booking.tenant_id]
        assert booking.ends_at - booking.starts_at == timedelta(minutes=service.duration_minutes)
        assert booking.price_ore == service.price_ore
        assert (booking.tenant_id, booking.reference) not in references
        references.add((booking.tenant_id, booking.reference))
        if booking.starts_at > NOW:
            assert booking.status in ACTIVE_BOOKING_STATUSES
        else:
            assert booking.status not in ACTIVE_BOOKING_STATUSES
        # Inside one opening interval and on the service's duration grid.
        tz = ZoneInfo(tenant.timezone)
        start, end = booking.starts_at.astimezone(tz), booking.ends_at.astimezone(tz)
        intervals = tenant.opening_hours[WEEKDAYS[start.weekday()]]
        fits = False
        for opens, closes in intervals:
            open_at = datetime.combine(start.date(), time.fromisoformat(opens), tz)
            close_at = datetime.combine(start.date(), time.fromisoformat(closes), tz)
            minutes = (start - open_at).total_seconds() / 60
            if open_at <= start and end <= close_at and minutes % service.duration_minutes == 0:
                fits = True
        assert fits, (tenant.slug, service.name, start)


async def test_data_subject_spans_tenants(
    seeded: tuple[async_sessionmaker[AsyncSession], DemoSummary],
) -> None:
    session_factory, _ = seeded
    async with session_factory() as session:
        customers = (await session.scalars(select(Customer))).all()
        subject = [c for c in customers if c.email == DEMO_SUBJECT_EMAIL]
        subject_ids = [c.id for c in subject]
        bookings = (
            await session.scalars(select(Booking).where(Booking.customer_id.in_(subject_ids)))
        ).all()
        vehicles = (
            await session.scalars(select(Vehicle).where(Vehicle.owner_id.in_(subject_ids)))
        ).all()
        invoices = (
            await session.scalars(
                select(Document).where(
                    Document.customer_id.in_(subject_ids), Document.kind == DocumentKind.INVOICE
                )
            )
        ).all()
    assert len({c.tenant_id for c in subject}) == 2
    assert {c.name for c in subject} == {"Mette Sørensen"}
    for customer in subject:
        assert any(b.customer_id == customer.id for b in bookings)
        assert any(v.owner_id == customer.id for v in vehicles)
        assert any(d.customer_id == customer.id for d in invoices)

    tenants_by_email: defaultdict[str, set[str]] = defaultdict(set)
    names_by_email: defaultdict[str, set[str]] = defaultdict(set)
    for customer in customers:
        if customer.email is not None:
            tenants_by_email[customer.email].add(customer.tenant_id)
            names_by_email[customer.email].add(customer.name)
    shared = {e for e, t in tenants_by_email.items() if len(t) > 1} - {DEMO_SUBJECT_EMAIL}
    assert shared
    assert all(len(names_by_email[e]) == 1 for e in shared)


async def test_documents(
    seeded: tuple[async_sessionmaker[AsyncSession], DemoSummary],
) -> None:
    session_factory, _ = seeded
    async with session_factory() as session:
        tenants = {t.id: t for t in (await session.scalars(select(Tenant))).all()}
        bookings = {b.id: b for b in (await session.scalars(select(Booking))).all()}
        documents = (await session.scalars(select(Document))).all()
        rows = await session.execute(select(Document.id, Document.content))
        contents = {document_id: content for document_id, content in rows}
    invoiced = set()
    for document in documents:
        content = contents[document.id]
        assert hashlib.sha256(content).hexdigest() == document.sha256
        assert len(content) == document.size_bytes
        assert document.booking_id is not None
        booking = bookings[document.booking_id]
        assert booking.status is BookingStatus.COMPLETED
        assert document.issued_at == booking.ends_at
        text = content.decode("utf-8")
        if document.kind is DocumentKind.INVOICE:
            invoiced.add(booking.id)
            assert document.retain_until is not None
            assert document.retain_until.year == document.issued_at.year + 5
            assert "CVR-nr." in text and "Moms 25 %" in text
        else:
            assert document.kind is DocumentKind.INSPECTION_REPORT
            assert tenants[document.tenant_id].kind is TenantKind.INSPECTION_STATION
            assert document.retain_until is None
            assert "Godkendt" in text or "Omsyn påkrævet" in text
    completed = {b.id for b in bookings.values() if b.status is BookingStatus.COMPLETED}
    assert invoiced == completed


async def test_seeding_is_idempotent(
    seeded: tuple[async_sessionmaker[AsyncSession], DemoSummary],
) -> None:
    session_factory, first = seeded
    again = await seed_demo(session_factory, customers_per_tenant=CUSTOMERS_PER_TENANT, now=NOW)
    assert not again.created
    assert again == DemoSummary(**{**first.__dict__, "created": False})


async def test_seeding_is_deterministic(tmp_path: Path) -> None:
    snapshots = []
    for name in ("a.db", "b.db"):
        url = "sqlite+aiosqlite:///" + str(tmp_path / name)
        upgrade(url)
        engine = create_engine(url)
        try:
            factory = create_sessionmaker(engine)
            await seed_demo(factory, customers_per_tenant=5, now=NOW)
            async with factory() as session:
                rows = await session.execute(
                    select(Booking.reference, Booking.starts_at, Customer.email)
                    .join(Customer, Customer.id == Booking.customer_id)
                    .order_by(Booking.reference)
                )
                snapshots.append(rows.all())
        finally:
            await engine.dispose()
    assert snapshots[0] == snapshots[1]
