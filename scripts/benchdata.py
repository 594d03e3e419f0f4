"""A synthetic booking dataset of any size, inserted with SQLAlchemy Core in bulk.

The ORM's unit of work costs a few hundred microseconds a row; tens of
thousands of bookings would take minutes to seed that way. Here every table is
one ``executemany`` of plain dicts per chunk, with ids generated up front so
children can name their parents without a flush.

Per tenant: ``bookings`` bookings over four services, one customer per two
bookings, one vehicle per customer, one document per two bookings. Besides
these, named people the benchmark needs: two data subjects with 10 bookings at
each of two businesses (one for ``myData``, one for the export, whose privacy
requests grow with every export), and customers to erase, one per erasure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from store import models
from store.types import new_id

CHUNK = 2_000
FIRST_NAMES = [
    "Anders",
    "Birgitte",
    "Camilla",
    "Dorthe",
    "Emil",
    "Frederik",
    "Gitte",
    "Hans",
    "Ida",
    "Jens",
    "Karen",
    "Lars",
    "Mette",
    "Niels",
    "Ole",
    "Pia",
    "Rasmus",
    "Sofie",
    "Thomas",
    "Ulla",
    "Viggo",
    "Winnie",
    "Anne",
    "Bo",
    "Christian",
    "Dennis",
    "Eva",
    "Finn",
    "Grethe",
    "Henrik",
    "Inge",
    "Jakob",
    "Kirsten",
    "Lene",
    "Morten",
    "Nanna",
    "Peter",
    "Rikke",
    "Søren",
    "Tove",
]
LAST_NAMES = [
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Christiansen",
    "Poulsen",
    "Johansen",
    "Møller",
    "Mortensen",
    "Knudsen",
    "Jakobsen",
    "Jacobsen",
    "Mikkelsen",
    "Olesen",
    "Frederiksen",
    "Laursen",
    "Henriksen",
    "Lund",
    "Schmidt",
    "Eriksen",
    "Holm",
    "Kristiansen",
    "Clausen",
    "Simonsen",
    "Svendsen",
    "Andreasen",
    "Iversen",
    "Jeppesen",
    "Vestergaard",
    "Mogensen",
    "Nissen",
    "Lauridsen",
    "Jespersen",
    "Kjeldsen",
    "Bach",
    "Dam",
    "Bruun",
    "Winther",
    "Toft",
]
MAKES = (("Volvo", "V60"), ("Toyota", "Corolla"), ("VW", "Golf"), ("Skoda", "Octavia"))
SERVICES = (("Periodisk syn", 30, 64000), ("Omsyn", 20, 30000), ("Service", 90, 180000))
START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
STATUSES = (
    models.BookingStatus.COMPLETED,
    models.BookingStatus.COMPLETED,
    models.BookingStatus.CONFIRMED,
    models.BookingStatus.CANCELLED,
)
# A surname that about one customer in fifty carries: what staff type into search.
SEARCH_TERM = "Kjeldsen"
SUBJECT_BOOKINGS_PER_BUSINESS = 10


@dataclass
class SeededTenant:
    id: str
    slug: str
    booking_ids: list[str] = field(default_factory=list)
    erasable_customer_ids: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    tenants: list[SeededTenant]
    my_data_email: str
    export_email: str
    counts: dict[str, int]


class _Rows:
    """Rows to insert, per table, in insertion order (parents first)."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {
            name: []
            for name in ("tenants", "services", "customers", "vehicles", "bookings", "documents")
        }
        self._plates = 0

    def tenant(self, index: int) -> SeededTenant:
        tenant_id, slug = new_id(), f"bench-{index}"
        self.tables["tenants"].append(
            {
                "id": tenant_id,
                "slug": slug,
                "name": f"Bench {index} ApS",
                "kind": models.TenantKind.INSPECTION_STATION,
                "description": "",
                "address": f"Benchvej {index}, 8000 Aarhus C",
                "contact_phone": "+4586000000",
                "contact_email": f"info@{slug}.example.dk",
                "timezone": "Europe/Copenhagen",
                "opening_hours": {},
                "auto_approve_erasure": False,
                "report_retention_years": None,
            }
        )
        return SeededTenant(tenant_id, slug)

    def services(self, tenant: SeededTenant) -> list[str]:
        ids = []
        for name, minutes, price in SERVICES:
            ids.append(new_id())
            self.tables["services"].append(
                {
                    "id": ids[-1],
                    "tenant_id": tenant.id,
                    "name": name,
                    "description": "",
                    "duration_minutes": minutes,
                    "price_ore": price,
                    "capacity_per_slot": 2,
                    "active": True,
                    "booking_lock": 0,
                }
            )
        return ids

    def customer(self, tenant: SeededTenant, number: int, email: str | None = None) -> str:
        customer_id = new_id()
        # Every surname recurs every len(LAST_NAMES) customers, so a search for
        # one finds the same share of rows at every dataset size (growth is
        # then measured on like for like).
        name = (
            f"{FIRST_NAMES[(number + number // len(LAST_NAMES)) % len(FIRST_NAMES)]} "
            f"{LAST_NAMES[number % len(LAST_NAMES)]}"
        )
        self.tables["customers"].append(
            {
                "id": customer_id,
                "tenant_id": tenant.id,
                "name": name,
                "email": email or f"kunde{number}@{tenant.slug}.example.dk",
                "phone": f"+45{20000000 + number:08d}",
                "street": f"Vej {number % 200}",
                "postal_code": "8000",
                "city": "Aarhus C",
                "created_via": models.CreatedVia.ONLINE if number % 3 else models.CreatedVia.PHONE,
                "restricted_at": None,
                "restriction_reason": None,
                "objections": [],
            }
        )
        return customer_id

    def vehicle(self, tenant: SeededTenant, owner_id: str, number: int) -> str:
        vehicle_id = new_id()
        self._plates += 1
        make, model = MAKES[number % len(MAKES)]
        self.tables["vehicles"].append(
            {
                "id": vehicle_id,
                "tenant_id": tenant.id,
                "owner_id": owner_id,
                "registration": f"B{self._plates:07d}"[:10],
                "vin": f"WBA{self._plates:014d}",
                "make": make,
                "model": model,
                "first_registration_date": date(2015 + number % 10, 1 + number % 12, 1),
            }
        )
        return vehicle_id

    def booking(
        self,
        tenant: SeededTenant,
        number: int,
        *,
        customer_id: str,
        vehicle_id: str,
        service_id: str,
        with_document: bool,
    ) -> str:
        booking_id = new_id()
        starts = START + timedelta(minutes=20 * number)
        self.tables["bookings"].append(
            {
                "id": booking_id,
                "tenant_id": tenant.id,
                "customer_id": customer_id,
                "vehicle_id": vehicle_id,
                "service_id": service_id,
                "starts_at": starts,
                "ends_at": starts + timedelta(minutes=30),
                "status": STATUSES[number % len(STATUSES)],
                "reference": f"R{number:09d}",
                "customer_notes": "Lyden fra forhjulet" if number % 5 == 0 else None,
                "internal_notes": None,
                "price_ore": 64000,
                "channel": models.BookingChannel.ONLINE,
                "created_by": "bench",
            }
        )
        if with_document:
            invoice = number % 4 == 0
            content = f"{'Faktura' if invoice else 'Synsrapport'} R{number:09d}".encode() * 8
            self.tables["documents"].append(
                {
                    "id": new_id(),
                    "tenant_id": tenant.id,
                    "booking_id": booking_id,
                    "customer_id": customer_id,
                    "kind": models.DocumentKind.INVOICE
                    if invoice
                    else models.DocumentKind.INSPECTION_REPORT,
                    "title": f"{'Faktura' if invoice else 'Synsrapport'} {number}",
                    "issued_at": starts + timedelta(minutes=30),
                    "mime_type": "text/plain",
                    "size_bytes": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "content": content,
                    "retain_until": date(2032, 12, 31) if invoice else None,
                    "retained_since": None,
                    "created_by": "bench",
                }
            )
        return booking_id


