"""Finding every record of one person at one business, and what erasure does to each.

Read-only: ``collect`` gathers the ids (and the few facts erasure needs) so
the preview and the erasure itself work from the same list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from authz.kernel import owned_by
from basics.ids import encode_id
from privacy import codes
from privacy.erasure_receipt import Outcome, RecordOutcome
from privacy.identities import address_keys, normalise_email, normalise_phone
from privacy.retention_dates import retention_of
from store.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    Customer,
    Document,
    OneTimeCode,
    OutboxMessage,
    PartnerRead,
    PrivacyRequest,
    Tenant,
    Vehicle,
)

PRIVACY_REQUEST_NOTE = "GDPR Art. 5(2) and Art. 12: kept, without the link, as proof of the answer"


@dataclass
class Targets:
    """Every record of one person at one business, and what erasure does to each."""

    tenant: Tenant
    customer: Customer
    # The person's identifying values, lower-case: what no kept row may contain.
    identifiers: list[str] = field(default_factory=list)
    vehicle_ids: list[str] = field(default_factory=list)
    booking_ids: list[str] = field(default_factory=list)
    cancel_ids: list[str] = field(default_factory=list)
    # document id -> (legal basis, last day), and which bookkeeping columns are still empty
    retained: dict[str, tuple[str, date]] = field(default_factory=dict)
    retained_unset: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    # document id -> the bookkeeping facts it keeps of its booking (reference, amount)
    retained_facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_document_ids: list[str] = field(default_factory=list)
    # (partner read id, api key id, fields)
    partner_reads: list[tuple[str, str, list[str]]] = field(default_factory=list)
    code_ids: list[str] = field(default_factory=list)
    outbox_ids: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)

    def recipients(self) -> dict[str, set[str]]:
        """Partner API key id -> the fields it received of this person."""
        found: dict[str, set[str]] = defaultdict(set)
        for _read_id, api_key_id, fields in self.partner_reads:
            found[api_key_id].update(fields)
        return dict(found)

    def records(self) -> tuple[RecordOutcome, ...]:
        def one(entity: str, key: str, outcome: Outcome, *basis: Any) -> RecordOutcome:
            return RecordOutcome(entity, encode_id(entity, key), outcome, *basis)

        out = [one("Customer", self.customer.id, Outcome.DELETED)]
        out += [one("Vehicle", v, Outcome.DELETED) for v in self.vehicle_ids]
        out += [one("Booking", b, Outcome.ANONYMISED) for b in self.booking_ids]
        out += [
            one("Document", d, Outcome.RETAINED, basis, until)
            for d, (basis, until) in self.retained.items()
        ]
        out += [one("Document", d, Outcome.DELETED) for d in self.deleted_document_ids]
        out += [one("PartnerRead", r, Outcome.DELETED) for r, _k, _f in self.partner_reads]
        out += [one("OneTimeCode", c, Outcome.DELETED) for c in self.code_ids]
        out += [one("OutboxMessage", m, Outcome.DELETED) for m in self.outbox_ids]
        out += [
            one("PrivacyRequest", r, Outcome.ANONYMISED, PRIVACY_REQUEST_NOTE)
            for r in self.request_ids
        ]
        return tuple(out)


async def load_tenant(session: AsyncSession, tenant: Tenant | str) -> Tenant | None:
    if isinstance(tenant, Tenant):
        return tenant
    return await session.get(Tenant, tenant)


def mentions(value: Any, needles: Sequence[str]) -> bool:
    """Whether a (JSON) value holds one of the lower-case needles anywhere."""
    if isinstance(value, str):
        lowered = value.lower()
        return any(needle in lowered for needle in needles)
    if isinstance(value, dict):
        return any(mentions(k, needles) or mentions(v, needles) for k, v in value.items())
    if isinstance(value, list):
        return any(mentions(v, needles) for v in value)
    return False


def _code_target_keys(signing_key: str | None, customer: Customer) -> set[str]:
    """The keyed hashes one-time codes sent to this person's email or phone carry."""
    if not signing_key:
        return set()
    keys = set()
    if customer.email:
        keys.add(codes.address_key(signing_key, codes.EMAIL, normalise_email(customer.email)))
    if customer.phone:
        keys.add(codes.address_key(signing_key, codes.PHONE, normalise_phone(customer.phone)))
    return keys


async def _vehicles_and_bookings(session: AsyncSession, targets: Targets, now: datetime) -> None:
    tenant, customer = targets.tenant, targets.customer
    vehicles = (
        await session.execute(
            select(Vehicle.id, Vehicle.registration, Vehicle.vin)
            .where(owned_by(Vehicle, tenant.id), Vehicle.owner_id == customer.id)
            .order_by(Vehicle.id)
        )
    ).all()
    targets.vehicle_ids = [v.id for v in vehicles]
    values = [customer.email, customer.phone, *(v.registration for v in vehicles)]
    values += [v.vin for v in vehicles]
    targets.identifiers = sorted({v.strip().lower() for v in values if v and v.strip()})

    bookings = (
        await session.execute(
            select(Booking.id, Booking.status, Booking.starts_at)
            .where(owned_by(Booking, tenant.id), Booking.customer_id == customer.id)
            .order_by(Booking.starts_at, Booking.id)
        )
    ).all()
    targets.booking_ids = [b.id for b in bookings]
    targets.cancel_ids = [
        b.id for b in bookings if b.status in ACTIVE_BOOKING_STATUSES and b.starts_at > now
    ]


