"""Two businesses of a test module's own, and one person who booked at both."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from basics.ids import encode_id
from basics.settings import Settings
from demo.rows import Rows
from identity import tokens
from identity.apikeys import create_api_key
from store.models import BookingChannel, BookingStatus, DocumentKind, Tenant, TenantKind
from store.types import utcnow


@dataclass
class Business:
    id: str
    slug: str
    admin: str
    staff: str
    reminders_key: str
    accounting_key: str
    service: str
    customer: str
    customer_key: str
    vehicle: str
    bookings: list[str] = field(default_factory=list)
    invoice: str = ""
    report: str = ""


@dataclass
class PrivacyWorld:
    email: str
    subject: str
    first: Business
    second: Business


def _rows(rows: Rows, label: str, email: str, phone: str, plate: str) -> dict[str, str]:
    """One workshop with Pia as its customer: a car, a past and a future booking, an invoice
    and a work report; returns the new ids by name."""
    slug = f"{label}-{uuid.uuid4().hex[:8]}"
    tenant = rows.tenant(
        slug=slug,
        name=f"{label.title()} ApS",
        kind=TenantKind.WORKSHOP,
        address="Privatvej 2, 7100 Vejle",
        contact_email=f"info@{slug}.example.dk",
        contact_phone="+4575000000",
    )
    service = rows.service(
        tenant, name="Service", duration_minutes=60, price_ore=120000, capacity_per_slot=3
    )
    customer = rows.customer(
        tenant,
        name="Pia Privat",
        email=email,
        phone=phone,
        street="Hemmeligvej 7",
        postal_code="7100",
        city="Vejle",
    )
    vehicle = rows.vehicle(
        tenant,
        customer,
        registration=plate,
        vin="YV1PZ7XK0A1234567"[:-1] + plate[-1],
        make="Volvo",
        model="V60",
        first_registration_date=date(2019, 4, 1),
    )
    booking: dict[str, Any] = {
        "tenant_id": tenant,
        "customer_id": customer,
        "vehicle_id": vehicle,
        "service_id": service,
        "minutes": 60,
        "price_ore": 120000,
        "created_by": "test",
    }
    past_start = datetime(2025, 6, 2, 8, tzinfo=UTC)
    past = rows.booking(
        **booking,
        starts_at=past_start,
        status=BookingStatus.COMPLETED,
        reference=f"P{uuid.uuid4().hex[:7].upper()}",
        customer_notes="Bremserne hviner",
        internal_notes="Kunden er utilfreds",
        channel=BookingChannel.ONLINE,
    )
    future = rows.booking(
        **booking,
        starts_at=utcnow().replace(microsecond=0) + timedelta(days=20),
        status=BookingStatus.CONFIRMED,
        reference=f"F{uuid.uuid4().hex[:7].upper()}",
        channel=BookingChannel.PHONE,
    )
    document: dict[str, Any] = {
        "booking_id": past,
        "customer_id": customer,
        "issued_at": past_start + timedelta(hours=1),
        "mime_type": "text/plain",
        "created_by": "test",
    }
    invoice = rows.document(
        tenant,
        **document,
        kind=DocumentKind.INVOICE,
        title="Faktura 1",
        content=f"Faktura {slug}: Pia Privat, Hemmeligvej 7, {plate}: 1.200,00 kr".encode(),
        retain_until=date(2030, 12, 31),
    )
    report = rows.document(
        tenant,
        **document,
        kind=DocumentKind.OTHER,
        title="Arbejdsrapport",
        content=f"Arbejdsrapport {plate}: bremser skiftet".encode(),
    )
    return {
        "tenant": tenant,
        "slug": slug,
        "label": label,
        "service": service,
        "customer": customer,
        "vehicle": vehicle,
        "past": past,
        "future": future,
        "invoice": invoice,
        "report": report,
    }


async def _business(session: AsyncSession, settings: Settings, ids: dict[str, str]) -> Business:
    """Credentials for the business's staff and partners."""
    tenant = await session.get(Tenant, ids["tenant"])
    assert tenant is not None
    slug, label = ids["slug"], ids["label"]
    reminders = await create_api_key(
        session, tenant=tenant, role="partner_reminders", name=f"SMS {label}"
    )
    accounting = await create_api_key(
        session, tenant=tenant, role="partner_accounting", name=f"Regnskab {label}"
    )
    return Business(
        id=tenant.id,
        slug=slug,
        admin=tokens.staff_token(
            settings,
            subject=f"admin@{slug}",
            tenant_id=tenant.id,
            tenant_slug=slug,
            role="tenant_admin",
        ),
        staff=tokens.staff_token(
            settings, subject=f"staff@{slug}", tenant_id=tenant.id, tenant_slug=slug, role="staff"
        ),
        reminders_key=reminders.plaintext,
        accounting_key=accounting.plaintext,
        service=encode_id("Service", ids["service"]),
        customer=encode_id("Customer", ids["customer"]),
        customer_key=ids["customer"],
        vehicle=encode_id("Vehicle", ids["vehicle"]),
        bookings=[encode_id("Booking", ids["past"]), encode_id("Booking", ids["future"])],
        invoice=encode_id("Document", ids["invoice"]),
        report=encode_id("Document", ids["report"]),
    )


async def build_privacy_world(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, label: str
) -> PrivacyWorld:
    email = f"pia.{uuid.uuid4().hex[:8]}@example.org"
    rows = Rows()
    one = _rows(rows, f"{label}-one", email, "+4531234567", "PX11111")
    two = _rows(rows, f"{label}-two", email, "+4531234567", "PX22222")
    async with sessions() as session, session.begin():
        await rows.insert(session)
        first = await _business(session, settings, one)
        second = await _business(session, settings, two)
    return PrivacyWorld(
        email=email, subject=tokens.subject_token(settings, email=email), first=first, second=second
    )
