"""Online holds: a draft keeps one slot for a quarter of an hour while the person types.

The draft holds no personal data. Its hold counts towards the slot's capacity
until ``hold_expires_at``; the draft itself (and the cookie naming it) lives
for ``DRAFT_LIFETIME`` so the person can come back and finish.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.engine import write_transaction
from store.models import BookingDraft, Service
from store.types import new_id

HOLD_MINUTES = 15
DRAFT_LIFETIME = timedelta(days=7)


def new_hold(tenant_id: str, service: Service, starts_at: datetime, now: datetime) -> BookingDraft:
    """A draft holding the slot at ``starts_at`` for ``HOLD_MINUTES`` from ``now``."""
    return BookingDraft(
        id=new_id(),
        tenant_id=tenant_id,
        service_id=service.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=service.duration_minutes),
        hold_expires_at=now + timedelta(minutes=HOLD_MINUTES),
        expires_at=now + DRAFT_LIFETIME,
        created_at=now,
    )


def hold_is_live(draft: BookingDraft, now: datetime) -> bool:
    return draft.completed_at is None and draft.hold_expires_at > now


async def release(tx: AsyncSession, draft_id: str) -> None:
    """Let an unfinished draft's hold go (its holder started another booking)."""
    await tx.execute(
        delete(BookingDraft).where(BookingDraft.id == draft_id, BookingDraft.completed_at.is_(None))
    )


async def claim(tx: AsyncSession, draft_id: str, now: datetime) -> bool:
    """Mark the draft completed; False when another completion claimed it first."""
    claimed = await tx.execute(
        update(BookingDraft)
        .where(BookingDraft.id == draft_id, BookingDraft.completed_at.is_(None))
        .values(completed_at=now)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


async def purge_expired_drafts(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Delete drafts whose cookie has lapsed (completed or not); returns how many.

    Their holds stopped counting long before; this only keeps the table small.
    """
    async with write_transaction(sessions) as tx:
        deleted = await tx.execute(delete(BookingDraft).where(BookingDraft.expires_at <= now))
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]
