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

from sqlalchemy import Table, bindparam, select, update
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


_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class _AppendStatements:
    """The statements of one append, built once per dialect and bound per event."""

    claim_head: Any
    # Run in order with the event's values and ``head_chain``/``head_hash``.
    append: tuple[Any, ...]


def _append_statements(dialect: str) -> _AppendStatements:
    """Claim the head with one upsert; then move it and insert the event.

    On PostgreSQL moving the head and inserting the event are one statement (a
    data-modifying CTE), one round trip less in every write's transaction.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    claim = (
        insert(AuditHead)
        .values(chain=bindparam("head_chain"), seq=1, hash=GENESIS_HASH)
        .on_conflict_do_update(index_elements=["chain"], set_={"seq": AuditHead.seq + 1})
        .returning(AuditHead.seq, AuditHead.hash)
    )
    move_head = (
        update(AuditHead)
        .where(AuditHead.chain == bindparam("head_chain"))
        .values(hash=bindparam("head_hash"))
    )
    # The event's values bind by their own names, so that no execution
    # parameter is ever taken for a column of the head's UPDATE.
    insert_event = _EVENTS.insert().values(
        {column: bindparam(f"event_{column.key}", type_=column.type) for column in _EVENTS.columns}
    )
    if dialect == "postgresql":
        return _AppendStatements(claim, (insert_event.add_cte(move_head.cte("moved_head")),))
    return _AppendStatements(claim, (move_head, insert_event))


_STATEMENTS = {name: _append_statements(name) for name in ("postgresql", "sqlite")}


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
    one chain so it never forks. The event is inserted at once, not at the
    session's flush, so the chain's head and its newest event never part.
    """
    chain = tenant_id or PLATFORM_CHAIN
    statements = _STATEMENTS[tx.get_bind().dialect.name]
    # The write being recorded goes to the database first: the head stays
    # claimed until commit, and every other write of the tenant waits for it,
    # so nothing but the append and the commit should happen while it is held.
    await tx.flush()
    seq, prev_hash = (await tx.execute(statements.claim_head, {"head_chain": chain})).one()
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
    values = {f"event_{column.key}": getattr(event, column.key) for column in _EVENTS.columns}
    values.update(head_chain=chain, head_hash=event.hash)
    for statement in statements.append:
        await tx.execute(statement, values)
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
