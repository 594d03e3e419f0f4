"""Access and portability (Art. 15 and 20): everything about a person, per business,
with the Art. 15(1) facts derived from the data map.

The JSON document is versioned (``FORMAT`` / ``FORMAT_VERSION``, documented in
docs/subject-export.md); the HTML rendering is the same content for people.
"""

from __future__ import annotations

import enum
import html
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantgraph.resolvers.ids import encode_id
from tenantgraph.store.data_map import (
    DATA_MAP,
    PURPOSE_FACTS,
    RETENTION_FACTS,
    Category,
    Purpose,
)
from tenantgraph.store.models import (
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
from tenantgraph.store.types import utcnow

FORMAT = "tenantgraph.subject-export"
FORMAT_VERSION = "1.0"
ENTITY_TABLES = {
    "Customer": "customers",
    "Vehicle": "vehicles",
    "Booking": "bookings",
    "Document": "documents",
}
# Columns that are plumbing, not information about the person.
HIDDEN_COLUMNS = frozenset(
    {"tenant_id", "customer_id", "owner_id", "vehicle_id", "booking_id", "service_id", "content"}
)
STAFF_ONLY_COLUMNS = frozenset({"internal_notes"})
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


async def recipients_of(session: AsyncSession, customer_id: str) -> list[RecipientFact]:
    """Partner integrations that received this customer's data (Art. 15(1)(c))."""
    rows = await session.execute(
        select(
            ApiKey.name,
            ApiKey.role,
            PartnerRead.fields,
            PartnerRead.first_read_at,
            PartnerRead.last_read_at,
        )
        .join(ApiKey, ApiKey.id == PartnerRead.api_key_id)
        .where(PartnerRead.customer_id == customer_id)
        .order_by(ApiKey.name, PartnerRead.first_read_at)
    )
    merged: dict[tuple[str, str], RecipientFact] = {}
    for name, role, fields, first, last in rows:
        known = merged.get((name, role))
        if known is None:
            merged[(name, role)] = RecipientFact(name, role, sorted(fields), first, last)
        else:
            merged[(name, role)] = RecipientFact(
                name,
                role,
                sorted(set(known.fields) | set(fields)),
                min(known.first_read_at, first),
                max(known.last_read_at, last),
            )
    return list(merged.values())


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _record(row: Base, table: str, *, include_staff_only: bool) -> dict[str, Any]:
    entity = type(row).__name__
    out: dict[str, Any] = {"id": encode_id(entity, row.id)}  # type: ignore[attr-defined]
    for column, note in DATA_MAP[table].columns.items():
        if column in HIDDEN_COLUMNS or not note.personal or column == "id":
            continue
        if column in STAFF_ONLY_COLUMNS and not include_staff_only:
            continue
        out[column] = _value(getattr(row, column))
    return out


async def subject_export(
    session: AsyncSession,
    customers: Iterable[Customer],
    *,
    include_staff_only: bool,
    email: str | None,
) -> dict[str, Any]:
    """The machine-readable export of the given customer records, grouped by business."""
    controllers = []
    for customer in sorted(customers, key=lambda c: c.tenant_id):
        tenant = await session.get(Tenant, customer.tenant_id)
        assert tenant is not None
        vehicles = (
            (
                await session.execute(
                    select(Vehicle)
                    .where(Vehicle.owner_id == customer.id)
                    .order_by(Vehicle.created_at)
                )
            )
            .scalars()
            .all()
        )
        bookings = (
            (
                await session.execute(
                    select(Booking)
                    .where(Booking.customer_id == customer.id)
                    .order_by(Booking.starts_at)
                )
            )
            .scalars()
            .all()
        )
        documents = (
            (
                await session.execute(
                    select(Document)
                    .where(Document.customer_id == customer.id, Document.retained_since.is_(None))
                    .order_by(Document.issued_at)
                )
            )
            .scalars()
            .all()
        )
        requests = (
            (
                await session.execute(
                    select(PrivacyRequest)
                    .where(PrivacyRequest.customer_id == customer.id)
                    .order_by(PrivacyRequest.received_at)
                )
            )
            .scalars()
            .all()
        )
        controllers.append(
            {
                "controller": {
                    "slug": tenant.slug,
                    "name": tenant.name,
                    "address": tenant.address,
                    "email": tenant.contact_email,
                    "phone": tenant.contact_phone,
                },
                "source": source_of(customer),
                "customer": _record(customer, "customers", include_staff_only=include_staff_only),
                "vehicles": [
                    _record(v, "vehicles", include_staff_only=include_staff_only) for v in vehicles
                ],
                "bookings": [
                    {
                        **_record(b, "bookings", include_staff_only=include_staff_only),
                        "service_id": encode_id("Service", b.service_id),
                    }
                    for b in bookings
                ],
                "documents": [
                    {
                        **_record(d, "documents", include_staff_only=include_staff_only),
                        "download_path": f"/documents/{encode_id('Document', d.id)}",
                    }
                    for d in documents
                ],
                "privacy_requests": [
                    {
                        "id": encode_id("PrivacyRequest", r.id),
                        "type": r.type.value,
                        "status": r.status.value,
                        "received_at": r.received_at.isoformat(),
                        "due_at": r.due_at.isoformat(),
                        "resolved_at": _value(r.resolved_at),
                    }
                    for r in requests
                ],
                "recipients": [
                    {
                        "name": r.name,
                        "role": r.role,
                        "fields": r.fields,
                        "first_read_at": r.first_read_at.isoformat(),
                        "last_read_at": r.last_read_at.isoformat(),
                    }
                    for r in await recipients_of(session, customer.id)
                ],
                "facts": {
                    entity: {
                        "categories": facts.categories,
                        "purposes": [p.__dict__ for p in facts.purposes],
                    }
                    for entity, facts in ((e, entity_facts(e)) for e in ENTITY_TABLES)
                },
            }
        )
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "generated_at": utcnow().isoformat(),
        "subject": {"email": email},
        "controllers": controllers,
        "rights": RIGHTS,
    }


