"""The purge: delete what no retention duty holds any longer.

Run daily (``tenantgraph purge``). It deletes:

- documents kept after their person was erased (``retained_since`` set) once
  their retention date has passed: an invoice the day after its
  ``retain_until`` (5 years from the end of its financial year, Danish
  Bookkeeping Act), an inspection report after the tenant's report retention
  period. Until then they were restricted to ``tenant_admin`` and
  ``partner_accounting``; now the erasure the person asked for is complete;
- one-time codes past their expiry (used or not; a code is worthless after it);
- outbox messages sent more than ``SENT_MESSAGE_DAYS`` ago (they hold the
  address and text sent to a person, needed only to investigate a delivery),
  and messages never sent within ``UNSENT_MESSAGE_DAYS`` of being queued (no
  sender delivers their channel, or every attempt failed: a code in one is
  long worthless, and the address must not stay for ever);
- recipient notices delivered more than ``DELIVERED_NOTICE_DAYS`` ago (the
  partner has fetched them; the audit trail keeps that it happened).

Each deletion is an audit event with counts, per tenant (or on the platform
chain for codes and messages, which belong to no tenant); nothing is recorded
for a run that deleted nothing. The erasure journal is not purged: it must
outlive every backup it may have to be replayed against.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import trail as audit
from privacy.retention_dates import retention_of
from store.engine import write_transaction
from store.models import Document, OneTimeCode, OutboxMessage, RecipientNotice, Tenant

PURGE_ACTOR = "system:retention"
SENT_MESSAGE_DAYS = 7
UNSENT_MESSAGE_DAYS = 30
DELIVERED_NOTICE_DAYS = 90


@dataclass(frozen=True)
class PurgeReport:
    now: datetime
    documents: int = 0
    documents_by_tenant: dict[str, dict[str, int]] = field(default_factory=dict)
    one_time_codes: int = 0
    outbox_messages: int = 0
    recipient_notices: int = 0

    @property
    def total(self) -> int:
        return self.documents + self.one_time_codes + self.outbox_messages + self.recipient_notices

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "documents": self.documents,
            "documentsByTenant": self.documents_by_tenant,
            "oneTimeCodes": self.one_time_codes,
            "outboxMessages": self.outbox_messages,
            "recipientNotices": self.recipient_notices,
        }


def _expired(row: Any, tenant: Tenant, today: date) -> bool:
    """Whether nothing holds a retained document any longer (its last day is before today)."""
    held = retention_of(row.kind, row.issued_at, row.retain_until, tenant)
    return held is None or held[1] < today


async def _purge_documents(tx: AsyncSession, today: date) -> dict[str, Counter[str]]:
    """Retained documents past their date, by tenant and kind."""
    rows = (
        await tx.execute(
            select(
                Document.id,
                Document.tenant_id,
                Document.kind,
                Document.issued_at,
                Document.retain_until,
            )
            .where(Document.retained_since.is_not(None))
            # Erasure always sets the date; a row without one is decided below.
            .where(Document.retain_until.is_(None) | (Document.retain_until < today))
            .order_by(Document.tenant_id, Document.id)
        )
    ).all()
    tenants = {
        t.id: t
        for t in (
            await tx.execute(select(Tenant).where(Tenant.id.in_({r.tenant_id for r in rows})))
        ).scalars()
    }
    by_tenant: dict[str, Counter[str]] = defaultdict(Counter)
    doomed = []
    for row in rows:
        if _expired(row, tenants[row.tenant_id], today):
            doomed.append(row.id)
            by_tenant[row.tenant_id][row.kind.value] += 1
    if doomed:
        await tx.execute(delete(Document).where(Document.id.in_(doomed)))
    return by_tenant


async def _purge_delivered_notices(tx: AsyncSession, now: datetime) -> Counter[str]:
    """Delete recipient notices delivered long enough ago; how many, per tenant."""
    deleted = await tx.execute(
        delete(RecipientNotice)
        .where(
            RecipientNotice.delivered_at.is_not(None),
            RecipientNotice.delivered_at < now - timedelta(days=DELIVERED_NOTICE_DAYS),
        )
        .returning(RecipientNotice.tenant_id)
    )
    return Counter(deleted.scalars())


async def _purge_messages(tx: AsyncSession, now: datetime) -> int:
    """Sent messages after ``SENT_MESSAGE_DAYS``, unsent ones after ``UNSENT_MESSAGE_DAYS``."""
    sent_long_ago = OutboxMessage.sent_at.is_not(None) & (
        OutboxMessage.sent_at < now - timedelta(days=SENT_MESSAGE_DAYS)
    )
    never_sent = OutboxMessage.sent_at.is_(None) & (
        OutboxMessage.created_at < now - timedelta(days=UNSENT_MESSAGE_DAYS)
    )
    deleted = await tx.execute(
        delete(OutboxMessage).where(sent_long_ago | never_sent).returning(OutboxMessage.id)
    )
    return len(deleted.all())


async def purge(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> PurgeReport:
    """Delete everything retention no longer holds as of ``now``, in one transaction.

    After it, on SQLite, call ``privacy.flush.flush_erased_pages`` so the
    deleted pages leave the WAL (the CLI does).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.date()
    async with write_transaction(sessions) as tx:
        documents = await _purge_documents(tx, today)
        for tenant_id, kinds in sorted(documents.items()):
            await audit.record(
                tx,
                tenant_id=tenant_id,
                actor=PURGE_ACTOR,
                action="retention.purge",
                entity_type="Document",
                details={"documents": sum(kinds.values()), "by_kind": dict(sorted(kinds.items()))},
            )

        notices_by_tenant = await _purge_delivered_notices(tx, now)
        for tenant_id, count in sorted(notices_by_tenant.items()):
            await audit.record(
                tx,
                tenant_id=tenant_id,
                actor=PURGE_ACTOR,
                action="retention.purge",
                entity_type="RecipientNotice",
                details={"recipient_notices": count},
            )

        codes = len(
            (
                await tx.execute(
                    delete(OneTimeCode)
                    .where(OneTimeCode.expires_at < now)
                    .returning(OneTimeCode.id)
                )
            ).all()
        )
        messages = await _purge_messages(tx, now)
        if codes or messages:
            await audit.record(
                tx,
                tenant_id=None,
                actor=PURGE_ACTOR,
                action="retention.purge",
                entity_type="Platform",
                details={"one_time_codes": codes, "outbox_messages": messages},
            )
    return PurgeReport(
        now=now,
        documents=sum(sum(kinds.values()) for kinds in documents.values()),
        documents_by_tenant={t: dict(k) for t, k in sorted(documents.items())},
        one_time_codes=codes,
        outbox_messages=messages,
        recipient_notices=sum(notices_by_tenant.values()),
    )
