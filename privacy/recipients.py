"""Which partner integrations received whose personal data, and when.

Art. 15(1)(c) gives a person the right to know the recipients of their data,
and Art. 19 obliges the business to tell those recipients of a rectification
or erasure. Both need a record of partner reads: one row per API key,
customer and day, with the fields that were returned (names, not values).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.engine import write_transaction
from store.models import PartnerRead
from store.types import utcnow


async def record_partner_reads(
    sessions: async_sessionmaker[AsyncSession],
    *,
    tenant_id: str,
    api_key_id: str,
    reads: Mapping[str, set[str]],
) -> None:
    """Merge one request's reads (customer id -> coordinates) into today's rows."""
    if not reads:
        return
    for attempt in range(2):
        try:
            await _merge(sessions, tenant_id, api_key_id, reads, utcnow().date())
            return
        except IntegrityError:
            # A concurrent request of the same key inserted today's row first.
            if attempt:
                raise


async def _merge(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: str,
    api_key_id: str,
    reads: Mapping[str, set[str]],
    day: date,
) -> None:
    now = utcnow()
    async with write_transaction(sessions) as tx:
        existing = {
            row.customer_id: row
            for row in (
                await tx.execute(
                    select(PartnerRead).where(
                        PartnerRead.api_key_id == api_key_id,
                        PartnerRead.day == day,
                        PartnerRead.customer_id.in_(list(reads)),
                    )
                )
            ).scalars()
        }
        for customer_id, coordinates in reads.items():
            row = existing.get(customer_id)
            if row is None:
                tx.add(
                    PartnerRead(
                        tenant_id=tenant_id,
                        customer_id=customer_id,
                        api_key_id=api_key_id,
                        day=day,
                        fields=sorted(coordinates),
                        first_read_at=now,
                        last_read_at=now,
                    )
                )
            else:
                merged = sorted(set(row.fields) | coordinates)
                if merged != row.fields:
                    row.fields = merged
                row.last_read_at = now
