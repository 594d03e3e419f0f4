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
    """Art. 19: one notice per partner key that received this customer's data."""
    keys = (
        await tx.execute(
            select(PartnerRead.api_key_id).where(PartnerRead.customer_id == customer.id).distinct()
        )
    ).scalars()
    count = 0
    for api_key_id in keys:
        tx.add(
            RecipientNotice(
                tenant_id=customer.tenant_id,
                api_key_id=api_key_id,
                customer_ref=customer_ref,
                kind=kind,
                fields=sorted(fields),
            )
        )
        count += 1
    return count
