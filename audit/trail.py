"""The audit trail: append-only, hash-chained per tenant, without personal values.

An event records who (the actor), what (an action), on which record (type and
id) and which fields, never the values. Each event's hash covers its content
and the previous event's hash, so editing or deleting any row breaks the chain
from that point on, which ``verify_chain`` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from basics.principal import Principal
from store.models import AuditEvent, AuditHead
from store.types import new_id, utcnow

GENESIS_HASH = "0" * 64
PLATFORM_CHAIN = "platform"


def _digest(event: AuditEvent) -> str:
    body = {
        "id": event.id,
        "chain": event.chain,
        "seq": event.seq,
        "tenant_id": event.tenant_id,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "fields": list(event.fields),
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim_head(tx: AsyncSession, chain: str) -> Any:
    """Create the chain's head at seq 1, or bump it; return (seq, hash of the previous event)."""
    values = {"chain": chain, "seq": 1, "hash": GENESIS_HASH}
    bump = {"seq": AuditHead.seq + 1}
    insert = postgresql.insert if tx.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(AuditHead).values(values)
    return statement.on_conflict_do_update(index_elements=["chain"], set_=bump).returning(
        AuditHead.seq, AuditHead.hash
    )


async def record(
    tx: AsyncSession,
    *,
    tenant_id: str | None,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None = None,
    fields: Sequence[str] = (),
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with the change).

    The head row is claimed with one upsert that creates it or bumps its
    sequence number: on PostgreSQL its row lock (also between two transactions
    that both find no head yet), on SQLite the write lock, serialises appends to
    one chain so it never forks.
    """
    chain = tenant_id or PLATFORM_CHAIN
    seq, prev_hash = (await tx.execute(_claim_head(tx, chain))).one()
    event = AuditEvent(
        id=new_id(),
        chain=chain,
        seq=seq,
        tenant_id=tenant_id,
        occurred_at=utcnow().replace(microsecond=0),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        fields=sorted(fields),
        details=details or {},
        prev_hash=prev_hash,
    )
    event.hash = _digest(event)
    await tx.execute(update(AuditHead).where(AuditHead.chain == chain).values(hash=event.hash))
    tx.add(event)
    return event


async def record_write(
    tx: AsyncSession, principal: Principal, action: str, row: Any, fields: Sequence[str]
) -> AuditEvent:
    """Audit a write to a tenant's row by the calling principal (field names only)."""
    return await record(
        tx,
        tenant_id=row.tenant_id,
        actor=principal.actor,
        action=action,
        entity_type=type(row).__name__,
        entity_id=row.id,
        fields=fields,
    )


@dataclass(frozen=True)
class ChainReport:
    chain: str
    events: int
    first_broken_seq: int | None
    problem: str | None

    @property
    def intact(self) -> bool:
        return self.first_broken_seq is None


async def verify_chain(session: AsyncSession, chain: str) -> ChainReport:
    """Walk one chain in order and report the first event that does not fit."""
    events = (
        await session.execute(
            select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
        )
    ).scalars()
    expected_prev = GENESIS_HASH
    count = 0
    for expected_seq, event in enumerate(events, start=1):
        count += 1
        if event.seq != expected_seq:
            return ChainReport(chain, count, expected_seq, "an event is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(chain, count, event.seq, "the link to the previous event is broken")
        if _digest(event) != event.hash:
            return ChainReport(chain, count, event.seq, "the event was altered")
        expected_prev = event.hash
    head = (
        await session.execute(select(AuditHead).where(AuditHead.chain == chain))
    ).scalar_one_or_none()
    if head is not None and (head.seq != count or head.hash != expected_prev):
        return ChainReport(chain, count, count + 1, "events after the last one were removed")
    return ChainReport(chain, count, None, None)


async def all_chains(session: AsyncSession) -> list[str]:
    return list(
        (await session.execute(select(AuditHead.chain).order_by(AuditHead.chain))).scalars()
    )
