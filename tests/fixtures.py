"""A small, hand-written world of two tenants that the tests reason about.

Anna is a customer at both tenants with the same email, so a data subject's
view spans businesses; every other person is a customer at one tenant only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from basics.ids import encode_id
from basics.principal import DenialStyle
from basics.settings import Settings
from identity import tokens
from identity.apikeys import create_api_key
from store.models import (
    Booking,
    BookingChannel,
    BookingStatus,
    CreatedVia,
    Customer,
    Document,
    DocumentKind,
    Service,
    Tenant,
    TenantKind,
    Vehicle,
)
from store.types import new_id, utcnow

HOURS = {d: [["07:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@dataclass
class TenantWorld:
    """Global ids and credentials for one tenant's part of the world."""

    id: str
    slug: str
    services: dict[str, str] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)
    vehicles: dict[str, str] = field(default_factory=dict)
    bookings: dict[str, str] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)
    raw_ids: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    a: TenantWorld
    b: TenantWorld
    subject_tokens: dict[str, str]
    platform_token: str
    settings: Settings


def _content(text: str) -> tuple[bytes, str]:
    raw = text.encode()
    return raw, hashlib.sha256(raw).hexdigest()


async def _tenant(
    session: AsyncSession,
    slug: str,
    name: str,
    kind: TenantKind,
    people: list[tuple[str, str, str]],
) -> TenantWorld:
    tenant = Tenant(
        id=new_id(),
        slug=slug,
        name=name,
        kind=kind,
        description=f"{name} i Danmark",
        address="Testvej 1, 8000 Aarhus C",
        contact_phone="+4570000000",
        contact_email=f"kontakt@{slug}.example.dk",
        opening_hours=HOURS,
    )
    session.add(tenant)
    tw = TenantWorld(id=tenant.id, slug=slug)
    main = Service(
        id=new_id(),
        tenant_id=tenant.id,
        name="Periodisk syn",
        duration_minutes=30,
        price_ore=55000,
        capacity_per_slot=1,
    )
    shared = Service(
        id=new_id(),
        tenant_id=tenant.id,
        name="Omsyn",
        duration_minutes=30,
        price_ore=25000,
        capacity_per_slot=2,
    )
    hidden = Service(
        id=new_id(),
        tenant_id=tenant.id,
        name="Gammel ydelse",
        duration_minutes=30,
        price_ore=10000,
        capacity_per_slot=1,
        active=False,
    )
    session.add_all([main, shared, hidden])
    await session.flush()
    tw.services = {
        "main": encode_id("Service", main.id),
        "shared": encode_id("Service", shared.id),
        "inactive": encode_id("Service", hidden.id),
    }
    base = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    for index, (key, person, email) in enumerate(people):
        customer = Customer(
            id=new_id(),
            tenant_id=tenant.id,
            name=person,
            email=email,
            phone=f"+452{index}{len(slug):02d}4567"[:11],
            created_via=CreatedVia.ONLINE,
        )
        vehicle = Vehicle(
            id=new_id(),
            tenant_id=tenant.id,
            owner_id=customer.id,
            registration=f"{slug[:2].upper()}1234{index}",
            vin=f"WVWZZZ1JZ{index}W00000{index}"[:17],
            make="Volkswagen",
            model="Golf",
            first_registration_date=date(2015, 5, 1),
        )
        past = Booking(
            id=new_id(),
            tenant_id=tenant.id,
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            service_id=main.id,
            starts_at=base + timedelta(days=index),
            ends_at=base + timedelta(days=index, minutes=30),
            status=BookingStatus.COMPLETED,
            reference=f"PAST-{index:04d}",
            customer_notes="Kommer lidt før",
            internal_notes="Kunden var flink",
            price_ore=55000,
            channel=BookingChannel.ONLINE,
            created_by="test",
        )
        future_start = utcnow().replace(microsecond=0) + timedelta(days=30 + index)
        future = Booking(
            id=new_id(),
            tenant_id=tenant.id,
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            service_id=shared.id,
            starts_at=future_start,
            ends_at=future_start + timedelta(minutes=30),
            status=BookingStatus.CONFIRMED,
            reference=f"NEXT-{index:04d}",
            price_ore=25000,
            channel=BookingChannel.PHONE,
            created_by="test",
        )
        invoice_bytes, invoice_hash = _content(f"Faktura {slug} {person}: 550,00 kr inkl. moms")
        report_bytes, report_hash = _content(f"Synsrapport {vehicle.registration}: Godkendt")
        invoice = Document(
            id=new_id(),
            tenant_id=tenant.id,
            booking_id=past.id,
            customer_id=customer.id,
            kind=DocumentKind.INVOICE,
            title=f"Faktura {index}",
            issued_at=past.ends_at,
            mime_type="text/plain",
            size_bytes=len(invoice_bytes),
            sha256=invoice_hash,
            content=invoice_bytes,
            retain_until=date(2030, 12, 31),
            created_by="test",
        )
        report = Document(
            id=new_id(),
            tenant_id=tenant.id,
            booking_id=past.id,
            customer_id=customer.id,
            kind=DocumentKind.INSPECTION_REPORT,
            title=f"Synsrapport {index}",
            issued_at=past.ends_at,
            mime_type="text/plain",
            size_bytes=len(report_bytes),
            sha256=report_hash,
            content=report_bytes,
            created_by="test",
        )
        # Flushed parent first: the models declare no relationships to order inserts by.
        for batch in ([customer], [vehicle], [past, future], [invoice, report]):
            session.add_all(batch)
            await session.flush()
        tw.customers[key] = encode_id("Customer", customer.id)
        tw.vehicles[key] = encode_id("Vehicle", vehicle.id)
        tw.bookings[f"{key}-past"] = encode_id("Booking", past.id)
        tw.bookings[f"{key}-future"] = encode_id("Booking", future.id)
        tw.documents[f"{key}-invoice"] = encode_id("Document", invoice.id)
        tw.documents[f"{key}-report"] = encode_id("Document", report.id)
        tw.raw_ids[f"customer-{key}"] = customer.id
    return tw


