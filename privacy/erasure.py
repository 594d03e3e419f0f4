"""Erasure of one customer record (one person at one business), derived from the data map.

GDPR Art. 17 gives the person the right to erasure; Art. 17(3)(b) lets a legal
duty win over it, record by record, never as a blanket refusal. Every record
that belongs to the person therefore gets one outcome:

- ``DELETED``: the row is gone (the customer row with its contact data, notes,
  consents and objections; vehicles the person owns; documents nobody must
  keep; partner-read records; one-time codes and outbox messages addressed to
  the person's email or phone).
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
  and ``partner_accounting`` (``authz/scope.py``), and loses its link to the
  deleted customer row; ``tenantgraph purge`` deletes it when its date passes.

Everything happens in the caller's one transaction: a failure rolls all of it
back and the erasure can simply be run again. Erasing a customer that is no
longer there returns a receipt with ``found=False`` and changes nothing, so a
retry after a crash is harmless.

Backups: every erasure writes an ``ErasureJournalEntry`` holding only HMACs of
the person's normalised email and E.164 phone, keyed with
``Settings.erasure_journal_key()``, which lives outside the database and its
backups. After restoring an older backup, ``replay_journal`` finds the people
who were erased since and erases them again. The journal is the one place a
keyed hash of a contact detail is kept on purpose: without the key it cannot
be reversed or linked, and it exists only to keep erased people erased. A
customer with neither email nor phone leaves no journal entry (a name or a
public plate is no identity to match on) and must be erased again by hand.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Enum as SAEnum
from sqlalchemy import String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from audit import trail as audit
from basics.ids import encode_id
from bookings.references import REFERENCE_ALPHABET as _REFERENCE_ALPHABET
from privacy import codes
from store.data_map import DATA_MAP, Erasure, RowErasure
from store.engine import write_transaction
from store.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingStatus,
    Customer,
    Document,
    DocumentKind,
    ErasureJournalEntry,
    OneTimeCode,
    OutboxMessage,
    PartnerRead,
    PrivacyRequest,
    RecipientNotice,
    Tenant,
    Vehicle,
)
from store.types import new_id, utcnow

if TYPE_CHECKING:
    from basics.settings import Settings

logger = logging.getLogger("privacy.erasure")

ERASE_ACTION = "customer.erase"
NOTICE_KIND = "ERASURE"
REPLAY_ACTOR = "system:erasure-replay"

BOOKKEEPING_BASIS = (
    "GDPR Art. 17(3)(b); Danish Bookkeeping Act (bogføringsloven) § 10: "
    "5 years from the end of the financial year"
)
BOOKKEEPING_YEARS = 5


def report_basis(years: int) -> str:
    return (
        "GDPR Art. 17(3)(b): the business's duty to keep its inspection reports "
        f"for {years} years from issue (tenant setting)"
    )


PRIVACY_REQUEST_NOTE = "GDPR Art. 5(2) and Art. 12: kept, without the link, as proof of the answer"

# What an anonymised booking's reference becomes: random, so it links to nothing,
# and recognisable, so staff see at once that the booking was anonymised.
ANONYMOUS_REFERENCE_PREFIX = "ANON-"
# What a kept text column becomes when it happens to name the person.
SCRUBBED = "erased"


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

# Tables that hold something about a person, and how this module treats their
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
    "privacy_requests": RowErasure.KEEP,
}


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


def _counts_by_outcome(records: Iterable[RecordOutcome]) -> dict[str, dict[str, int]]:
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


# --- identities and the journal --------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_phone(phone: str) -> str:
    """E.164 as stored ("+4520123456"); separators a person might type are dropped."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.strip().startswith("00"):
        digits = digits[2:]
    return f"+{digits}"


def identity_keys(key: bytes, *, email: str | None, phone: str | None) -> list[str]:
    """Hex HMAC-SHA256 of the normalised email and phone ("email:"/"phone:" keep them apart)."""
    found = []
    if email:
        found.append(f"email:{normalise_email(email)}")
    if phone:
        found.append(f"phone:{normalise_phone(phone)}")
    return [hmac.new(key, value.encode(), hashlib.sha256).hexdigest() for value in found]


# --- retention dates -------------------------------------------------------------


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _local_date(moment: datetime, timezone: str) -> date:
    """The calendar day at the business: an invoice of 31 Dec 23:30 UTC is a January one in DK."""
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Europe/Copenhagen")
    return moment.astimezone(zone).date()