def build_rows(tenants: int, bookings_per_tenant: int, erasable: int) -> tuple[_Rows, Dataset]:
    rows = _Rows()
    seeded: list[SeededTenant] = []
    my_data_email, export_email = "mette.bench@example.dk", "export.bench@example.dk"
    for t in range(tenants):
        tenant = rows.tenant(t)
        seeded.append(tenant)
        services = rows.services(tenant)
        customers = max(1, bookings_per_tenant // 2)
        owners = []
        for c in range(customers):
            customer_id = rows.customer(tenant, c)
            owners.append((customer_id, rows.vehicle(tenant, customer_id, c)))
        for b in range(bookings_per_tenant):
            customer_id, vehicle_id = owners[(b * 7919) % customers]
            tenant.booking_ids.append(
                rows.booking(
                    tenant,
                    b,
                    customer_id=customer_id,
                    vehicle_id=vehicle_id,
                    service_id=services[b % len(services)],
                    with_document=b % 2 == 0,
                )
            )
        number = bookings_per_tenant
        people = [my_data_email, export_email] if t < 2 else []
        for email in people:
            customer_id = rows.customer(tenant, number, email=email)
            vehicle_id = rows.vehicle(tenant, customer_id, number)
            for _ in range(SUBJECT_BOOKINGS_PER_BUSINESS):
                number += 1
                rows.booking(
                    tenant,
                    number,
                    customer_id=customer_id,
                    vehicle_id=vehicle_id,
                    service_id=services[number % len(services)],
                    with_document=number % 2 == 0,
                )
        if t == 0:
            for _ in range(erasable):
                number += 1
                customer_id = rows.customer(tenant, number, email=f"slet{number}@example.dk")
                vehicle_id = rows.vehicle(tenant, customer_id, number)
                tenant.erasable_customer_ids.append(customer_id)
                for _ in range(2):
                    number += 1
                    rows.booking(
                        tenant,
                        number,
                        customer_id=customer_id,
                        vehicle_id=vehicle_id,
                        service_id=services[0],
                        with_document=True,
                    )
    counts = {name: len(items) for name, items in rows.tables.items()}
    return rows, Dataset(seeded, my_data_email, export_email, counts)


def _chunks(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def seed(
    engine: AsyncEngine, *, tenants: int, bookings_per_tenant: int, erasable: int
) -> Dataset:
    """Insert the dataset in one transaction, then refresh the planner's statistics."""
    rows, dataset = build_rows(tenants, bookings_per_tenant, erasable)
    async with engine.begin() as connection:
        for name, items in rows.tables.items():
            table = models.Base.metadata.tables[name]
            assert isinstance(table, Table)
            for chunk in _chunks(items):
                await connection.execute(insert(table), chunk)
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql("ANALYZE")
        await connection.commit()
    return dataset
