"""Rectification (GDPR Art. 16) and telling the recipients about it (Art. 19).

A correction changes the person's customer records and nothing else: issued
documents such as invoices are bookkeeping records and are never rewritten.

Every changed record gets one audit event naming the changed columns (never
the values), and every partner API key whose recorded reads (``partner_reads``)
include a changed field of that customer gets a ``RecipientNotice`` naming
those fields (``Customer.city``), which the partner fetches and acknowledges
through the API.

A corrected value is one the person wanted gone: messages still addressed to a
replaced email or phone are deleted (unless another record still has that
address), and the caller flushes SQLite's WAL after the commit
(``privacy.flush``), so no old page image keeps the old value.

A data subject's new email or phone number is not applied on request: a
code goes to the new address and the change waits in the code's row until the
person confirms it, so nobody can move their records onto an address they do
not control (which would show those records to its owner).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail as audit
from authz.kernel import owned_by
from basics.errors import Conflict
from basics.ids import encode_id
from privacy import codes, outbox
from privacy.identities import identity_keys, merged_keys
from privacy.notices import notify_recipients
from store.models import Customer, OutboxMessage, Tenant
from store.types import utcnow

ACTION = "customer.rectify"
NOTICE_KIND = "RECTIFICATION"

# Column -> GraphQL field name of every customer column a rectification may change.
RECTIFIABLE = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "street": "street",
    "postal_code": "postalCode",
    "city": "city",
}
# Contact details a data subject must prove they control before they are applied.
CONFIRM_PURPOSES = {"email": codes.RECTIFY_EMAIL, "phone": codes.RECTIFY_PHONE}
_CHANNELS = {"email": outbox.EMAIL, "phone": outbox.SMS}


async def subject_customers(
    tx: AsyncSession, email: str, tenant_id: str | None = None
) -> list[Customer]:
    """The person's customer records (matched by verified email), locked for the change."""
    query = select(Customer).where(Customer.email == email)
    if tenant_id is not None:
        query = query.where(owned_by(Customer, tenant_id))
    rows = await tx.execute(query.order_by(Customer.tenant_id, Customer.id).with_for_update())
    return list(rows.scalars())


async def ensure_not_restricted(tx: AsyncSession, customers: Sequence[Customer]) -> None:
    """Art. 18: a restricted record is kept as it is; refuse the whole change (CONFLICT)."""
    restricted = [c for c in customers if c.restricted_at is not None]
    if not restricted:
        return
    slugs = sorted(
        (
            await tx.execute(
                select(Tenant.slug).where(Tenant.id.in_({c.tenant_id for c in restricted}))
            )
        ).scalars()
    )
    raise Conflict(
        "processing of this customer record is restricted; it cannot be changed now",
        restrictedTenants=slugs,
    )


async def rectify(
    tx: AsyncSession,
    customers: Sequence[Customer],
    changes: Mapping[str, Any],
    *,
    actor: str,
    journal_key: bytes,
) -> list[str]:
    """Apply validated column values to each record; audit and notify per changed record.

    Returns the GraphQL names of the fields that changed on any record. A value
    equal to what a record already holds is no change for that record. An email
    or phone that is replaced leaves its keyed hash (``journal_key``) on the
    record, so an erasure journal names it and a restored backup that still
    holds the old value is recognised.
    """
    unknown = set(changes) - set(RECTIFIABLE)
    if unknown:
        raise ValueError(f"not rectifiable: {sorted(unknown)}")
    changed_anywhere: set[str] = set()
    replaced: set[str] = set()
    now = utcnow()
    for customer in customers:
        columns = sorted(c for c, v in changes.items() if getattr(customer, c) != v)
        if not columns:
            continue
        _remember_identity(customer, columns, journal_key)
        replaced.update(getattr(customer, c) for c in CONFIRM_PURPOSES if c in columns)
        for column in columns:
            setattr(customer, column, changes[column])
        customer.updated_at = now
        names = [RECTIFIABLE[c] for c in columns]
        changed_anywhere.update(names)
        notified = await notify_recipients(
            tx,
            customer,
            kind=NOTICE_KIND,
            customer_ref=encode_id("Customer", customer.id),
            fields=[f"Customer.{name}" for name in names],
        )
        await audit.record(
            tx,
            tenant_id=customer.tenant_id,
            actor=actor,
            action=ACTION,
            entity_type="Customer",
            entity_id=customer.id,
            fields=columns,
            details={"recipientsNotified": notified},
        )
    await forget_messages_to(tx, {a for a in replaced if a})
    return sorted(changed_anywhere, key=list(RECTIFIABLE.values()).index)


