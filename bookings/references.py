"""Booking references: short, readable over the phone, unique within a tenant."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Booking

# No look-alike characters: no 0/O, 1/I.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8


def new_reference() -> str:
    """A random reference such as ``K7QX-M2PA``."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


async def unused_reference(tx: AsyncSession, tenant_id: str) -> str:
    """A reference no booking of the tenant carries yet (references are unique per tenant)."""
    while True:
        reference = new_reference()
        taken = await tx.execute(
            select(Booking.id).where(Booking.tenant_id == tenant_id, Booking.reference == reference)
        )
        if taken.first() is None:
            return reference
