"""Writing a person's export keeps memory flat: rows are read in batches while written.

Measured with tracemalloc on the export writer itself, over a real database,
for a person with 200 and with 2,000 bookings (and half as many documents).
The written pieces are dropped as they come, as a streamed download would;
what remains is the writer's own working memory, which must not grow with
the number of records.
"""

from __future__ import annotations

import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from privacy import access
from store.engine import create_sessionmaker
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
)
from store.types import new_id
from tests.conftest import Backend


async def _person(backend: Backend, bookings: int) -> str:
    """A tenant of its own with one customer who has ``bookings`` bookings."""
    tenant_id, service_id, customer_id = new_id(), new_id(), new_id()
    start = datetime(2026, 2, 2, 8, tzinfo=UTC)
    booking_rows = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "customer_id": customer_id,
            "service_id": service_id,
            "starts_at": start + timedelta(hours=i),
            "ends_at": start + timedelta(hours=i, minutes=30),
            "status": BookingStatus.COMPLETED,
            "reference": f"M{i:08d}",
            "customer_notes": "Bremserne hviner lidt om morgenen",
            "price_ore": 50000,
            "channel": BookingChannel.ONLINE,
            "created_by": "test",
        }
        for i in range(bookings)
    ]
    async with backend.engine.begin() as connection:
        slug = f"memory-{uuid.uuid4().hex[:8]}"
        await connection.execute(
            insert(Tenant),
            [{"id": tenant_id, "slug": slug, "name": slug, "kind": TenantKind.WORKSHOP}],
        )
        await connection.execute(
            insert(Service),
            [{"id": service_id, "tenant_id": tenant_id, "name": "Service",
              "duration_minutes": 30, "price_ore": 50000}],
        )  # fmt: skip
        await connection.execute(
            insert(Customer),
            [{"id": customer_id, "tenant_id": tenant_id, "name": "Mads Mange",
              "email": f"mads.{slug}@example.dk", "created_via": CreatedVia.ONLINE,
              "objections": []}],
        )  # fmt: skip
        await connection.execute(insert(Booking), booking_rows)
        await connection.execute(
            insert(Document),
            [
                {
                    "id": new_id(),
                    "tenant_id": tenant_id,
                    "booking_id": b["id"],
                    "customer_id": customer_id,
                    "kind": DocumentKind.INSPECTION_REPORT,
                    "title": "Synsrapport",
                    "issued_at": b["ends_at"],
                    "mime_type": "text/plain",
                    "size_bytes": 2_000,
                    "sha256": "0" * 64,
                    "content": b"x" * 2_000,
                    "created_by": "test",
                }
                for b in booking_rows[::2]
            ],
        )
    return customer_id


async def _peak_while_writing(backend: Backend, customer_id: str, fmt: str) -> tuple[int, int]:
    """Peak traced bytes while the export is written and dropped piece by piece; bytes written."""
    sessions = create_sessionmaker(backend.engine)
    async with sessions() as session, session.begin():
        customer = (
            await session.execute(select(Customer).where(Customer.id == customer_id))
        ).scalar_one()
        document = access.subject_export(
            session, [customer], include_staff_only=True, email=customer.email
        )
        pieces = access.iter_html(document) if fmt == "HTML" else access.iter_json(document)
        written = 0
        tracemalloc.start()
        try:
            async for piece in pieces:
                written += len(piece)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak, written


async def test_export_memory_does_not_grow_with_the_number_of_records(backend: Backend) -> None:
    small, large = await _person(backend, 200), await _person(backend, 2_000)
    for fmt in ("JSON", "HTML"):
        await _peak_while_writing(backend, small, fmt)  # warm caches: compiled SQL, imports
        small_peak, small_written = await _peak_while_writing(backend, small, fmt)
        large_peak, large_written = await _peak_while_writing(backend, large, fmt)
        assert large_written > 8 * small_written, (fmt, small_written, large_written)
        # Ten times the records, far less than ten times the memory.
        assert large_peak < 2.5 * small_peak, (fmt, small_peak, large_peak)
        # And far less than the export itself: it is never held whole.
        assert large_peak < large_written / 2, (fmt, large_peak, large_written)


async def test_the_written_json_is_what_json_dumps_gives(backend: Backend) -> None:
    import json

    customer_id = await _person(backend, 30)
    sessions = create_sessionmaker(backend.engine)
    async with sessions() as session, session.begin():
        customer = (
            await session.execute(select(Customer).where(Customer.id == customer_id))
        ).scalar_one()
        text = await access.render(
            access.subject_export(session, [customer], include_staff_only=False, email=None),
            "JSON",
        )
    parsed = json.loads(text)
    assert text == json.dumps(parsed, ensure_ascii=False, indent=2)
    (controller,) = parsed["controllers"]
    assert len(controller["bookings"]) == 30 and len(controller["documents"]) == 15
    assert [b["reference"] for b in controller["bookings"]] == [f"M{i:08d}" for i in range(30)]
    assert "internal_notes" not in controller["bookings"][0]
