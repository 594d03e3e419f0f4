"""Access and portability (Art. 15 and 20): everything about a person, per business,
with the Art. 15(1) facts derived from the data map.

The JSON document is versioned (``FORMAT`` / ``FORMAT_VERSION``, documented in
docs/subject-export.md); the HTML rendering is the same content for people.
"""

from __future__ import annotations

import enum
import html
import io
import json
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from basics.ids import encode_id
from privacy.reader import Reader
from privacy.staff_notes import notes_by_customer
from store.data_map import (
    DATA_MAP,
    PURPOSE_FACTS,
    RETENTION_FACTS,
    Category,
    Purpose,
)
from store.models import (
    ApiKey,
    Base,
    Booking,
    CreatedVia,
    Customer,
    Document,
    PartnerRead,
    PrivacyRequest,
    Tenant,
    Vehicle,
)
from store.types import utcnow

FORMAT = "tenantgraph.subject-export"
FORMAT_VERSION = "1.1"
# Rows fetched per round trip while an export is written.
BATCH = 100
ENTITY_TABLES = {
    "Customer": "customers",
    "Vehicle": "vehicles",
    "Booking": "bookings",
    "Document": "documents",
}
# Columns that are plumbing, not information about the person.
HIDDEN_COLUMNS = frozenset(
    {
        "tenant_id",
        "customer_id",
        "owner_id",
        "vehicle_id",
        "booking_id",
        "service_id",
        "content",
        "former_identity_keys",
    }
)
STAFF_ONLY_COLUMNS = frozenset({"internal_notes", "internal_notes_withheld"})
SOURCES = {
    CreatedVia.ONLINE: "Given by you when you booked online.",
    CreatedVia.PHONE: "Given by you by phone and entered by the business's staff.",
    CreatedVia.STAFF: "Entered by the business's staff from what you told them.",
}
STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #999;padding:.2em .4em;text-align:left;vertical-align:top}"
)
RIGHTS = [
    "Access to your data and a copy of it (Art. 15)",
    "Rectification of inaccurate data (Art. 16)",
    "Erasure (Art. 17), except what the law obliges the business to keep",
    "Restriction of processing (Art. 18)",
    "Data portability (Art. 20)",
    "Objection to processing based on legitimate interest, such as reminders (Art. 21)",
    "Complaint to Datatilsynet, Carl Jacobsens Vej 35, 2500 Valby, www.datatilsynet.dk",
]


@dataclass(frozen=True)
class PurposeFact:
    purpose: str
    description: str
    legal_basis: str
    retention: str


@dataclass(frozen=True)
class EntityFacts:
    entity: str
    categories: list[str]
    purposes: list[PurposeFact]


@dataclass(frozen=True)
class RecipientFact:
    name: str
    role: str
    fields: list[str]
    first_read_at: datetime
    last_read_at: datetime


def entity_facts(entity: str) -> EntityFacts:
    """Categories and purposes of one kind of record, from its annotated columns."""
    columns = [a for a in DATA_MAP[ENTITY_TABLES[entity]].columns.values() if a.personal]
    categories = sorted(
        {a.category.value for a in columns if a.category is not Category.IDENTIFIER}
    )
    purposes = sorted({a.purpose for a in columns}, key=lambda p: p.value)
    return EntityFacts(
        entity=entity,
        categories=categories,
        purposes=[
            PurposeFact(
                purpose=p.value,
                description=PURPOSE_FACTS[p][0],
                legal_basis=PURPOSE_FACTS[p][1],
                retention=RETENTION_FACTS[p],
            )
            for p in purposes
            if p is not Purpose.OPERATION
        ],
    )


def source_of(customer: Customer) -> str:
    return SOURCES.get(customer.created_via, "Entered by the business.")


async def recipients_by_customer(
    session: Reader, customer_ids: Collection[str]
) -> dict[str, list[RecipientFact]]:
    """Partner integrations that received each customer's data (Art. 15(1)(c)), in one query."""
    rows = await session.execute(
        select(
            PartnerRead.customer_id,
            ApiKey.name,
            ApiKey.role,
            PartnerRead.fields,
            PartnerRead.first_read_at,
            PartnerRead.last_read_at,
        )
        .join(ApiKey, ApiKey.id == PartnerRead.api_key_id)
        .where(PartnerRead.customer_id.in_(set(customer_ids)))
        .order_by(PartnerRead.customer_id, ApiKey.name, PartnerRead.first_read_at)
    )
    merged: dict[str, dict[tuple[str, str], RecipientFact]] = {}
    for row in rows:
        customer_id, name, role, fields, first, last = tuple(row)
        found = merged.setdefault(customer_id, {})
        known = found.get((name, role))
        if known is None:
            found[(name, role)] = RecipientFact(name, role, sorted(fields), first, last)
        else:
            found[(name, role)] = RecipientFact(
                name,
                role,
                sorted(set(known.fields) | set(fields)),
                min(known.first_read_at, first),
                max(known.last_read_at, last),
            )
    return {customer_id: list(found.values()) for customer_id, found in merged.items()}