def _bookkeeping_facts(doc: Any) -> dict[str, Any]:
    """What a retained document takes over from its booking before the link goes.

    The reference is the one the document was issued under (printed on it, and
    in the books); the anonymised booking gets a fresh one, so neither leads
    to the other.
    """
    facts: dict[str, Any] = {}
    if doc.reference is None and doc.booking_reference is not None:
        facts["reference"] = doc.booking_reference
    if doc.amount_ore is None and doc.booking_price is not None:
        facts["amount_ore"] = doc.booking_price
    return facts


async def _documents(session: AsyncSession, targets: Targets, now: datetime) -> None:
    tenant, customer = targets.tenant, targets.customer
    persons_bookings = select(Booking.id).where(
        owned_by(Booking, tenant.id), Booking.customer_id == customer.id
    )
    # The person's documents and their bookings' documents, as two indexed
    # lookups: one query with OR between them makes PostgreSQL walk the
    # tenant's documents, which grows with the business, not with the person.
    columns = (
        Document.id,
        Document.kind,
        Document.issued_at,
        Document.retain_until,
        Document.retained_since,
        Document.reference,
        Document.amount_ore,
        Booking.reference.label("booking_reference"),
        Booking.price_ore.label("booking_price"),
    )
    found = {
        doc.id: doc
        for condition in (
            Document.customer_id == customer.id,
            Document.booking_id.in_(persons_bookings),
        )
        for doc in (
            await session.execute(
                select(*columns)
                .outerjoin(Booking, Booking.id == Document.booking_id)
                .where(owned_by(Document, tenant.id), condition)
            )
        ).all()
    }
    documents = sorted(found.values(), key=lambda doc: (doc.issued_at, doc.id))
    today = now.date()
    for doc in documents:
        held = retention_of(doc.kind, doc.issued_at, doc.retain_until, tenant)
        if held is not None and held[1] >= today:
            targets.retained[doc.id] = held
            targets.retained_unset[doc.id] = (doc.retained_since is None, doc.retain_until is None)
            targets.retained_facts[doc.id] = _bookkeeping_facts(doc)
        else:
            targets.deleted_document_ids.append(doc.id)


async def _codes(session: AsyncSession, targets: Targets, signing_key: str | None) -> None:
    """One-time codes sent to the person's address (by its keyed hash), and pending
    contact changes that name this customer record or its details.

    The table holds only live and recently expired codes (purge), so it is read whole.
    """
    target_keys = _code_target_keys(signing_key, targets.customer)
    needles = [targets.customer.id.lower(), *targets.identifiers]
    code_rows = (
        await session.execute(
            select(OneTimeCode.id, OneTimeCode.target_key, OneTimeCode.payload).order_by(
                OneTimeCode.created_at, OneTimeCode.id
            )
        )
    ).all()
    targets.code_ids = [
        c.id for c in code_rows if c.target_key in target_keys or mentions(c.payload, needles)
    ]


async def _outbox(session: AsyncSession, targets: Targets, journal_key: bytes | None) -> None:
    """Messages to any address the person had: the current email and phone, and those a
    rectification replaced (known only by keyed hash, so every recipient is hashed).

    The table holds only recent messages (purge: sent ones for days, unsent ones
    for weeks), so it is read whole, like the codes.
    """
    customer = targets.customer
    addresses = {a.strip().lower() for a in (customer.email, customer.phone) if a}
    former = set(customer.former_identity_keys or []) if journal_key else set()
    if not addresses and not former:
        return
    rows = (
        await session.execute(
            select(OutboxMessage.id, OutboxMessage.recipient).order_by(
                OutboxMessage.created_at, OutboxMessage.id
            )
        )
    ).all()
    targets.outbox_ids = [
        row.id
        for row in rows
        if row.recipient.strip().lower() in addresses
        or (journal_key and former.intersection(address_keys(journal_key, row.recipient)))
    ]


async def collect(
    session: AsyncSession,
    customer_id: str,
    tenant: Tenant,
    now: datetime,
    *,
    signing_key: str | None,
    journal_key: bytes | None = None,
    lock: bool,
) -> Targets | None:
    """Everything erasure would touch for this customer record; None if it is not there.

    Without ``journal_key`` messages to a former address cannot be recognised.
    """
    statement = select(Customer).where(Customer.id == customer_id, owned_by(Customer, tenant.id))
    if lock:
        # PostgreSQL: two erasures of one person run one after the other.
        statement = statement.with_for_update()
    customer = (await session.execute(statement)).scalar_one_or_none()
    if customer is None:
        return None
    targets = Targets(tenant=tenant, customer=customer)
    await _vehicles_and_bookings(session, targets, now)
    await _documents(session, targets, now)
    targets.partner_reads = [
        (r.id, r.api_key_id, list(r.fields or []))
        for r in (
            await session.execute(
                select(PartnerRead.id, PartnerRead.api_key_id, PartnerRead.fields)
                .where(PartnerRead.customer_id == customer.id)
                .order_by(PartnerRead.day, PartnerRead.id)
            )
        ).all()
    ]
    await _codes(session, targets, signing_key)
    await _outbox(session, targets, journal_key)
    targets.request_ids = list(
        (
            await session.execute(
                select(PrivacyRequest.id)
                .where(PrivacyRequest.customer_id == customer.id)
                .order_by(PrivacyRequest.received_at, PrivacyRequest.id)
            )
        ).scalars()
    )
    return targets
