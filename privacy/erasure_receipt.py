"""What erasure does to each record, and the receipt and preview built from it.

Every record that belongs to the person gets one outcome: ``DELETED``,
``ANONYMISED``, or ``RETAINED`` with its legal basis and the date it goes.
These types carry only ids, outcomes, grounds and dates, never a personal
value, so a receipt can be stored with the request and sent to the person.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


class Outcome(enum.StrEnum):
    DELETED = "DELETED"
    ANONYMISED = "ANONYMISED"
    RETAINED = "RETAINED"


# Receipt order: the person first, then what hangs off them.
ENTITY_ORDER = (
    "Customer",
    "Vehicle",
    "Booking",
    "Document",
    "PartnerRead",
    "OneTimeCode",
    "OutboxMessage",
    "PrivacyRequest",
)


@dataclass(frozen=True)
class RecordOutcome:
    """What erasure does (or did) to one record."""

    entity: str
    id: str  # global id
    outcome: Outcome
    legal_basis: str | None = None
    retain_until: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "id": self.id,
            "outcome": self.outcome.value,
            "legalBasis": self.legal_basis,
            "retainUntil": self.retain_until.isoformat() if self.retain_until else None,
        }


@dataclass(frozen=True)
class OutcomeCount:
    """How many records of one entity get one outcome (on one ground, until one date)."""

    entity: str
    outcome: Outcome
    count: int
    legal_basis: str | None = None
    retain_until: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "outcome": self.outcome.value,
            "count": self.count,
            "legalBasis": self.legal_basis,
            "retainUntil": self.retain_until.isoformat() if self.retain_until else None,
        }


def count_outcomes(records: Iterable[RecordOutcome]) -> list[OutcomeCount]:
    """Group records by entity, outcome, ground and date, in receipt order."""
    groups: dict[tuple[str, Outcome, str | None, date | None], int] = defaultdict(int)
    for record in records:
        groups[(record.entity, record.outcome, record.legal_basis, record.retain_until)] += 1

    def order(key: tuple[str, Outcome, str | None, date | None]) -> tuple[int, str, str, str]:
        entity, outcome, basis, until = key
        rank = ENTITY_ORDER.index(entity) if entity in ENTITY_ORDER else len(ENTITY_ORDER)
        return (rank, outcome.value, basis or "", until.isoformat() if until else "")

    return [
        OutcomeCount(entity, outcome, count, basis, until)
        for (entity, outcome, basis, until), count in sorted(
            groups.items(), key=lambda i: order(i[0])
        )
    ]


def counts_by_outcome(records: Iterable[RecordOutcome]) -> dict[str, dict[str, int]]:
    """{entity: {outcome: n}}: the audit event's details."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for record in records:
        counts[record.entity][record.outcome.value] += 1
    return {entity: dict(by_outcome) for entity, by_outcome in counts.items()}


@dataclass(frozen=True)
class ErasurePlan:
    """The preview: what ``erase_customer`` would do now, record by record."""

    customer_id: str  # global id
    tenant_id: str
    records: tuple[RecordOutcome, ...]
    cancelled_bookings: int
    recipients: int

    @property
    def counts(self) -> list[OutcomeCount]:
        return count_outcomes(self.records)

    def as_dict(self) -> dict[str, Any]:
        return {
            "customerId": self.customer_id,
            "counts": [c.as_dict() for c in self.counts],
            "cancelledBookings": self.cancelled_bookings,
            "recipients": self.recipients,
        }


@dataclass(frozen=True)
class ErasureReceipt:
    """What an erasure did, record by record; JSON-serialisable with ``as_dict``."""

    customer_id: str  # global id
    tenant_id: str
    found: bool
    erased_at: datetime
    records: tuple[RecordOutcome, ...] = ()
    cancelled_bookings: int = 0
    recipients_notified: int = 0
    request_id: str | None = None

    @property
    def counts(self) -> list[OutcomeCount]:
        return count_outcomes(self.records)

    @property
    def retained_count(self) -> int:
        """Records kept under a legal duty: the request was then only partly completed."""
        return sum(1 for r in self.records if r.outcome is Outcome.RETAINED)

    def as_dict(self) -> dict[str, Any]:
        """The receipt as JSON-ready values (global ids, ISO dates), no personal values."""
        return {
            "customerId": self.customer_id,
            "found": self.found,
            "erasedAt": self.erased_at.isoformat(),
            "requestId": self.request_id,
            "records": [r.as_dict() for r in self.records],
            "counts": [c.as_dict() for c in self.counts],
            "cancelledBookings": self.cancelled_bookings,
            "recipientsNotified": self.recipients_notified,
        }