async def recipients_of(session: Reader, customer_id: str) -> list[RecipientFact]:
    return (await recipients_by_customer(session, [customer_id])).get(customer_id, [])


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _record(row: Any, entity: str, *, include_staff_only: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": encode_id(entity, row.id)}
    for column, note in DATA_MAP[ENTITY_TABLES[entity]].columns.items():
        if column in HIDDEN_COLUMNS or not note.personal or column == "id":
            continue
        if column in STAFF_ONLY_COLUMNS and not include_staff_only:
            continue
        out[column] = _value(getattr(row, column))
    return out


class Lazy:
    """A list in the export whose items are fetched only as the output is written."""

    def __init__(self, items: AsyncIterator[dict[str, Any]]) -> None:
        self.items = items


async def _stream(
    session: AsyncSession, statement: Select[Any], make: Callable[[Any], dict[str, Any]]
) -> AsyncIterator[dict[str, Any]]:
    """Rows in batches of ``BATCH`` through a server-side cursor, never all at once.

    Plain Core rows, not ORM objects: nothing is added to the session's
    identity map, so a batch is garbage as soon as it is written.
    """
    result = await session.stream(statement.execution_options(yield_per=BATCH))
    async for partition in result.partitions():
        for row in partition:
            yield make(row)


def _columns(model: type[Base]) -> Select[Any]:
    table = model.__table__
    return select(*(c for c in table.columns if c.key != "content"))


def _controller(tenant: Tenant) -> dict[str, Any]:
    """The business answering for the data (the controller) and how to reach it."""
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "address": tenant.address,
        "email": tenant.contact_email,
        "phone": tenant.contact_phone,
    }


async def _recipients(session: AsyncSession, customer_id: str) -> list[dict[str, Any]]:
    """Who received the customer's data (Art. 15(1)(c)): each partner and what it read."""
    return [
        {
            "name": r.name,
            "role": r.role,
            "fields": r.fields,
            "first_read_at": r.first_read_at.isoformat(),
            "last_read_at": r.last_read_at.isoformat(),
        }
        for r in await recipients_of(session, customer_id)
    ]


Maker = Callable[..., Callable[[Any], dict[str, Any]]]


def _record_lists(session: AsyncSession, customer: Customer, record: Maker) -> dict[str, Any]:
    """The person's records at one business, each list read only as it is written."""
    return {
        "vehicles": Lazy(
            _stream(
                session,
                _columns(Vehicle)
                .where(Vehicle.owner_id == customer.id)
                .order_by(Vehicle.created_at, Vehicle.id),
                record("Vehicle"),
            )
        ),
        "bookings": Lazy(
            _stream(
                session,
                _columns(Booking)
                .where(Booking.customer_id == customer.id)
                .order_by(Booking.starts_at, Booking.id),
                record("Booking", service_id=lambda r: encode_id("Service", r.service_id)),
            )
        ),
        "documents": Lazy(
            _stream(
                session,
                _columns(Document)
                .where(Document.customer_id == customer.id, Document.retained_since.is_(None))
                .order_by(Document.issued_at, Document.id),
                record(
                    "Document",
                    download_path=lambda r: f"/documents/{encode_id('Document', r.id)}",
                ),
            )
        ),
    }


def _request_list(session: AsyncSession, customer: Customer) -> Lazy:
    return Lazy(
        _stream(
            session,
            _columns(PrivacyRequest)
            .where(PrivacyRequest.customer_id == customer.id)
            .order_by(PrivacyRequest.received_at, PrivacyRequest.id),
            lambda r: {
                "id": encode_id("PrivacyRequest", r.id),
                "type": r.type.value,
                "status": r.status.value,
                "received_at": r.received_at.isoformat(),
                "due_at": r.due_at.isoformat(),
                "resolved_at": _value(r.resolved_at),
            },
        )
    )


async def _controllers(
    session: AsyncSession, customers: Iterable[Customer], *, include_staff_only: bool
) -> AsyncIterator[dict[str, Any]]:
    facts = {
        entity: {"categories": f.categories, "purposes": [p.__dict__ for p in f.purposes]}
        for entity, f in ((e, entity_facts(e)) for e in ENTITY_TABLES)
    }

    def record(entity: str, **extra: Callable[[Any], Any]) -> Callable[[Any], dict[str, Any]]:
        def make(row: Any) -> dict[str, Any]:
            out = _record(row, entity, include_staff_only=include_staff_only)
            return out | {key: value(row) for key, value in extra.items()}

        return make

    for customer in sorted(customers, key=lambda c: c.tenant_id):
        tenant = await session.get(Tenant, customer.tenant_id)
        assert tenant is not None
        notes = (await notes_by_customer(session, [customer.id])).get(customer.id, [])
        yield {
            "controller": _controller(tenant),
            "source": source_of(customer),
            "customer": _record(customer, "Customer", include_staff_only=include_staff_only),
            **_record_lists(session, customer, record),
            "staff_notes": [fact.as_export() for fact in notes],
            "privacy_requests": _request_list(session, customer),
            "recipients": await _recipients(session, customer.id),
            "facts": facts,
        }