def retention_of(
    kind: DocumentKind,
    issued_at: datetime,
    retain_until: date | None,
    tenant: Tenant,
) -> tuple[str, date] | None:
    """The legal basis and last day a document must be kept, or None when nothing holds it.

    Invoices: the invoice's own ``retain_until``, else 31 December of the issue
    year plus 5 (a calendar financial year). Inspection reports: the issue day
    plus the tenant's ``report_retention_years``, when set. Other documents:
    nothing holds them.
    """
    if kind is DocumentKind.INVOICE:
        if retain_until is None:
            year = _local_date(issued_at, tenant.timezone).year + BOOKKEEPING_YEARS
            retain_until = date(year, 12, 31)
        return BOOKKEEPING_BASIS, retain_until
    if kind is DocumentKind.INSPECTION_REPORT and tenant.report_retention_years:
        years = tenant.report_retention_years
        return report_basis(years), _add_years(_local_date(issued_at, tenant.timezone), years)
    return None


# --- collecting what belongs to the person ---------------------------------------


@dataclass
class _Targets:
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


async def _load_tenant(session: AsyncSession, tenant: Tenant | str) -> Tenant | None:
    if isinstance(tenant, Tenant):
        return tenant
    return await session.get(Tenant, tenant)


def _mentions(value: Any, needles: Sequence[str]) -> bool:
    """Whether a (JSON) value holds one of the lower-case needles anywhere."""
    if isinstance(value, str):
        lowered = value.lower()
        return any(needle in lowered for needle in needles)
    if isinstance(value, dict):
        return any(_mentions(k, needles) or _mentions(v, needles) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(v, needles) for v in value)
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


