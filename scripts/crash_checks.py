"""What the crash test checks after each restart: every confirmed booking is there, no
slot holds more than its capacity, the database is intact and the audit chains hold."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import datetime

from sqlalchemy import func, make_url, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.trail import all_chains, verify_chain
from store.engine import create_engine, create_sessionmaker
from store.models import ACTIVE_BOOKING_STATUSES, Booking, BookingDraft, BookingStatus, Tenant
from store.types import utcnow

BTREE_INDEXES = """SELECT c.relname FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE a.amname = 'btree' AND n.nspname = current_schema()"""
TABLES = """SELECT table_name FROM information_schema.tables
  WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"""
HEAP_SCAN = """SELECT count(*), coalesce(sum(length(t::text)), 0) FROM "{table}" t"""
# Single-column foreign keys (every one in this schema), child and parent columns.
FOREIGN_KEYS = """SELECT conrelid::regclass::text, confrelid::regclass::text,
    (SELECT attname FROM pg_attribute WHERE attrelid = conrelid AND attnum = conkey[1]),
    (SELECT attname FROM pg_attribute WHERE attrelid = confrelid AND attnum = confkey[1])
  FROM pg_constraint
  WHERE contype = 'f' AND cardinality(conkey) = 1
    AND connamespace = current_schema()::regnamespace"""
ORPHANS = """SELECT count(*) FROM {child} c WHERE c."{column}" IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p."{key}" = c."{column}")"""


async def missing_bookings(engine: AsyncEngine, slug: str, confirmed: dict[str, str]) -> list[str]:
    """Confirmed references not in the database as ``CONFIRMED``."""
    async with create_sessionmaker(engine)() as session:
        rows = (
            await session.execute(
                select(Booking.reference, Booking.status, Booking.starts_at)
                .join(Tenant, Tenant.id == Booking.tenant_id)
                .where(Tenant.slug == slug)
            )
        ).all()
    stored = {ref: (status, starts) for ref, status, starts in rows}
    missing = []
    for reference, at in confirmed.items():
        found = stored.get(reference)
        if (
            found is None
            or found[0] != BookingStatus.CONFIRMED
            or found[1] != datetime.fromisoformat(at)
        ):
            missing.append(reference)
    return missing


async def overbooked_slots(engine: AsyncEngine, service_id: str, capacity: int) -> int:
    """Slots holding more active bookings plus live holds than the capacity."""
    now = utcnow()
    async with create_sessionmaker(engine)() as session:
        booked = (
            await session.execute(
                select(Booking.starts_at, func.count())
                .where(
                    Booking.service_id == service_id,
                    Booking.status.in_(ACTIVE_BOOKING_STATUSES),
                )
                .group_by(Booking.starts_at)
            )
        ).all()
        held = (
            await session.execute(
                select(BookingDraft.starts_at, func.count())
                .where(
                    BookingDraft.service_id == service_id,
                    BookingDraft.completed_at.is_(None),
                    BookingDraft.hold_expires_at > now,
                )
                .group_by(BookingDraft.starts_at)
            )
        ).all()
    taken: Counter[datetime] = Counter()
    for starts_at, count in [*booked, *held]:
        taken[starts_at] += count
    return sum(1 for count in taken.values() if count > capacity)


def sqlite_integrity(database_url: str) -> list[str]:
    path = make_url(database_url).database
    assert path, database_url
    with sqlite3.connect(path) as connection:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        problems = [] if problems == ["ok"] else problems
        problems += [
            f"foreign key: {row}" for row in connection.execute("PRAGMA foreign_key_check")
        ]
    return problems


async def amcheck(engine: AsyncEngine) -> str | None:
    """``bt_index_check`` with ``heapallindexed`` on every B-tree index, or None without amcheck."""
    try:
        async with engine.connect() as connection, connection.begin():
            await connection.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
    except Exception:  # the role may not create it
        return None
    async with engine.connect() as connection, connection.begin():
        indexes = (await connection.execute(text(BTREE_INDEXES))).scalars().all()
        for index in indexes:
            await connection.execute(
                text("SELECT bt_index_check(CAST(:i AS regclass), true)"), {"i": index}
            )
    return f"amcheck bt_index_check on {len(indexes)} indexes; "


async def postgres_integrity(engine: AsyncEngine) -> tuple[str, list[str]]:
    """amcheck if possible; always every table read whole, checked against its primary
    key, and every foreign key checked for orphans. An amcheck failure raises."""
    checked = await amcheck(engine) or "amcheck not available to this role; "
    problems: list[str] = []
    async with engine.connect() as connection:
        tables = (await connection.execute(text(TABLES))).scalars().all()
        foreign_keys = (await connection.execute(text(FOREIGN_KEYS))).all()
        await connection.rollback()
        for table in tables:
            async with connection.begin():
                for setting in ("indexscan", "indexonlyscan", "bitmapscan"):
                    await connection.execute(text(f"SET LOCAL enable_{setting} = off"))
                # Every row read and rendered: every heap page and TOAST value.
                heap = (await connection.execute(text(HEAP_SCAN.format(table=table)))).one()[0]
            async with connection.begin():
                await connection.execute(text("SET LOCAL enable_seqscan = off"))
                indexed = (await connection.execute(text(f'SELECT count(*) FROM "{table}"'))).one()[
                    0
                ]
            if heap != indexed:
                problems.append(f"{table}: {heap} rows in the heap, {indexed} by an index")
        for child, parent, column, key in foreign_keys:
            query = ORPHANS.format(child=child, parent=parent, column=column, key=key)
            if orphans := (await connection.execute(text(query))).scalar_one():
                problems.append(f"{child}.{column}: {orphans} rows without their {parent}")
        await connection.rollback()
    checked += f"{len(tables)} tables scanned whole and by index, {len(foreign_keys)} foreign keys"
    return checked, problems


async def audit_problems(engine: AsyncEngine) -> list[str]:
    async with create_sessionmaker(engine)() as session:
        reports = [await verify_chain(session, chain) for chain in await all_chains(session)]
    return [
        f"audit chain {r.chain} broken at #{r.first_broken_seq}: {r.problem}"
        for r in reports
        if not r.intact
    ]


async def check_database(
    database_url: str, slug: str, service_id: str, capacity: int, confirmed: dict[str, str]
) -> tuple[list[str], int, list[str], str]:
    """(missing confirmed bookings, overbooked slots, integrity problems, how it was checked)."""
    engine = create_engine(database_url)
    try:
        missing = await missing_bookings(engine, slug, confirmed)
        overbooked = await overbooked_slots(engine, service_id, capacity)
        if database_url.startswith("sqlite"):
            method = "PRAGMA integrity_check, foreign_key_check"
            problems: list[str] = []
        else:
            method, problems = await postgres_integrity(engine)
        problems += await audit_problems(engine)
    finally:
        await engine.dispose()
    if database_url.startswith("sqlite"):
        problems = sqlite_integrity(database_url) + problems
    return missing, overbooked, problems, method + "; audit hash chains"
