"""The one data builder: rows for tenants, services, customers, vehicles, bookings and
documents, inserted in bulk in foreign-key order.

The demo seed, the test worlds and the benchmark data all build their rows
here, so a new column needs a default in one place only. Rows are plain
dicts inserted with one ``executemany`` per table and chunk: the ORM's unit of
work costs a few hundred microseconds a row, which tens of thousands of
bookings cannot afford. Ids are generated up front, so children can name their
parents without a flush.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from store.engine import create_engine
from store.models import (
    Base,
    BookingChannel,
    BookingStatus,
    CreatedVia,
    DocumentKind,
    TenantKind,
)
from store.types import new_id

# Parents first: the models declare no relationships to order inserts by.
TABLES = ("tenants", "services", "customers", "vehicles", "bookings", "documents")
CHUNK = 2_000
TEXT_MIME_TYPE = "text/plain; charset=utf-8"


class Rows:
    """Rows to insert, per table, in insertion order; every method returns the new id."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}

    def _add(self, table: str, columns: dict[str, Any]) -> dict[str, Any]:
        row = {"id": new_id(), **columns}
        self.tables[table].append(row)
        return row

    def tenant(self, *, slug: str, name: str, kind: TenantKind, **columns: Any) -> str:
        return str(
            self._add("tenants", {"slug": slug, "name": name, "kind": kind, **columns})["id"]
        )

    def service(
        self,
        tenant_id: str,
        *,
        name: str,
        duration_minutes: int,
        price_ore: int,
        capacity_per_slot: int = 1,
        **columns: Any,
    ) -> str:
        row = self._add(
            "services",
            {
                "tenant_id": tenant_id,
                "name": name,
                "duration_minutes": duration_minutes,
                "price_ore": price_ore,
                "capacity_per_slot": capacity_per_slot,
                **columns,
            },
        )
        return str(row["id"])

    def customer(
        self,
        tenant_id: str,
        *,
        name: str,
        email: str | None,
        phone: str | None,
        created_via: CreatedVia = CreatedVia.ONLINE,
        **columns: Any,
    ) -> str:
        row = self._add(
            "customers",
            {
                "tenant_id": tenant_id,
                "name": name,
                "email": email,
                "phone": phone,
                "created_via": created_via,
                **columns,
            },
        )
        return str(row["id"])

    def vehicle(
        self,
        tenant_id: str,
        owner_id: str | None,
        *,
        registration: str | None,
        vin: str | None,
        make: str | None = None,
        model: str | None = None,
        first_registration_date: date | None = None,
        **columns: Any,
    ) -> str:
        row = self._add(
            "vehicles",
            {
                "tenant_id": tenant_id,
                "owner_id": owner_id,
                "registration": registration,
                "vin": vin,
                "make": make,
                "model": model,
                "first_registration_date": first_registration_date,
                **columns,
            },
        )
        return str(row["id"])

    def booking(
        self,
        tenant_id: str,
        *,
        customer_id: str | None,
        vehicle_id: str | None,
        service_id: str,
        starts_at: datetime,
        minutes: int,
        status: BookingStatus,
        reference: str,
        price_ore: int,
        channel: BookingChannel = BookingChannel.ONLINE,
        created_by: str,
        **columns: Any,
    ) -> str:
        row = self._add(
            "bookings",
            {
                "tenant_id": tenant_id,
                "customer_id": customer_id,
                "vehicle_id": vehicle_id,
                "service_id": service_id,
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(minutes=minutes),
                "status": status,
                "reference": reference,
                "price_ore": price_ore,
                "channel": channel,
                "created_by": created_by,
                **columns,
            },
        )
        return str(row["id"])

    def document(
        self,
        tenant_id: str,
        *,
        booking_id: str | None,
        customer_id: str | None,
        kind: DocumentKind,
        title: str,
        content: bytes,
        issued_at: datetime,
        created_by: str,
        mime_type: str = TEXT_MIME_TYPE,
        retain_until: date | None = None,
        **columns: Any,
    ) -> str:
        """A document; its size and SHA-256 are taken from ``content``."""
        row = self._add(
            "documents",
            {
                "tenant_id": tenant_id,
                "booking_id": booking_id,
                "customer_id": customer_id,
                "kind": kind,
                "title": title,
                "issued_at": issued_at,
                "mime_type": mime_type,
                "size_bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "content": content,
                "retain_until": retain_until,
                "created_by": created_by,
                **columns,
            },
        )
        return str(row["id"])

    def last(self, table: str) -> dict[str, Any]:
        """The row added last to ``table``, to set a column that depends on later rows."""
        return self.tables[table][-1]

    def counts(self) -> dict[str, int]:
        return {name: len(items) for name, items in self.tables.items()}

    async def insert(self, target: AsyncSession | AsyncConnection) -> None:
        """Insert every row, table by table, in the caller's transaction."""
        for name, items in self.tables.items():
            table = Base.metadata.tables[name]
            assert isinstance(table, Table)
            complete = [_with_defaults(table, row) for row in items]
            for chunk in _chunks(complete):
                await target.execute(insert(table), chunk)


def _with_defaults(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Every column of the table: an executemany needs the same keys in every row, so the
    columns a row leaves out get the model's default (or NULL) here."""
    full = dict(row)
    for column in table.columns:
        if column.key in full:
            continue
        default = column.default
        if default is None or not hasattr(default, "arg"):
            full[column.key] = None
        elif callable(default.arg):
            full[column.key] = default.arg(None)
        else:
            full[column.key] = default.arg
    return full


def _chunks(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def insert_shop(
    database_url: str, label: str, hours: dict[str, list[list[str]]], minutes: int, capacity: int
) -> tuple[str, str, str]:
    """A tenant of a load or crash test's own, with one service of ``minutes`` and
    ``capacity``; (slug, tenant id, service id)."""
    slug = f"{label}-{uuid.uuid4().hex[:8]}"
    rows = Rows()
    tenant_id = rows.tenant(
        slug=slug, name=label.title(), kind=TenantKind.INSPECTION_STATION, opening_hours=hours
    )
    service_id = rows.service(
        tenant_id,
        name="Periodisk syn",
        duration_minutes=minutes,
        price_ore=55000,
        capacity_per_slot=capacity,
    )
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await rows.insert(connection)
    finally:
        await engine.dispose()
    return slug, tenant_id, service_id