async def forget_messages_to(tx: AsyncSession, addresses: set[str]) -> int:
    """Delete outbox messages to replaced addresses that no customer record still has.

    A corrected email or phone must not live on as the recipient of an old
    message (a sign-in code, a notice). An address another record still holds
    (the same person at a business the change did not reach) keeps its messages.
    """
    await tx.flush()
    gone = []
    for address in sorted(addresses):
        lowered = address.strip().lower()
        still_used = (
            await tx.execute(
                select(Customer.id)
                .where((func.lower(Customer.email) == lowered) | (Customer.phone == address))
                .limit(1)
            )
        ).first()
        if still_used is None:
            gone.append(lowered)
    if not gone:
        return 0
    deleted = await tx.execute(
        delete(OutboxMessage)
        .where(func.lower(OutboxMessage.recipient).in_(gone))
        .returning(OutboxMessage.id)
    )
    return len(deleted.all())


def _remember_identity(customer: Customer, columns: Sequence[str], journal_key: bytes) -> None:
    """Keep the keyed hashes of an email or phone about to be replaced."""
    old = identity_keys(
        journal_key,
        email=customer.email if "email" in columns else None,
        phone=customer.phone if "phone" in columns else None,
    )
    if old:
        customer.former_identity_keys = merged_keys(customer.former_identity_keys or [], old)


async def request_contact_change(
    tx: AsyncSession,
    signing_key: str,
    *,
    subject_email: str,
    column: str,
    value: str,
    tenant_id: str | None,
) -> None:
    """Send a code to the new email or phone; the change waits in the code's row until confirmed."""
    purpose = CONFIRM_PURPOSES[column]
    _row, code = await codes.issue(
        tx,
        signing_key,
        purpose=purpose,
        target_key=codes.address_key(signing_key, codes.EMAIL, subject_email),
        payload={"column": column, "value": value, "tenantId": tenant_id},
    )
    subject, body = codes.message(purpose, code)
    await outbox.enqueue(tx, _CHANNELS[column], value, subject, body)


async def confirm_contact_change(
    tx: AsyncSession,
    signing_key: str,
    *,
    subject_email: str,
    code: str | None,
    actor: str,
    journal_key: bytes,
) -> tuple[list[Customer], list[str]] | None:
    """Apply the pending change whose code this is; None if the code is not valid.

    The records are looked up again now, so the change reaches every record the
    person has at confirmation time (within the business they named, if any).
    """
    redeemed = await codes.redeem(
        tx,
        signing_key,
        purposes=tuple(CONFIRM_PURPOSES.values()),
        target_key=codes.address_key(signing_key, codes.EMAIL, subject_email),
        code=code,
    )
    if redeemed is None:
        return None
    pending = dict(redeemed.payload)
    # The new value has served its purpose; it must not linger in the code's row.
    redeemed.payload = {}
    column = str(pending["column"])
    customers = await subject_customers(tx, subject_email, pending.get("tenantId"))
    await ensure_not_restricted(tx, customers)
    changed = await rectify(
        tx, customers, {column: pending["value"]}, actor=actor, journal_key=journal_key
    )
    return customers, changed
