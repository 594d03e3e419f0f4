"""Telling people and recipients about what happened to the data.

Messages to a person go through the outbox to the contact detail on file;
notices owed to partner integrations (Art. 19) are rows they fetch.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Customer, OutboxMessage, PartnerRead, RecipientNotice


async def tell_person(tx: AsyncSession, customer: Customer, subject: str, body: str) -> bool:
    """Queue a message to the customer's email on file; False when there is none."""
    if not customer.email:
        return False
    tx.add(OutboxMessage(channel="email", recipient=customer.email, subject=subject, body=body))
    return True


async def notify_recipients(
    tx: AsyncSession, customer: Customer, *, kind: str, customer_ref: str, fields: list[str]
) -> int:
    """Art. 19: one notice per partner key that received a changed field of this customer.

    ``fields`` are schema coordinates (``Customer.city``), as partner reads
    record them. A key is told only of the fields it received; a key that
    received none of them is not told at all. Empty ``fields`` concern the
    whole record (a restriction): every key that received anything is told.
    """
    reads = (
        await tx.execute(
            select(PartnerRead.api_key_id, PartnerRead.fields)
            .where(PartnerRead.customer_id == customer.id)
            .order_by(PartnerRead.api_key_id, PartnerRead.day)
        )
    ).all()
    received: dict[str, set[str]] = {}
    for api_key_id, read_fields in reads:
        received.setdefault(api_key_id, set()).update(read_fields or [])
    count = 0
    for api_key_id, got in received.items():
        told = sorted(got.intersection(fields)) if fields else []
        if fields and not told:
            continue
        tx.add(
            RecipientNotice(
                tenant_id=customer.tenant_id,
                api_key_id=api_key_id,
                customer_ref=customer_ref,
                kind=kind,
                fields=told,
            )
        )
        count += 1
    return count
