"""The hot queries use an index on both backends, with enough rows for the planner to care.

The statements are the ones the service runs (compiled from its own query
builders), on a tenant of this module's own with a few thousand bookings and
fresh planner statistics (ANALYZE). SQLite: ``EXPLAIN QUERY PLAN`` must not
scan a table without an index (``SCAN <table>`` without ``USING``).
PostgreSQL: ``EXPLAIN`` must name an index and show no ``Seq Scan`` on the
tables the query is about (the planner is left free: no ``enable_seqscan``).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, false, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from authz.decisions import Authorizer
from authz.scope import row_scope, subject_customer_ids
from basics.principal import Principal, PrincipalKind
from resolvers.customer_search import customer_match, page_ids
from store.candidates import AmongCandidates
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
from store.types import new_id
from tests.conftest import Backend

BOOKINGS = 20_000
CUSTOMERS = 5_000


async def _seed(engine: AsyncEngine) -> dict[str, Any]:
    """A tenant with a realistic spread of rows, inserted in bulk."""
    tenant_id, service_id = new_id(), new_id()
    slug = f"plans-{uuid.uuid4().hex[:8]}"
    customers = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "name": f"Kunde {i:05d}",
            "email": f"plan{i}.{slug}@example.dk",
            "phone": f"+45{30000000 + i}",
            "created_via": CreatedVia.ONLINE,
            "objections": [],
        }
        for i in range(CUSTOMERS)
    ]
    vehicles = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "owner_id": c["id"],
            "registration": f"PL{i:05d}",
            "vin": f"VIN{i:014d}",
        }
        for i, c in enumerate(customers)
    ]
    start = datetime(2026, 3, 2, 7, tzinfo=UTC)
    bookings = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "customer_id": customers[i % CUSTOMERS]["id"],
            "vehicle_id": vehicles[i % CUSTOMERS]["id"],
            "service_id": service_id,
            "starts_at": start + timedelta(minutes=15 * i),
            "ends_at": start + timedelta(minutes=15 * i + 30),
            "status": BookingStatus.COMPLETED,
            "reference": f"Q{i:08d}",
            "price_ore": 50000,
            "channel": BookingChannel.STAFF,
            "created_by": "test",
        }
        for i in range(BOOKINGS)
    ]
    documents = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "booking_id": b["id"],
            "customer_id": b["customer_id"],
            "kind": DocumentKind.INSPECTION_REPORT,
            "title": "Rapport",
            "issued_at": b["ends_at"],
            "mime_type": "text/plain",
            "size_bytes": 3,
            "sha256": "0" * 64,
            "content": b"abc",
            "created_by": "test",
        }
        for b in bookings[::2]
    ]
    async with engine.begin() as connection:
        await connection.execute(
            insert(Tenant),
            [{"id": tenant_id, "slug": slug, "name": "Plans", "kind": TenantKind.WORKSHOP}],
        )
        await connection.execute(
            insert(Service),
            [
                {
                    "id": service_id,
                    "tenant_id": tenant_id,
                    "name": "Syn",
                    "duration_minutes": 30,
                    "price_ore": 50000,
                }
            ],
        )
        for model, rows in (
            (Customer, customers),
            (Vehicle, vehicles),
            (Booking, bookings),
            (Document, documents),
        ):
            await connection.execute(insert(model), rows)
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql("ANALYZE")
        await connection.commit()
    # SQLite reads the statistics when a connection loads the schema; a pooled
    # connection opened before this ANALYZE keeps planning without them.
    await engine.dispose()
    return {
        "tenant_id": tenant_id,
        "customer_ids": [c["id"] for c in customers[:20]],
        "booking_ids": [b["id"] for b in bookings[:20]],
        "booking_id": bookings[BOOKINGS // 2]["id"],
        "email": customers[7]["email"],
    }


@pytest.fixture(scope="module")
async def seeded(backend: Backend) -> dict[str, Any]:
    return await _seed(backend.engine)


def _staff(tenant_id: str) -> Principal:
    return Principal(
        kind=PrincipalKind.STAFF, subject="plans", tenant_id=tenant_id, roles=frozenset({"staff"})
    )


def _children(model: Any, parent: Any, order: Any, ids: list[str], scope: Any) -> Select[Any]:
    """The shape of ``Loaders.children``: a windowed query over many parents."""
    position = func.row_number().over(partition_by=parent, order_by=[order, model.id])
    ranked = select(model, position.label("position")).where(parent.in_(ids), scope).subquery()
    return select(ranked).where(ranked.c.position <= 50)


def _search(staff: Principal, term: str) -> Select[Any]:
    """A staff search as ``customers_statement`` builds it when the index serves it."""
    match = customer_match(staff, Authorizer().decisions(staff.roles, staff.tenant_id), term)
    assert match.candidates is not None
    return (
        select(Customer)
        .where(row_scope(Customer, staff), or_(false(), *match.conditions))
        .where(AmongCandidates(Customer.id, match.candidates))
        .order_by(Customer.name, Customer.id)
        .limit(21)
    )


def _search_page(staff: Principal, term: str) -> Select[Any]:
    """A page of a staff search cut from the index alone, as ``customers_statements`` does."""
    match = customer_match(staff, Authorizer().decisions(staff.roles, staff.tenant_id), term)
    ids = page_ids(match, 20, None)
    assert ids is not None
    return (
        select(Customer)
        .where(row_scope(Customer, staff), or_(false(), *match.conditions))
        .where(AmongCandidates(Customer.id, ids))
        .order_by(Customer.name, Customer.id)
        .limit(21)
    )


def hot_queries(seeded: dict[str, Any]) -> dict[str, Select[Any]]:
    staff = _staff(seeded["tenant_id"])
    subject = Principal(
        kind=PrincipalKind.SUBJECT,
        subject=seeded["email"],
        email=seeded["email"],
        roles=frozenset({"subject"}),
    )
    return {
        "bookings page by tenant and starts_at": select(Booking)
        .where(row_scope(Booking, staff))
        .order_by(Booking.starts_at, Booking.id)
        .limit(101),
        "booking by id": select(Booking).where(
            Booking.id.in_([seeded["booking_id"]]), row_scope(Booking, staff)
        ),
        "customer search by plate": select(Customer)
        .where(
            row_scope(Customer, staff),
            Customer.id.in_(
                select(Vehicle.owner_id).where(
                    row_scope(Vehicle, staff), Vehicle.registration == "PL00042"
                )
            ),
        )
        .order_by(Customer.name, Customer.id)
        .limit(21),
        "customer search by name (index)": _search(staff, "Kunde 004"),
        "customer search by phone digits (index)": _search(staff, "3000042"),
        "customer search page (index alone)": _search_page(staff, "Kunde 004"),
        "customers page by name": select(Customer)
        .where(row_scope(Customer, staff))
        .order_by(Customer.name, Customer.id)
        .limit(21),
        "customers of a subject by email": select(Customer).where(row_scope(Customer, subject)),
        "bookings of a subject": select(Booking).where(
            Booking.customer_id.in_(subject_customer_ids(subject))
        ),
        "bookings of customers (loader)": _children(
            Booking,
            Booking.customer_id,
            Booking.starts_at,
            seeded["customer_ids"],
            row_scope(Booking, staff),
        ),
        "vehicles of customers (loader)": _children(
            Vehicle,
            Vehicle.owner_id,
            Vehicle.created_at,
            seeded["customer_ids"],
            row_scope(Vehicle, staff),
        ),
        "documents of bookings (loader)": _children(
            Document,
            Document.booking_id,
            Document.issued_at,
            seeded["booking_ids"],
            row_scope(Document, staff),
        ),
        "documents of customers (loader)": _children(
            Document,
            Document.customer_id,
            Document.issued_at,
            seeded["customer_ids"],
            row_scope(Document, staff),
        ),
        "customers by id (loader)": select(Customer).where(
            Customer.id.in_(seeded["customer_ids"]), row_scope(Customer, staff)
        ),
        # Erasure: the person's own documents, and their bookings' documents.
        "documents of a person (erasure)": select(Document.id).where(
            Document.tenant_id == seeded["tenant_id"],
            Document.customer_id == seeded["customer_ids"][0],
        ),
        "documents of a person's bookings (erasure)": select(Document.id).where(
            Document.tenant_id == seeded["tenant_id"],
            Document.booking_id.in_(
                select(Booking.id).where(
                    Booking.tenant_id == seeded["tenant_id"],
                    Booking.customer_id == seeded["customer_ids"][0],
                )
            ),
        ),
    }


# Where the tenant's own index would also be "an index" but one that grows with
# the business, the plan must name the index that follows the person.
EXPECTED_INDEX = {
    "documents of a person (erasure)": "ix_documents_customer",
    "documents of a person's bookings (erasure)": "ix_bookings_customer",
    "customer search by plate": "ix_vehicles_tenant_registration",
    "customer search by name (index)": "ix_customer_search_name_lookup",
    "customer search by phone digits (index)": "ix_customer_search_phone_lookup",
    "customer search page (index alone)": "ix_customer_search_name_lookup",
}


QUERY_NAMES = list(hot_queries({"tenant_id": "t", "email": "e", "booking_id": "b",
                                "customer_ids": ["c"], "booking_ids": ["b"]}))  # fmt: skip


async def _plan(engine: AsyncEngine, statement: Select[Any]) -> list[str]:
    compiled = statement.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
    sql = str(compiled)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    async with engine.connect() as connection:
        rows = (await connection.exec_driver_sql(prefix + sql)).all()
    return [str(row[-1]) for row in rows]


def _unindexed(dialect: str, plan: list[str]) -> list[str]:
    """Plan lines that read one of the data tables without an index."""
    tables = "bookings|customers|vehicles|documents"
    if dialect == "sqlite":
        pattern = re.compile(rf"^SCAN ({tables})\b(?!.*USING)")
        return [line for line in plan if pattern.search(line.strip())]
    pattern = re.compile(rf"Seq Scan on ({tables})\b")
    return [line for line in plan if pattern.search(line)]


@pytest.mark.parametrize("name", QUERY_NAMES)
async def test_hot_query_uses_an_index(backend: Backend, seeded: dict[str, Any], name: str) -> None:
    plan = await _plan(backend.engine, hot_queries(seeded)[name])
    text = "\n".join(plan)
    assert not _unindexed(backend.engine.dialect.name, plan), text
    named = "USING" if backend.engine.dialect.name == "sqlite" else "Index"
    assert named in text, text
    assert EXPECTED_INDEX.get(name, "") in text, text
