"""Two businesses of a test module's own, and one person who booked at both."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from basics.ids import encode_id
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


async def _business(
    session: AsyncSession, settings: Settings, label: str, email: str, phone: str, plate: str
) -> Business:
    slug = f"{label}-{uuid.uuid4().hex[:8]}"
    tenant = Tenant(
        id=new_id(),
        slug=slug,
        name=f"{label.title()} ApS",
        kind=TenantKind.WORKSHOP,
        address="Privatvej 2, 7100 Vejle",
        contact_email=f"info@{slug}.example.dk",
        contact_phone="+4575000000",
    )
    session.add(tenant)
    service = Service(
        id=new_id(),
        tenant_id=tenant.id,
        name="Service",
        duration_minutes=60,
        price_ore=120000,
        capacity_per_slot=3,
    )
    customer = Customer(
        id=new_id(),
        tenant_id=tenant.id,
        name="Pia Privat",
        email=email,
        phone=phone,
        street="Hemmeligvej 7",
        postal_code="7100",
        city="Vejle",
        created_via=CreatedVia.ONLINE,
    )
    vehicle = Vehicle(
        id=new_id(),
        tenant_id=tenant.id,
        owner_id=customer.id,
        registration=plate,
        vin="YV1PZ7XK0A1234567"[:-1] + plate[-1],
        make="Volvo",
        model="V60",
        first_registration_date=date(2019, 4, 1),
    )
    past_start = datetime(2025, 6, 2, 8, tzinfo=UTC)
    past = Booking(
        id=new_id(),
        tenant_id=tenant.id,
        customer_id=customer.id,
        vehicle_id=vehicle.id,
        service_id=service.id,
        starts_at=past_start,
        ends_at=past_start + timedelta(hours=1),
        status=BookingStatus.COMPLETED,
        reference=f"P{uuid.uuid4().hex[:7].upper()}",
        customer_notes="Bremserne hviner",
        internal_notes="Kunden er utilfreds",
        price_ore=120000,
        channel=BookingChannel.ONLINE,
        created_by="test",
    )
    future_start = utcnow().replace(microsecond=0) + timedelta(days=20)
    future = Booking(
        id=new_id(),
        tenant_id=tenant.id,
        customer_id=customer.id,
        vehicle_id=vehicle.id,
        service_id=service.id,
        starts_at=future_start,
        ends_at=future_start + timedelta(hours=1),
        status=BookingStatus.CONFIRMED,
        reference=f"F{uuid.uuid4().hex[:7].upper()}",
        price_ore=120000,
        channel=BookingChannel.PHONE,
        created_by="test",
    )
    invoice_text = f"Faktura {slug}: Pia Privat, Hemmeligvej 7, {plate}: 1.200,00 kr".encode()
    invoice = Document(
        id=new_id(),
        tenant_id=tenant.id,
        booking_id=past.id,
        customer_id=customer.id,
        kind=DocumentKind.INVOICE,
        title="Faktura 1",
        issued_at=past.ends_at,
        mime_type="text/plain",
        size_bytes=len(invoice_text),
        sha256=__import__("hashlib").sha256(invoice_text).hexdigest(),
        content=invoice_text,
        retain_until=date(2030, 12, 31),
        created_by="test",
    )
    report_text = f"Arbejdsrapport {plate}: bremser skiftet".encode()
    report = Document(
        id=new_id(),
        tenant_id=tenant.id,
        booking_id=past.id,
        customer_id=customer.id,
        kind=DocumentKind.OTHER,
        title="Arbejdsrapport",
        issued_at=past.ends_at,
        mime_type="text/plain",
        size_bytes=len(report_text),
        sha256=__import__("hashlib").sha256(report_text).hexdigest(),
        content=report_text,
        created_by="test",
    )
    session.add_all([service, customer, vehicle, past, future, invoice, report])
    await session.flush()
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
        service=encode_id("Service", service.id),
        customer=encode_id("Customer", customer.id),
        customer_key=customer.id,
        vehicle=encode_id("Vehicle", vehicle.id),
        bookings=[encode_id("Booking", past.id), encode_id("Booking", future.id)],
        invoice=encode_id("Document", invoice.id),
        report=encode_id("Document", report.id),
    )


async def build_privacy_world(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, label: str
) -> PrivacyWorld:
    email = f"pia.{uuid.uuid4().hex[:8]}@example.org"
    async with sessions() as session, session.begin():
        first = await _business(session, settings, f"{label}-one", email, "+4531234567", "PX11111")
        second = await _business(session, settings, f"{label}-two", email, "+4531234567", "PX22222")
    return PrivacyWorld(
        email=email, subject=tokens.subject_token(settings, email=email), first=first, second=second
    )