def to_json(export: dict[str, Any]) -> str:
    return json.dumps(export, ensure_ascii=False, indent=2, sort_keys=False)


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>None.</p>"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(export: dict[str, Any]) -> str:
    """A self-contained page (no scripts, no external resources) of the same content."""
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>Your data</title><style>{STYLE}</style></head><body>",
        "<h1>Your data</h1>",
        f"<p>Generated {html.escape(export['generated_at'])} for "
        f"{html.escape(str(export['subject']['email'] or ''))}. "
        f"Format {html.escape(export['format'])} version {html.escape(export['version'])}.</p>",
    ]
    for controller in export["controllers"]:
        info = controller["controller"]
        parts.append(f"<h2>{html.escape(info['name'])}</h2>")
        parts.append(
            f"<p>The data controller: {html.escape(info['address'])}, "
            f"{html.escape(info['email'])}, {html.escape(info['phone'])}. "
            f"Source: {html.escape(controller['source'])}</p>"
        )
        parts.append("<h3>Your details</h3>" + _table([controller["customer"]]))
        for title, key in (
            ("Vehicles", "vehicles"),
            ("Bookings", "bookings"),
            ("Documents", "documents"),
            ("Your requests", "privacy_requests"),
        ):
            parts.append(f"<h3>{title}</h3>" + _table(controller[key]))
        parts.append("<h3>Who received your data</h3>" + _table(controller["recipients"]))
        parts.append("<h3>Why the data is kept, and for how long</h3>")
        for entity, facts in controller["facts"].items():
            rows = [{"category": ", ".join(facts["categories"]), **p} for p in facts["purposes"]]
            parts.append(f"<h4>{html.escape(entity)}</h4>" + _table(rows))
    parts.append(
        "<h2>Your rights</h2><ul>"
        + "".join(f"<li>{html.escape(r)}</li>" for r in export["rights"])
        + "</ul>"
    )
    parts.append("</body></html>")
    return "".join(parts)