async def build_world(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> World:
    async with sessions() as session, session.begin():
        a = await _tenant(
            session,
            "alpha-syn",
            "Alpha Syn",
            TenantKind.INSPECTION_STATION,
            [
                ("anna", "Anna Jensen", "anna@example.dk"),
                ("bo", "Bo Nielsen", "bo@example.dk"),
                ("dora", "Dora Hansen", "dora@example.com"),
            ],
        )
        b = await _tenant(
            session,
            "beta-vaerksted",
            "Beta Værksted",
            TenantKind.WORKSHOP,
            [
                ("anna", "Anna Jensen", "anna@example.dk"),
                ("carl", "Carl Larsen", "carl@example.net"),
            ],
        )
    for tw in (a, b):
        for role in ("tenant_admin", "staff", "inspector"):
            tw.tokens[role] = tokens.staff_token(
                settings,
                subject=f"{role}@{tw.slug}",
                tenant_id=tw.id,
                tenant_slug=tw.slug,
                role=role,
            )
        async with sessions() as session, session.begin():
            tenant = await session.get(Tenant, tw.id)
            assert tenant is not None
            for role in ("partner_accounting", "partner_reminders"):
                created = await create_api_key(
                    session, tenant=tenant, role=role, name=f"{role} key"
                )
                tw.api_keys[role] = created.plaintext
            partial = await create_api_key(
                session,
                tenant=tenant,
                role="partner_reminders",
                name="partial key",
                denial_style=DenialStyle.PARTIAL,
            )
            tw.api_keys["partner_reminders_partial"] = partial.plaintext
            revoked = await create_api_key(
                session, tenant=tenant, role="partner_accounting", name="old key"
            )
            revoked.key.revoked_at = utcnow()
            tw.api_keys["revoked"] = revoked.plaintext
    return World(
        a=a,
        b=b,
        subject_tokens={
            email.split("@")[0]: tokens.subject_token(settings, email=email)
            for email in ("anna@example.dk", "carl@example.net", "nobody@example.org")
        },
        platform_token=tokens.platform_token(settings),
        settings=settings,
    )
