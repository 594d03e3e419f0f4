"""Erasure of one customer record (one person at one business), derived from the data map.

GDPR Art. 17 gives the person the right to erasure; Art. 17(3)(b) lets a legal
duty win over it, record by record, never as a blanket refusal. Every record
that belongs to the person therefore gets one outcome:

- ``DELETED``: the row is gone (the customer row with its contact data, notes,
  consents and objections; vehicles the person owns; documents nobody must
  keep; partner-read records; one-time codes and outbox messages addressed to
  any email or phone the person had, including those a rectification replaced).
- ``ANONYMISED``: the row stays for the business's statistics and books, but
  every column is treated as ``DATA_MAP`` says (bookings: customer and vehicle
  links and notes cleared, the reference the person was given replaced by a
  fresh random one; date, service and price kept). Nothing that links the row
  to the person is left, and no hash of a phone number, email, plate or VIN
  either: a hash of an 8-digit phone number is reversed by trying all 10^8,
  so it is pseudonymisation, not erasure. Privacy requests lose their
  customer link the same way and stay as proof the request was answered.
- ``RETAINED``: kept unaltered because the law says so, with the legal basis
  and the date it goes. Issued invoices are accounting material under the
  Danish Bookkeeping Act and must not be altered; inspection reports are kept
  when the business has set a report retention period. A retained document
  gets ``retained_since``, which hides it from everyone but ``tenant_admin``
  and ``partner_accounting`` (row rules,
  ``authz/policy.d/rows.csv``), and loses its links to the
  deleted customer row and to the anonymised booking, keeping that booking's
  reference and amount so it stands on its own in the books; ``tenantgraph
  purge`` deletes it when its date passes. When the erasure answers a request,
  its receipt goes to the person's address in the same transaction
  (``privacy.erasure_message``): that one message is RETAINED until delivered.

Everything happens in the caller's one transaction: a failure rolls all of it
back and the erasure can simply be run again. Erasing a customer that is no
longer there returns a receipt with ``found=False`` and changes nothing, so a
retry after a crash is harmless.

Backups: see ``privacy.journal``; the pieces of the work live in
``privacy.erasure_targets`` (what belongs to the person), ``privacy.anonymise``
(what happens to each row), ``privacy.erasure_receipt`` (the outcomes) and
``privacy.flush`` (the bytes on disk).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail as audit
from basics.ids import encode_id
from privacy import outbox
from privacy.anonymise import apply
from privacy.erasure_message import receipt_message, receipt_message_outcome
from privacy.erasure_receipt import ErasurePlan, ErasureReceipt, Outcome, counts_by_outcome
from privacy.erasure_targets import Targets, collect, load_tenant
from privacy.identities import identity_keys, merged_keys
from store.data_map import RowErasure
from store.models import ErasureJournalEntry, Tenant
from store.types import new_id, utcnow

if TYPE_CHECKING:
    from basics.settings import Settings

ERASE_ACTION = "customer.erase"

# Tables that hold something about a person, and how erasure treats their
# rows. A test compares this with DATA_MAP, so a change there that erasure does
# not follow fails loudly instead of silently leaving data behind.
HANDLED_ROWS: dict[str, RowErasure] = {
    "customers": RowErasure.DELETE,
    "vehicles": RowErasure.DELETE,
    "bookings": RowErasure.ANONYMISE,
    "documents": RowErasure.BY_KIND,
    "one_time_codes": RowErasure.DELETE,
    "outbox": RowErasure.DELETE,
    "partner_reads": RowErasure.CASCADE,
    # Search suffixes go with the customer row (foreign key and triggers); the
    # receipt's DELETED customer record stands for them.
    "customer_search_name": RowErasure.CASCADE,
    "customer_search_email": RowErasure.CASCADE,
    "customer_search_phone": RowErasure.CASCADE,
    "privacy_requests": RowErasure.KEEP,
}


def _signing_key(settings: Settings | None) -> str | None:
    return settings.signing_key() if settings is not None else None


async def plan_erasure(
    session: AsyncSession,
    customer_id: str,
    tenant: Tenant | str,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> ErasurePlan | None:
    """What ``erase_customer`` would do to this customer record now; None if it is not there.

    ``customer_id`` is the row key (not the global id); ``tenant`` the tenant
    row or its id, so a customer of another tenant is simply not found.
    Without ``settings`` one-time codes are matched only by what they name,
    not by the keyed hash of the address they were sent to.
    """
    now = now or utcnow()
    tenant_row = await load_tenant(session, tenant)
    if tenant_row is None:
        return None
    targets = await collect(
        session,
        customer_id,
        tenant_row,
        now,
        signing_key=_signing_key(settings),
        journal_key=settings.erasure_journal_key() if settings is not None else None,
        lock=False,
    )
    if targets is None:
        return None
    return ErasurePlan(
        customer_id=encode_id("Customer", customer_id),
        tenant_id=tenant_row.id,
        records=targets.records(),
        cancelled_bookings=len(targets.cancel_ids),
        recipients=len(targets.recipients()),
    )


async def erase_customer(
    tx: AsyncSession,
    customer_id: str,
    tenant: Tenant | str,
    *,
    actor: str,
    settings: Settings,
    request_id: str | None = None,
    now: datetime | None = None,
    confirm_to: str | None = None,
) -> ErasureReceipt:
    """Erase one customer record in the caller's transaction and say what became of each record.

    ``confirm_to``: the address the person made the request from; the receipt
    is queued to it in the same transaction, before the address is erased, and
    the receipt lists that one message as kept until it has been delivered.

    ``tx`` must be a write transaction (``store.engine.write_transaction``);
    nothing is committed here, so the caller's own changes (a privacy
    request's status) commit or roll back together with the erasure. A
    customer that is not in ``tenant`` (erased already, never there, another
    tenant's) gives a receipt with ``found=False`` and changes nothing.
    After the commit, call ``flush_erased_pages`` so SQLite's WAL lets go of
    the old pages.
    """
    return await erase(
        tx,
        customer_id,
        tenant,
        actor=actor,
        settings=settings,
        request_id=request_id,
        now=now or utcnow(),
        journal=True,
        confirm_to=confirm_to,
    )


def _journal_keys(targets: Targets, settings: Settings) -> list[str]:
    """Keyed hashes of every email and phone the record had: now, and before rectifications."""
    customer = targets.customer
    current = identity_keys(
        settings.erasure_journal_key(), email=customer.email, phone=customer.phone
    )
    return merged_keys(current, customer.former_identity_keys or [])


async def erase(
    tx: AsyncSession,
    customer_id: str,
    tenant: Tenant | str,
    *,
    actor: str,
    settings: Settings,
    request_id: str | None,
    now: datetime,
    journal: bool,
    confirm_to: str | None = None,
) -> ErasureReceipt:
    """``erase_customer``, and the journal replay's way in (which writes no new entry)."""
    global_id = encode_id("Customer", customer_id)
    tenant_row = await load_tenant(tx, tenant)
    tenant_id = tenant_row.id if tenant_row is not None else str(tenant)
    targets = None
    if tenant_row is not None:
        targets = await collect(
            tx,
            customer_id,
            tenant_row,
            now,
            signing_key=settings.signing_key(),
            journal_key=settings.erasure_journal_key(),
            lock=True,
        )
    if targets is None:
        return ErasureReceipt(global_id, tenant_id, False, now, request_id=request_id)

    message_id = new_id() if confirm_to else None
    records = targets.records()
    if message_id is not None:
        records += (receipt_message_outcome(message_id, now),)
    journal_keys = _journal_keys(targets, settings)
    await apply(tx, targets, now)
    receipt = ErasureReceipt(
        customer_id=global_id,
        tenant_id=tenant_id,
        found=True,
        erased_at=now,
        records=records,
        cancelled_bookings=len(targets.cancel_ids),
        recipients_notified=len(targets.recipients()),
        request_id=request_id,
    )
    if confirm_to and message_id is not None:
        subject, body = receipt_message(receipt, targets.tenant.name)
        await outbox.enqueue(tx, outbox.EMAIL, confirm_to, subject, body, message_id=message_id)
    journal_id = _write_journal(tx, targets, journal_keys, receipt) if journal else None
    await audit.record(
        tx,
        tenant_id=tenant_id,
        actor=actor,
        action=ERASE_ACTION,
        entity_type="Customer",
        entity_id=global_id,
        details={
            "counts": counts_by_outcome(records),
            "retained": [r.id for r in records if r.outcome is Outcome.RETAINED],
            "cancelled_bookings": receipt.cancelled_bookings,
            "recipients_notified": receipt.recipients_notified,
            "journal_entry": journal_id,
            "request_id": request_id,
        },
    )
    await tx.flush()
    return receipt


def _write_journal(
    tx: AsyncSession, targets: Targets, keys: list[str], receipt: ErasureReceipt
) -> str:
    """One journal entry: the row's id and every identity hash, for a later replay."""
    entry = ErasureJournalEntry(
        id=new_id(),
        tenant_id=receipt.tenant_id,
        customer_id=targets.customer.id,
        identity_keys=keys,
        erased_at=receipt.erased_at,
        request_id=receipt.request_id,
    )
    tx.add(entry)
    return entry.id
