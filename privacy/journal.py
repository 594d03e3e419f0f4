"""Keeping erased people erased after an older backup is restored.

Every erasure writes an ``ErasureJournalEntry`` holding the erased customer
row's opaque id and HMACs of every normalised email and E.164 phone the
record ever had (the current ones, and those a rectification replaced), keyed with
``Settings.erasure_journal_key()``, which lives outside the database and its
backups. After restoring an older backup, ``replay_journal`` finds the people
who were erased since and erases them again. The journal is the one place a
keyed hash of a contact detail is kept on purpose: without the key it cannot
be reversed or linked, and it exists only to keep erased people erased.

A restored row is matched by its id (a backup keeps the row's id, whatever its
contact details were then) or by any of its email and phone hashes, current or
former (the same person re-imported under a new id).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authz.kernel import owned_by
from privacy.erasure import erase
from privacy.erasure_receipt import ErasureReceipt
from privacy.flush import engine_of, flush_erased_pages
from privacy.identities import identity_keys
from store.engine import write_transaction
from store.models import Customer, ErasureJournalEntry, Tenant
from store.types import utcnow

if TYPE_CHECKING:
    from basics.settings import Settings

REPLAY_ACTOR = "system:erasure-replay"


@dataclass(frozen=True)
class ReplayReport:
    """What a journal replay found and erased again."""

    journal_entries: int
    entries_copied: int
    customers_checked: int
    receipts: tuple[ErasureReceipt, ...]

    @property
    def erased(self) -> int:
        return len(self.receipts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "journalEntries": self.journal_entries,
            "entriesCopied": self.entries_copied,
            "customersChecked": self.customers_checked,
            "erased": [r.as_dict() for r in self.receipts],
        }


async def _journal_entries(
    sessions: async_sessionmaker[AsyncSession],
) -> list[ErasureJournalEntry]:
    async with sessions() as session:
        return list(
            (
                await session.execute(
                    select(ErasureJournalEntry).order_by(
                        ErasureJournalEntry.erased_at, ErasureJournalEntry.id
                    )
                )
            ).scalars()
        )


async def _copy_missing_entries(
    sessions: async_sessionmaker[AsyncSession], entries: Sequence[ErasureJournalEntry]
) -> int:
    """Bring the restored database's journal up to date (for tenants that exist there)."""
    if not entries:
        return 0
    async with write_transaction(sessions) as tx:
        present = set((await tx.execute(select(ErasureJournalEntry.id))).scalars())
        tenants = set((await tx.execute(select(Tenant.id))).scalars())
        missing = [e for e in entries if e.id not in present and e.tenant_id in tenants]
        for entry in missing:
            tx.add(
                ErasureJournalEntry(
                    id=entry.id,
                    tenant_id=entry.tenant_id,
                    identity_keys=list(entry.identity_keys),
                    customer_id=entry.customer_id,
                    erased_at=entry.erased_at,
                    request_id=entry.request_id,
                )
            )
    return len(missing)


async def _matches(
    sessions: async_sessionmaker[AsyncSession],
    entries: Sequence[ErasureJournalEntry],
    key: bytes,
) -> tuple[int, list[tuple[str, str]]]:
    """(customers checked, [(tenant id, customer id)]) of live customers the journal names."""
    keys_by_tenant: dict[str, set[str]] = defaultdict(set)
    ids_by_tenant: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        keys_by_tenant[entry.tenant_id].update(entry.identity_keys)
        if entry.customer_id:
            ids_by_tenant[entry.tenant_id].add(entry.customer_id)
    checked = 0
    matches: list[tuple[str, str]] = []
    async with sessions() as session:
        for tenant_id in sorted(keys_by_tenant.keys() | ids_by_tenant.keys()):
            erased_keys, erased_ids = keys_by_tenant[tenant_id], ids_by_tenant[tenant_id]
            rows = await session.stream(
                select(Customer.id, Customer.email, Customer.phone, Customer.former_identity_keys)
                .where(owned_by(Customer, tenant_id))
                .order_by(Customer.id)
            )
            async for row in rows:
                checked += 1
                keys = identity_keys(key, email=row.email, phone=row.phone)
                keys += row.former_identity_keys or []
                if row.id in erased_ids or erased_keys.intersection(keys):
                    matches.append((tenant_id, row.id))
    return checked, matches


async def replay_journal(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    journal: async_sessionmaker[AsyncSession] | None = None,
) -> ReplayReport:
    """Erase again everyone the journal says was erased, after an older backup was restored.

    ``sessions`` is the restored database. ``journal`` is where the newer
    journal lives (the database as it was before the restore, or a copy of
    it); by default the same database, which catches customers re-imported
    after their erasure. Entries missing from the restored journal are copied
    in first, so it is complete again.

    Matching computes the HMAC of every live customer's email and phone, per
    tenant with journal entries, in Python: one indexed scan of those tenants'
    customers and two HMAC-SHA256 per row (about a microsecond each), so some
    100,000 customers take well under a second. A keyed hash cannot be looked
    up in SQL without storing it next to the customer, which would be a
    pseudonym of every person in the database.
    """
    entries = await _journal_entries(journal or sessions)
    copied = await _copy_missing_entries(sessions, entries) if journal is not None else 0
    checked, matches = await _matches(sessions, entries, settings.erasure_journal_key())
    receipts = []
    for tenant_id, customer_id in matches:
        async with write_transaction(sessions) as tx:
            receipt = await erase(
                tx,
                customer_id,
                tenant_id,
                actor=REPLAY_ACTOR,
                settings=settings,
                request_id=None,
                now=utcnow(),
                journal=False,
            )
        if receipt.found:
            receipts.append(receipt)
    if receipts:
        await flush_erased_pages(engine_of(sessions))
    return ReplayReport(len(entries), copied, checked, tuple(receipts))
