"""Erasure (GDPR Art. 17) for a tenant's administrators: preview, then erase with a receipt."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from privacy.erasure_receipt import ErasurePlan, ErasureReceipt, Outcome, OutcomeCount
from resolvers import erasure as erasure_resolvers
from schema.context import Info

# Registered in place, like schema/enums.py: resolvers hand out the privacy layer's values.
strawberry.enum(
    Outcome,
    name="ErasureOutcome",
    description="What erasure does to a record: deleted, anonymised (kept without anything "
    "that links it to the person) or retained under a legal duty until a date.",
)


@strawberry.type(description="How many records of one kind get one outcome, on one ground.")
class ErasureCount:
    entity: str = strawberry.field(description="Customer, Vehicle, Booking, Document, ...")
    outcome: Outcome
    count: int
    legal_basis: str | None = strawberry.field(
        description="For RETAINED: the legal ground (e.g. GDPR Art. 17(3)(b) and the "
        "Bookkeeping Act)."
    )
    retain_until: date | None = strawberry.field(
        description="For RETAINED: the last day it is kept; `tenantgraph purge` deletes it after."
    )


@strawberry.type(description="What erasure did to one record.")
class ErasureRecord:
    entity: str
    id: strawberry.ID = strawberry.field(
        description="The record's global id (the row itself may be gone)."
    )
    outcome: Outcome
    legal_basis: str | None
    retain_until: date | None


@strawberry.type(description="What erasing a customer would do now, by entity and outcome.")
class ErasurePreview:
    customer_id: strawberry.ID = strawberry.field(deprecation_reason="Use id.")
    counts: list[ErasureCount]
    cancelled_bookings: int = strawberry.field(
        description="Future bookings that will be cancelled first."
    )
    recipients: int = strawberry.field(
        description="Partner integrations that received this person's data and will be told "
        "(GDPR Art. 19)."
    )

    @strawberry.field(
        description="The customer's id: one preview per customer, so client caches keep one copy."
    )
    def id(self) -> strawberry.ID:
        return self.customer_id


@strawberry.type(
    name="ErasureReceipt", description="The receipt of an erasure: every record's outcome."
)
class ErasureReceiptType:
    customer_id: strawberry.ID
    erased_at: datetime
    records: list[ErasureRecord]
    counts: list[ErasureCount]
    cancelled_bookings: int
    recipients_notified: int


@strawberry.type
class ErasureReceiptPayload:
    receipt: ErasureReceiptType


def _counts(counts: list[OutcomeCount]) -> list[ErasureCount]:
    return [
        ErasureCount(
            entity=c.entity,
            outcome=c.outcome,
            count=c.count,
            legal_basis=c.legal_basis,
            retain_until=c.retain_until,
        )
        for c in counts
    ]


def preview_from_plan(plan: ErasurePlan) -> ErasurePreview:
    return ErasurePreview(
        customer_id=strawberry.ID(plan.customer_id),
        counts=_counts(plan.counts),
        cancelled_bookings=plan.cancelled_bookings,
        recipients=plan.recipients,
    )


def receipt_from(receipt: ErasureReceipt) -> ErasureReceiptType:
    return ErasureReceiptType(
        customer_id=strawberry.ID(receipt.customer_id),
        erased_at=receipt.erased_at,
        records=[
            ErasureRecord(
                entity=r.entity,
                id=strawberry.ID(r.id),
                outcome=r.outcome,
                legal_basis=r.legal_basis,
                retain_until=r.retain_until,
            )
            for r in receipt.records
        ],
        counts=_counts(receipt.counts),
        cancelled_bookings=receipt.cancelled_bookings,
        recipients_notified=receipt.recipients_notified,
    )


@strawberry.type
class ErasureQuery:
    @strawberry.field(
        description="Preview erasing a customer of the caller's tenant: counts per entity and "
        "outcome, with the legal ground and date of anything retained. Changes nothing."
    )
    async def preview_erasure(self, info: Info, customer_id: strawberry.ID) -> ErasurePreview:
        plan = await erasure_resolvers.preview_erasure(info.context, customer_id)
        return preview_from_plan(plan)


@strawberry.type
class ErasureMutation:
    @strawberry.mutation(
        description="Erase a customer of the caller's tenant (GDPR Art. 17): the customer "
        "record and their vehicles are deleted, bookings anonymised, issued invoices retained "
        "unaltered for the bookkeeping period. Erasing a customer that is already gone answers "
        "NOT_FOUND."
    )
    async def erase_customer(self, info: Info, id: strawberry.ID) -> ErasureReceiptPayload:
        receipt = await erasure_resolvers.erase_customer(info.context, id)
        return ErasureReceiptPayload(receipt=receipt_from(receipt))
