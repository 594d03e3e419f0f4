"""A synthetic booking dataset of any size, for benchmarks: the same row builder as the
demo, with plain names so that growth compares like with like.

Per tenant: ``bookings_per_tenant`` bookings over the services, one customer per
two bookings, one vehicle per customer, one document per two bookings. Besides
these, named people the benchmark needs: two data subjects with 10 bookings at
each of two businesses (one for ``myData``, one for the export, whose privacy
requests grow with every export), and customers to erase, one per erasure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from demo import content
from demo.rows import Rows
from store.models import BookingStatus, CreatedVia, DocumentKind, TenantKind

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
STATUSES = (
    BookingStatus.COMPLETED,
    BookingStatus.COMPLETED,
    BookingStatus.CONFIRMED,
    BookingStatus.CANCELLED,
)
SUBJECT_BOOKINGS_PER_BUSINESS = 10
CREATED_BY = "bench"


def search_term() -> str:
    """A surname one customer in ``len(last_names)`` carries: what staff type into search."""
    return str(content.load("synthetic")["search_term"])


@dataclass
class SeededTenant:
    id: str
    slug: str
    services: list[str] = field(default_factory=list)
    booking_ids: list[str] = field(default_factory=list)
    erasable_customer_ids: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    tenants: list[SeededTenant]
    my_data_email: str
    export_email: str
    counts: dict[str, int]


class _Builder:
    """Numbered customers, cars and bookings on top of ``Rows``."""

    def __init__(self) -> None:
        self.rows = Rows()
        self.plates = 0
        data = content.load("synthetic")
        self.first_names: list[str] = data["first_names"]
        self.last_names: list[str] = data["last_names"]
        self.makes: list[list[str]] = data["makes"]
        self.services: list[dict[str, int | str]] = data["services"]

    def tenant(self, index: int) -> SeededTenant:
        slug = f"bench-{index}"
        tenant = SeededTenant(
            self.rows.tenant(
                slug=slug,
                name=f"Bench {index} ApS",
                kind=TenantKind.INSPECTION_STATION,
                address=f"Benchvej {index}, 8000 Aarhus C",
                contact_phone="+4586000000",
                contact_email=f"info@{slug}.example.dk",
                opening_hours={},
            ),
            slug,
        )
        for service in self.services:
            tenant.services.append(
                self.rows.service(
                    tenant.id,
                    name=str(service["name"]),
                    duration_minutes=int(service["duration_minutes"]),
                    price_ore=int(service["price_ore"]),
                    capacity_per_slot=2,
                )
            )
        return tenant

    def customer(self, tenant: SeededTenant, number: int, email: str | None = None) -> str:
        # Every surname recurs every len(last_names) customers, so a search for
        # one finds the same share of rows at every dataset size.
        first = self.first_names[(number + number // len(self.last_names)) % len(self.first_names)]
        return self.rows.customer(
            tenant.id,
            name=f"{first} {self.last_names[number % len(self.last_names)]}",
            email=email or f"kunde{number}@{tenant.slug}.example.dk",
            phone=f"+45{20000000 + number:08d}",
            street=f"Vej {number % 200}",
            postal_code="8000",
            city="Aarhus C",
            created_via=CreatedVia.ONLINE if number % 3 else CreatedVia.PHONE,
        )

    def vehicle(self, tenant: SeededTenant, owner_id: str, number: int) -> str:
        self.plates += 1
        make, model = self.makes[number % len(self.makes)]
        return self.rows.vehicle(
            tenant.id,
            owner_id,
            registration=f"B{self.plates:07d}"[:10],
            vin=f"WBA{self.plates:014d}",
            make=make,
            model=model,
            first_registration_date=date(2015 + number % 10, 1 + number % 12, 1),
        )

    def booking(
        self,
        tenant: SeededTenant,
        number: int,
        owner: tuple[str, str],
        service_id: str,
        *,
        document: bool,
    ) -> str:
        """Booking ``number``, with an invoice or inspection report when ``document``."""
        customer_id, vehicle_id = owner
        starts = START + timedelta(minutes=20 * number)
        booking_id = self.rows.booking(
            tenant.id,
            customer_id=customer_id,
            vehicle_id=vehicle_id,
            service_id=service_id,
            starts_at=starts,
            minutes=30,
            status=STATUSES[number % len(STATUSES)],
            reference=f"R{number:09d}",
            customer_notes="Lyden fra forhjulet" if number % 5 == 0 else None,
            price_ore=64000,
            created_by=CREATED_BY,
        )
        if document:
            invoice = number % 4 == 0
            word = "Faktura" if invoice else "Synsrapport"
            self.rows.document(
                tenant.id,
                booking_id=booking_id,
                customer_id=customer_id,
                kind=DocumentKind.INVOICE if invoice else DocumentKind.INSPECTION_REPORT,
                title=f"{word} {number}",
                content=f"{word} R{number:09d}".encode() * 8,
                issued_at=starts + timedelta(minutes=30),
                mime_type="text/plain",
                retain_until=date(2032, 12, 31) if invoice else None,
                created_by=CREATED_BY,
            )
        return booking_id


def build(tenants: int, bookings_per_tenant: int, erasable: int) -> tuple[Rows, Dataset]:
    """The rows and what the benchmark needs to know about them."""
    builder = _Builder()
    seeded: list[SeededTenant] = []
    my_data_email, export_email = "mette.bench@example.dk", "export.bench@example.dk"
    for t in range(tenants):
        tenant = builder.tenant(t)
        seeded.append(tenant)
        services = tenant.services
        customers = max(1, bookings_per_tenant // 2)
        owners = []
        for c in range(customers):
            customer_id = builder.customer(tenant, c)
            owners.append((customer_id, builder.vehicle(tenant, customer_id, c)))
        for b in range(bookings_per_tenant):
            owner = owners[(b * 7919) % customers]
            service = services[b % len(services)]
            tenant.booking_ids.append(
                builder.booking(tenant, b, owner, service, document=b % 2 == 0)
            )
        number = bookings_per_tenant
        for email in [my_data_email, export_email] if t < 2 else []:
            customer_id = builder.customer(tenant, number, email=email)
            owner = (customer_id, builder.vehicle(tenant, customer_id, number))
            for _ in range(SUBJECT_BOOKINGS_PER_BUSINESS):
                number += 1
                service = services[number % len(services)]
                builder.booking(tenant, number, owner, service, document=number % 2 == 0)
        for _ in range(erasable if t == 0 else 0):
            number += 1
            customer_id = builder.customer(tenant, number, email=f"slet{number}@example.dk")
            owner = (customer_id, builder.vehicle(tenant, customer_id, number))
            tenant.erasable_customer_ids.append(customer_id)
            for _ in range(2):
                number += 1
                builder.booking(tenant, number, owner, services[0], document=True)
    rows = builder.rows
    return rows, Dataset(seeded, my_data_email, export_email, rows.counts())


async def seed(
    engine: AsyncEngine, *, tenants: int, bookings_per_tenant: int, erasable: int
) -> Dataset:
    """Insert the dataset in one transaction, then refresh the planner's statistics."""
    rows, dataset = build(tenants, bookings_per_tenant, erasable)
    async with engine.begin() as connection:
        await rows.insert(connection)
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql("ANALYZE")
        await connection.commit()
    return dataset
