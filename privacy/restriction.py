"""Restriction of processing (Art. 18) and objection (Art. 21).

A restricted customer is kept and stays visible to the business's own staff,
marked restricted, but partners no longer receive it and it gets no new
bookings or edits. Recipients are told (Art. 19), and the person is told
before a restriction is lifted (Art. 18(3)). An objection to a purpose takes
the person out of that purpose's processing at once: the reminder partner no
longer sees a person who objected to service reminders.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail as audit
from basics.errors import BadUserInput, Conflict
from privacy.notices import notify_recipients, tell_person
from store.models import Customer
from store.types import utcnow

OBJECTION_PURPOSES = ("service_reminders", "marketing")
MAX_REASON_LENGTH = 500


async def restrict(
    tx: AsyncSession, customer: Customer, *, actor: str, reason: str, customer_ref: str
) -> None:
    cleaned = reason.strip()
    if not cleaned:
        raise BadUserInput("reason", "is required (which Art. 18(1) ground applies)")
    if len(cleaned) > MAX_REASON_LENGTH:
        raise BadUserInput("reason", f"must be at most {MAX_REASON_LENGTH} characters")
    if customer.restricted_at is not None:
        raise Conflict("processing is already restricted", field="customerId")
    customer.restricted_at = utcnow()
    customer.restriction_reason = cleaned
    notified = await notify_recipients(
        tx, customer, kind="RESTRICTION", customer_ref=customer_ref, fields=[]
    )
    await audit.record(
        tx,
        tenant_id=customer.tenant_id,
        actor=actor,
        action="customer.restrict",
        entity_type="Customer",
        entity_id=customer.id,
        fields=["restricted_at", "restriction_reason"],
        details={"recipients_notified": notified},
    )


async def lift(tx: AsyncSession, customer: Customer, *, actor: str, customer_ref: str) -> None:
    if customer.restricted_at is None:
        raise Conflict("processing is not restricted", field="customerId")
    told = await tell_person(
        tx,
        customer,
        "The restriction of your data is being lifted",
        "The business you booked with is lifting the restriction of processing of your "
        "data (GDPR Art. 18(3)). Contact them if you disagree.",
    )
    customer.restricted_at = None
    customer.restriction_reason = None
    await notify_recipients(
        tx, customer, kind="RESTRICTION_LIFTED", customer_ref=customer_ref, fields=[]
    )
    await audit.record(
        tx,
        tenant_id=customer.tenant_id,
        actor=actor,
        action="customer.restriction_lifted",
        entity_type="Customer",
        entity_id=customer.id,
        fields=["restricted_at", "restriction_reason"],
        details={"person_told": told},
    )


def _purpose(purpose: str) -> str:
    if purpose not in OBJECTION_PURPOSES:
        raise BadUserInput("purpose", f"must be one of {', '.join(OBJECTION_PURPOSES)}")
    return purpose


async def object_to(tx: AsyncSession, customer: Customer, purpose: str, *, actor: str) -> bool:
    """Record an objection; False when it was already recorded (harmless)."""
    purpose = _purpose(purpose)
    if purpose in customer.objections:
        return False
    customer.objections = sorted({*customer.objections, purpose})
    await audit.record(
        tx,
        tenant_id=customer.tenant_id,
        actor=actor,
        action="customer.objection",
        entity_type="Customer",
        entity_id=customer.id,
        fields=["objections"],
        details={"purpose": purpose},
    )
    return True


async def withdraw_objection(
    tx: AsyncSession, customer: Customer, purpose: str, *, actor: str
) -> bool:
    purpose = _purpose(purpose)
    if purpose not in customer.objections:
        return False
    customer.objections = sorted(set(customer.objections) - {purpose})
    await audit.record(
        tx,
        tenant_id=customer.tenant_id,
        actor=actor,
        action="customer.objection_withdrawn",
        entity_type="Customer",
        entity_id=customer.id,
        fields=["objections"],
        details={"purpose": purpose},
    )
    return True