def subject_export(
    session: AsyncSession,
    customers: Iterable[Customer],
    *,
    include_staff_only: bool,
    email: str | None,
) -> dict[str, Any]:
    """The export of the given customer records, grouped by business, its lists still unread.

    Write it with ``iter_json`` or ``iter_html`` inside the session's
    transaction: each list is read in batches while it is written, so memory
    stays flat however many records the person has.
    """
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "generated_at": utcnow().isoformat(),
        "subject": {"email": email},
        "controllers": Lazy(
            _controllers(session, customers, include_staff_only=include_staff_only)
        ),
        "rights": RIGHTS,
    }


def _has_lazy(value: Any) -> bool:
    return isinstance(value, Lazy) or (
        isinstance(value, dict) and any(_has_lazy(v) for v in value.values())
    )


async def iter_json(value: Any, level: int = 0) -> AsyncIterator[str]:
    """The text ``json.dumps(value, ensure_ascii=False, indent=2)`` would give, in pieces."""
    pad = "\n" + "  " * level
    if isinstance(value, Lazy):
        opened = False
        async for item in value.items:
            yield ("," if opened else "[") + pad + "  "
            opened = True
            async for part in iter_json(item, level + 1):
                yield part
        yield pad + "]" if opened else "[]"
    elif isinstance(value, dict) and _has_lazy(value):
        for i, (key, item) in enumerate(value.items()):
            yield ("," if i else "{") + pad + "  " + json.dumps(key, ensure_ascii=False) + ": "
            async for part in iter_json(item, level + 1):
                yield part
        yield pad + "}"
    else:
        yield json.dumps(value, ensure_ascii=False, indent=2).replace("\n", pad)


async def _html_table(
    rows: AsyncIterator[dict[str, Any]] | Iterable[dict[str, Any]],
) -> AsyncIterator[str]:
    """A table whose columns are the first row's keys (every row of a list has the same)."""
    columns: list[str] | None = None

    def cells(row: dict[str, Any]) -> str:
        assert columns is not None
        return (
            "<tr>"
            + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns)
            + "</tr>"
        )

    async def each() -> AsyncIterator[dict[str, Any]]:
        if isinstance(rows, AsyncIterator):
            async for row in rows:
                yield row
        else:
            for row in rows:
                yield row

    async for row in each():
        if columns is None:
            columns = list(row)
            head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
            yield f"<table><thead><tr>{head}</tr></thead><tbody>"
        yield cells(row)
    yield "<p>None.</p>" if columns is None else "</tbody></table>"


async def iter_html(export: dict[str, Any]) -> AsyncIterator[str]:
    """A self-contained page (no scripts, no external resources) of the same content."""
    yield (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Your data</title><style>{STYLE}</style></head><body>"
        "<h1>Your data</h1>"
        f"<p>Generated {html.escape(export['generated_at'])} for "
        f"{html.escape(str(export['subject']['email'] or ''))}. "
        f"Format {html.escape(export['format'])} version {html.escape(export['version'])}.</p>"
    )
    async for controller in export["controllers"].items:
        info = controller["controller"]
        yield f"<h2>{html.escape(info['name'])}</h2>"
        yield (
            f"<p>The data controller: {html.escape(info['address'])}, "
            f"{html.escape(info['email'])}, {html.escape(info['phone'])}. "
            f"Source: {html.escape(controller['source'])}</p>"
        )
        yield "<h3>Your details</h3>"
        async for part in _html_table([controller["customer"]]):
            yield part
        for title, key in (
            ("Vehicles", "vehicles"),
            ("Bookings", "bookings"),
            ("Documents", "documents"),
            ("Your requests", "privacy_requests"),
        ):
            yield f"<h3>{title}</h3>"
            async for part in _html_table(controller[key].items):
                yield part
        yield "<h3>Notes the business's staff wrote about you</h3>"
        async for part in _html_table(controller["staff_notes"]):
            yield part
        yield "<h3>Who received your data</h3>"
        async for part in _html_table(controller["recipients"]):
            yield part
        yield "<h3>Why the data is kept, and for how long</h3>"
        for entity, facts in controller["facts"].items():
            rows = [{"category": ", ".join(facts["categories"]), **p} for p in facts["purposes"]]
            yield f"<h4>{html.escape(entity)}</h4>"
            async for part in _html_table(rows):
                yield part
    yield (
        "<h2>Your rights</h2><ul>"
        + "".join(f"<li>{html.escape(r)}</li>" for r in export["rights"])
        + "</ul></body></html>"
    )


async def render(export: dict[str, Any], fmt: str) -> str:
    """The whole export as one string (a GraphQL ``String``), written batch by batch."""
    out = io.StringIO()
    async for part in iter_html(export) if fmt == "HTML" else iter_json(export):
        out.write(part)
    return out.getvalue()
