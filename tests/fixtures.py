"""A small, hand-written world of two tenants that the tests reason about.

Anna is a customer at both tenants with the same email, so a data subject's
view spans businesses; every other person is a customer at one tenant only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from basics.ids import encode_id
from basics.principal import DenialStyle
from basics.settings import Settings
from demo.rows import Rows
from identity import tokens
from identity.apikeys import create_api_key
from store.models import BookingChannel, BookingStatus, DocumentKind, Tenant, TenantKind
from store.types import utcnow

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


def _tenant(
    rows: Rows, slug: str, name: str, kind: TenantKind, people: list[tuple[str, str, str]]
) -> TenantWorld:
    tenant_id = rows.tenant(
        slug=slug,
        name=name,
        kind=kind,
        description=f"{name} i Danmark",
        address="Testvej 1, 8000 Aarhus C",
        contact_phone="+4570000000",
        contact_email=f"kontakt@{slug}.example.dk",
        opening_hours=HOURS,
    )
    tw = TenantWorld(id=tenant_id, slug=slug)
    main = rows.service(tenant_id, name="Periodisk syn", duration_minutes=30, price_ore=55000)
    shared = rows.service(
        tenant_id, name="Omsyn", duration_minutes=30, price_ore=25000, capacity_per_slot=2
    )
    hidden = rows.service(
        tenant_id, name="Gammel ydelse", duration_minutes=30, price_ore=10000, active=False
    )
    tw.services = {
        "main": encode_id("Service", main),
        "shared": encode_id("Service", shared),
        "inactive": encode_id("Service", hidden),
    }
    base = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    for index, (key, person, email) in enumerate(people):
        customer = rows.customer(
            tenant_id, name=person, email=email, phone=f"+452{index}{len(slug):02d}4567"[:11]
        )
        registration = f"{slug[:2].upper()}1234{index}"
        vehicle = rows.vehicle(
            tenant_id,
            customer,
            registration=registration,
            vin=f"WVWZZZ1JZ{index}W00000{index}"[:17],
            make="Volkswagen",
            model="Golf",
            first_registration_date=date(2015, 5, 1),
        )
        past_start = base + timedelta(days=index)
        past = rows.booking(
            tenant_id,
            customer_id=customer,
            vehicle_id=vehicle,
            service_id=main,
            starts_at=past_start,
            minutes=30,
            status=BookingStatus.COMPLETED,
            reference=f"PAST-{index:04d}",
            customer_notes="Kommer lidt før",
            internal_notes="Kunden var flink",
            price_ore=55000,
            created_by="test",
        )
        future = rows.booking(
            tenant_id,
            customer_id=customer,
            vehicle_id=vehicle,
            service_id=shared,
            starts_at=utcnow().replace(microsecond=0) + timedelta(days=30 + index),
            minutes=30,
            status=BookingStatus.CONFIRMED,
            reference=f"NEXT-{index:04d}",
            price_ore=25000,
            channel=BookingChannel.PHONE,
            created_by="test",
        )
        issued = past_start + timedelta(minutes=30)
        documents = {
            "invoice": (
                DocumentKind.INVOICE,
                f"Faktura {index}",
                f"Faktura {slug} {person}: 550,00 kr inkl. moms",
                date(2030, 12, 31),
            ),
            "report": (
                DocumentKind.INSPECTION_REPORT,
                f"Synsrapport {index}",
                f"Synsrapport {registration}: Godkendt",
                None,
            ),
        }
        for name_, (kind_, title, text, retain_until) in documents.items():
            document = rows.document(
                tenant_id,
                booking_id=past,
                customer_id=customer,
                kind=kind_,
                title=title,
                content=text.encode(),
                issued_at=issued,
                mime_type="text/plain",
                retain_until=retain_until,
                created_by="test",
            )
            tw.documents[f"{key}-{name_}"] = encode_id("Document", document)
        tw.customers[key] = encode_id("Customer", customer)
        tw.vehicles[key] = encode_id("Vehicle", vehicle)
        tw.bookings[f"{key}-past"] = encode_id("Booking", past)
        tw.bookings[f"{key}-future"] = encode_id("Booking", future)
        tw.raw_ids[f"customer-{key}"] = customer
    return tw


async def build_world(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> World:
    rows = Rows()
    a = _tenant(
        rows,
        "alpha-syn",
        "Alpha Syn",
        TenantKind.INSPECTION_STATION,
        [
            ("anna", "Anna Jensen", "anna@example.dk"),
            ("bo", "Bo Nielsen", "bo@example.dk"),
            ("dora", "Dora Hansen", "dora@example.com"),
        ],
    )
    b = _tenant(
        rows,
        "beta-vaerksted",
        "Beta Værksted",
        TenantKind.WORKSHOP,
        [
            ("anna", "Anna Jensen", "anna@example.dk"),
            ("carl", "Carl Larsen", "carl@example.net"),
        ],
    )
    async with sessions() as session, session.begin():
        await rows.insert(session)
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
