"""Seeding the demo: two inspection stations and a workshop, once.

Demos, manual testing and performance checks need data that looks like the
real thing: Danish names and addresses, valid phone numbers, plausible cars,
bookings inside opening hours and real invoice and inspection-report text.
Everything is drawn from a single seeded ``random.Random`` so two runs with
the same ``seed`` and ``now`` produce the same data (only the random primary
keys differ). Some people are customers at two businesses with the same
e-mail address, so a data subject's view spans tenants.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from demo import content
from demo.people import Generator, people_per_business
from demo.plan import build_business
from demo.rows import Rows
from store.models import Booking, Customer, Document, Service, Tenant, Vehicle


@dataclass(frozen=True)
class DemoSummary:
    """Row counts of the demo tenants after seeding."""

    tenants: int
    services: int
    customers: int
    vehicles: int
    bookings: int
    documents: int
    created: bool  # False when the demo data was already there


def demo_slugs() -> tuple[str, ...]:
    return tuple(spec.slug for spec in content.businesses())


async def seed_demo(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    customers_per_tenant: int = 200,
    seed: int = 2026,
    now: datetime | None = None,
) -> DemoSummary:
    """Insert the demo tenants unless they are there already.

    Safe to run repeatedly: tenants are recognised by their slugs. Each tenant
    is committed in its own transaction; after an interrupted run only the
    missing tenants are added. All tenants' data is still generated, so the
    random stream, and with it every value, is the same as in a full run.
    Dates are relative to ``now`` (default: the current time).
    """
    if customers_per_tenant < 1:
        raise ValueError("customers_per_tenant must be at least 1")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")

    existing = await _existing_slugs(session_factory)
    created = False
    businesses = content.businesses()
    if len(existing) < len(businesses):
        gen = Generator(random.Random(seed), now)
        people = people_per_business(gen, customers_per_tenant)
        for spec, tenant_people in zip(businesses, people, strict=True):
            rows = build_business(gen, spec, tenant_people)
            if spec.slug not in existing:
                created = await _insert(session_factory, spec.slug, rows) or created
    return await _summary(session_factory, created=created)


async def _existing_slugs(session_factory: async_sessionmaker[AsyncSession]) -> set[str]:
    async with session_factory() as session:
        result = await session.scalars(select(Tenant.slug).where(Tenant.slug.in_(demo_slugs())))
        return set(result)


async def _insert(session_factory: async_sessionmaker[AsyncSession], slug: str, rows: Rows) -> bool:
    """Insert one tenant's rows; False when a concurrent run inserted it first."""
    async with session_factory() as session:
        try:
            await rows.insert(session)
            await session.commit()
        except IntegrityError:
            await session.rollback()
            if slug in await _existing_slugs(session_factory):
                return False
            raise
    return True


async def _summary(
    session_factory: async_sessionmaker[AsyncSession], *, created: bool
) -> DemoSummary:
    async with session_factory() as session:
        tenant_ids = list(
            await session.scalars(select(Tenant.id).where(Tenant.slug.in_(demo_slugs())))
        )
        counts: list[int] = []
        for model in (Service, Customer, Vehicle, Booking, Document):
            count = await session.scalar(
                select(func.count()).select_from(model).where(model.tenant_id.in_(tenant_ids))
            )
            counts.append(count or 0)
    services, customers, vehicles, bookings, documents = counts
    return DemoSummary(
        tenants=len(tenant_ids),
        services=services,
        customers=customers,
        vehicles=vehicles,
        bookings=bookings,
        documents=documents,
        created=created,
    )