async def _collect(
    session: AsyncSession,
    customer_id: str,
    tenant: Tenant,
    now: datetime,
    *,
    signing_key: str | None,
    lock: bool,
) -> _Targets | None:
    statement = select(Customer).where(Customer.id == customer_id, Customer.tenant_id == tenant.id)
    if lock:
        # PostgreSQL: two erasures of one person run one after the other.
        statement = statement.with_for_update()
    customer = (await session.execute(statement)).scalar_one_or_none()
    if customer is None:
        return None
    targets = _Targets(tenant=tenant, customer=customer)

    vehicles = (
        await session.execute(
            select(Vehicle.id, Vehicle.registration, Vehicle.vin)
            .where(Vehicle.tenant_id == tenant.id, Vehicle.owner_id == customer.id)
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
            .where(Booking.tenant_id == tenant.id, Booking.customer_id == customer.id)
            .order_by(Booking.starts_at, Booking.id)
        )
    ).all()
    targets.booking_ids = [b.id for b in bookings]
    targets.cancel_ids = [
        b.id for b in bookings if b.status in ACTIVE_BOOKING_STATUSES and b.starts_at > now
    ]

    persons_bookings = select(Booking.id).where(
        Booking.tenant_id == tenant.id, Booking.customer_id == customer.id
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
    )
    found = {
        doc.id: doc
        for condition in (
            Document.customer_id == customer.id,
            Document.booking_id.in_(persons_bookings),
        )
        for doc in (
            await session.execute(
                select(*columns).where(Document.tenant_id == tenant.id, condition)
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
        else:
            targets.deleted_document_ids.append(doc.id)

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

    # One-time codes sent to the person's address (by its keyed hash), and
    # pending contact changes that name this customer record or its details.
    # The table holds only live and recently expired codes (purge), so it is read whole.
    target_keys = _code_target_keys(signing_key, customer)
    needles = [customer.id.lower(), *targets.identifiers]
    code_rows = (
        await session.execute(
            select(OneTimeCode.id, OneTimeCode.target_key, OneTimeCode.payload).order_by(
                OneTimeCode.created_at, OneTimeCode.id
            )
        )
    ).all()
    targets.code_ids = [
        c.id for c in code_rows if c.target_key in target_keys or _mentions(c.payload, needles)
    ]

    addresses = sorted({a.strip().lower() for a in (customer.email, customer.phone) if a})
    if addresses:
        targets.outbox_ids = list(
            (
                await session.execute(
                    select(OutboxMessage.id)
                    .where(func.lower(OutboxMessage.recipient).in_(addresses))
                    .order_by(OutboxMessage.created_at, OutboxMessage.id)
                )
            ).scalars()
        )

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


# --- applying the data map -------------------------------------------------------


def _new_reference() -> str:
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{ANONYMOUS_REFERENCE_PREFIX}{chars}"


# Fresh values for the columns the data map says to REPLACE, by (table, column).
REPLACEMENTS: dict[tuple[str, str], Callable[[], str]] = {
    ("bookings", "reference"): _new_reference,
}


@dataclass(frozen=True)
class ColumnPlan:
    """What anonymising a row of one table does to its personal columns (from DATA_MAP)."""

    nulls: tuple[str, ...]
    replaced: tuple[str, ...]
    kept: tuple[str, ...]


def anonymisation_plan(table: str) -> ColumnPlan:
    """NULL, REPLACE and KEEP columns of ``table`` per DATA_MAP.

    Refuses a column the erasure cannot honour (RETAIN on a row that is not
    retained, or a REPLACE without a generator), so the data map can never
    promise more than this module does.
    """
    nulls: list[str] = []
    replaced: list[str] = []
    kept: list[str] = []
    for column, note in DATA_MAP[table].columns.items():
        if not note.personal:
            continue
        if note.erasure is Erasure.NULL:
            nulls.append(column)
        elif note.erasure is Erasure.REPLACE:
            if (table, column) not in REPLACEMENTS:
                raise RuntimeError(f"no replacement value generator for {table}.{column}")
            replaced.append(column)
        elif note.erasure is Erasure.KEEP:
            kept.append(column)
        else:
            raise RuntimeError(f"{table}.{column}: {note.erasure.value} on a row that is not kept")
    return ColumnPlan(tuple(nulls), tuple(replaced), tuple(kept))


async def _fresh_values(tx: AsyncSession, tenant_id: str, column: str, n: int) -> list[str]:
    """``n`` fresh values for a booking column, none in use in the tenant (they are unique)."""
    generate = REPLACEMENTS[("bookings", column)]
    attribute = getattr(Booking, column)
    chosen: list[str] = []
    while len(chosen) < n:
        candidates = {generate() for _ in range(n - len(chosen))} - set(chosen)
        taken = set(
            (
                await tx.execute(
                    select(attribute).where(
                        Booking.tenant_id == tenant_id, attribute.in_(sorted(candidates))
                    )
                )
            ).scalars()
        )
        chosen += sorted(candidates - taken)
    return chosen


def _is_text(model: Any, column: str) -> bool:
    """Text columns (not enums, times or JSON): where a person's details could be typed."""
    column_type = getattr(model, column).type
    return isinstance(column_type, String) and not isinstance(column_type, SAEnum)


async def _scrub_kept_text(
    tx: AsyncSession,
    model: type[Booking] | type[PrivacyRequest],
    ids: Sequence[str],
    columns: Sequence[str],
    needles: Sequence[str],
) -> None:
    """Overwrite a kept text column that happens to name the person ("subject:<email>").

    The data map keeps these columns because they normally hold no personal
    value; this makes sure an identifier that slipped into one does not survive.
    """
    if not ids or not needles:
        return
    for column in (c for c in columns if _is_text(model, c)):
        attribute = getattr(model, column)
        rows = (await tx.execute(select(model.id, attribute).where(model.id.in_(ids)))).all()
        hits = [row[0] for row in rows if row[1] and _mentions(row[1], needles)]
        if hits:
            await tx.execute(update(model).where(model.id.in_(hits)).values({column: SCRUBBED}))


async def _apply(tx: AsyncSession, targets: _Targets, now: datetime) -> None:
    """Carry out the plan, children before parents, in the caller's transaction."""
    tenant, customer = targets.tenant, targets.customer

    # Art. 19: recipients are told before the record of what they received goes.
    customer_ref = encode_id("Customer", customer.id)
    for api_key_id, fields in sorted(targets.recipients().items()):
        tx.add(
            RecipientNotice(
                id=new_id(),
                tenant_id=tenant.id,
                api_key_id=api_key_id,
                customer_ref=customer_ref,
                kind=NOTICE_KIND,
                fields=sorted(fields),
                created_at=now,
            )
        )
    await tx.flush()

    # A future booking frees its slot before it loses its person.
    if targets.cancel_ids:
        await tx.execute(
            update(Booking)
            .where(Booking.id.in_(targets.cancel_ids))
            .values(status=BookingStatus.CANCELLED)
        )

    if targets.booking_ids:
        plan = anonymisation_plan("bookings")
        n = len(targets.booking_ids)
        fresh = {c: await _fresh_values(tx, tenant.id, c, n) for c in plan.replaced}
        for index, booking_id in enumerate(targets.booking_ids):
            values: dict[str, Any] = dict.fromkeys(plan.nulls)
            values.update({c: fresh[c][index] for c in plan.replaced})
            await tx.execute(update(Booking).where(Booking.id == booking_id).values(values))
        await _scrub_kept_text(tx, Booking, targets.booking_ids, plan.kept, targets.identifiers)

    # Retained documents stay exactly as issued (content, title, hash): only
    # the service's own columns change: since when the document is held, until
    # when (if it had no date yet), and the link to the customer row that goes.
    for doc_id, (_basis, until) in targets.retained.items():
        since_unset, until_unset = targets.retained_unset[doc_id]
        values = {"customer_id": None}
        if since_unset:
            values["retained_since"] = now
        if until_unset:
            values["retain_until"] = until
        await tx.execute(update(Document).where(Document.id == doc_id).values(values))
    deletions: list[tuple[Any, Sequence[str]]] = [
        (Document, targets.deleted_document_ids),
        (Vehicle, targets.vehicle_ids),
        (OneTimeCode, targets.code_ids),
        (OutboxMessage, targets.outbox_ids),
        # The foreign key would cascade these; deleting them explicitly does not
        # depend on SQLite's per-connection foreign_keys pragma.
        (PartnerRead, [r for r, _k, _f in targets.partner_reads]),
    ]
    for model, ids in deletions:
        if ids:
            await tx.execute(delete(model).where(model.id.in_(ids)))

    if targets.request_ids:
        plan = anonymisation_plan("privacy_requests")
        await tx.execute(
            update(PrivacyRequest)
            .where(PrivacyRequest.id.in_(targets.request_ids))
            .values(dict.fromkeys(plan.nulls))
        )
        await _scrub_kept_text(
            tx, PrivacyRequest, targets.request_ids, plan.kept, targets.identifiers
        )

    await tx.execute(delete(Customer).where(Customer.id == customer.id))


# --- the public operations -------------------------------------------------------


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
    tenant_row = await _load_tenant(session, tenant)
    if tenant_row is None:
        return None
    targets = await _collect(
        session, customer_id, tenant_row, now, signing_key=_signing_key(settings), lock=False
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
) -> ErasureReceipt:
    """Erase one customer record in the caller's transaction and say what became of each record.

    ``tx`` must be a write transaction (``store.engine.write_transaction``);
    nothing is committed here, so the caller's own changes (a privacy
    request's status) commit or roll back together with the erasure. A
    customer that is not in ``tenant`` (erased already, never there, another
    tenant's) gives a receipt with ``found=False`` and changes nothing.
    After the commit, call ``flush_erased_pages`` so SQLite's WAL lets go of
    the old pages.
    """
    return await _erase(
        tx,
        customer_id,
        tenant,
        actor=actor,
        settings=settings,
        request_id=request_id,
        now=now or utcnow(),
        journal=True,
    )


async def _erase(
    tx: AsyncSession,
    customer_id: str,
    tenant: Tenant | str,
    *,
    actor: str,
    settings: Settings,
    request_id: str | None,
    now: datetime,
    journal: bool,
) -> ErasureReceipt:
    global_id = encode_id("Customer", customer_id)
    tenant_row = await _load_tenant(tx, tenant)
    tenant_id = tenant_row.id if tenant_row is not None else str(tenant)
    targets = None
    if tenant_row is not None:
        targets = await _collect(
            tx, customer_id, tenant_row, now, signing_key=settings.signing_key(), lock=True
        )
    if targets is None:
        return ErasureReceipt(global_id, tenant_id, False, now, request_id=request_id)

    records = targets.records()
    customer = targets.customer
    journal_keys = identity_keys(
        settings.erasure_journal_key(), email=customer.email, phone=customer.phone
    )
    recipients = len(targets.recipients())
    await _apply(tx, targets, now)
    journal_id = None
    if journal and journal_keys:
        entry = ErasureJournalEntry(
            id=new_id(),
            tenant_id=tenant_id,
            identity_keys=journal_keys,
            erased_at=now,
            request_id=request_id,
        )
        tx.add(entry)
        journal_id = entry.id
    await audit.record(
        tx,
        tenant_id=tenant_id,
        actor=actor,
        action=ERASE_ACTION,
        entity_type="Customer",
        entity_id=global_id,
        details={
            "counts": _counts_by_outcome(records),
            "retained": [r.id for r in records if r.outcome is Outcome.RETAINED],
            "cancelled_bookings": len(targets.cancel_ids),
            "recipients_notified": recipients,
            "journal_entry": journal_id,
            "request_id": request_id,
        },
    )
    await tx.flush()
    return ErasureReceipt(
        customer_id=global_id,
        tenant_id=tenant_id,
        found=True,
        erased_at=now,
        records=records,
        cancelled_bookings=len(targets.cancel_ids),
        recipients_notified=recipients,
        request_id=request_id,
    )


# --- physically gone -------------------------------------------------------------


@dataclass(frozen=True)
class PageFlush:
    """The result of ``PRAGMA wal_checkpoint(TRUNCATE)`` (SQLite), or that none was needed."""

    performed: bool
    complete: bool
    wal_frames: int = 0
    checkpointed_frames: int = 0


CHECKPOINT_ATTEMPTS = 5
CHECKPOINT_PAUSE_SECONDS = 0.05


async def flush_erased_pages(engine: AsyncEngine) -> PageFlush:
    """Make erased values unrecoverable from the database files, as far as the backend allows.

    SQLite: every connection runs with ``secure_delete=ON``, so a deleted or
    rewritten row's bytes are zeroed in the page, but in WAL mode the old page
    images stay in the ``-wal`` file until a checkpoint copies the new pages
    over and the log is reset. ``wal_checkpoint(TRUNCATE)`` does both and
    truncates the file to zero bytes. It needs a moment without readers; it is
    retried briefly, and a busy result is reported (the next erasure, purge or
    ``tenantgraph purge`` flushes again).

    PostgreSQL: a no-op. Deleted and updated tuples stay in their heap pages as
    dead tuples until VACUUM reclaims the space (and even then the bytes are
    only overwritten when the space is reused), and the WAL segments hold them
    until they are recycled. The service leaves this to autovacuum and WAL
    recycling rather than running VACUUM per erasure: plain VACUUM does not
    zero the bytes either, and VACUUM FULL rewrites and locks the whole table.
    Production deployments rely on encrypted storage and expiring backups.
    """
    if engine.dialect.name != "sqlite":
        return PageFlush(performed=False, complete=True)
    result: tuple[int, int, int] = (1, 0, 0)
    for attempt in range(CHECKPOINT_ATTEMPTS):
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection  # the aiosqlite connection, outside any transaction
            assert driver is not None
            cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            row = await cursor.fetchone()
            await cursor.close()
        result = (int(row[0]), int(row[1]), int(row[2])) if row else (1, 0, 0)
        if result[0] == 0:
            break
        if attempt + 1 < CHECKPOINT_ATTEMPTS:
            await asyncio.sleep(CHECKPOINT_PAUSE_SECONDS * (attempt + 1))
    busy, log_frames, checkpointed = result
    if busy:
        logger.warning("WAL checkpoint after erasure was busy; old pages stay until the next one")
    return PageFlush(
        performed=True, complete=not busy, wal_frames=log_frames, checkpointed_frames=checkpointed
    )


# --- backups: the journal --------------------------------------------------------


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
                    erased_at=entry.erased_at,
                    request_id=entry.request_id,
                )
            )
    return len(missing)


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
    keys_by_tenant: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        keys_by_tenant[entry.tenant_id].update(entry.identity_keys)
    key = settings.erasure_journal_key()
    checked = 0
    matches: list[tuple[str, str]] = []
    async with sessions() as session:
        for tenant_id, erased_keys in sorted(keys_by_tenant.items()):
            rows = await session.stream(
                select(Customer.id, Customer.email, Customer.phone)
                .where(Customer.tenant_id == tenant_id)
                .order_by(Customer.id)
            )
            async for row in rows:
                checked += 1
                if erased_keys.intersection(identity_keys(key, email=row.email, phone=row.phone)):
                    matches.append((tenant_id, row.id))
    receipts = []
    for tenant_id, customer_id in matches:
        async with write_transaction(sessions) as tx:
            receipt = await _erase(
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


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine a session factory is bound to (for ``flush_erased_pages``)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session factory is not bound to an engine")
    return bind
