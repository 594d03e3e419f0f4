"""Which GraphQL types and fields the compiled path covers, and how each is stored.

A field listed here renders from one column (converted the way the executor
renders the ORM value) or from one relation (a row by foreign key, or a list
of rows by the parent's key, in the loaders' order). A field not listed here
(``tenant``, ``openingHours``, ``Document.content``) makes its root field fall
back to the executor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from store.models import Base, Booking, Customer, Document, Service, Vehicle

# Lists nested below a row have this page size when the client gives none
# (as ``schema.types.NESTED_DEFAULT``).
NESTED_DEFAULT = 50


def as_datetime(value: Any) -> datetime:
    """A stored timestamp as ``UTCDateTime`` returns it: aware, in UTC."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _datetime(value: Any) -> str:
    """``as_datetime(value).isoformat()``, without parsing the two common spellings."""
    if len(value) == 26 and value[10] == " " and value[19] == ".":
        # SQLite's stored form, always UTC: 2026-01-05 08:00:00.000000
        fraction = value[20:]
        seconds = "" if fraction == "000000" else f".{fraction}"
        return f"{value[:10]}T{value[11:19]}{seconds}+00:00"
    if len(value) == 25 and value[10] == "T" and value.endswith("+00:00"):
        return str(value)  # PostgreSQL's JSON form in UTC, whole seconds
    return as_datetime(value).isoformat()


def _date(value: Any) -> str:
    return date.fromisoformat(value).isoformat()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": str,
    "int": int,
    "bool": bool,
    "datetime": _datetime,
    "date": _date,
    # Enums are stored by member name, which is also their GraphQL name.
    "enum": str,
    "json": _json,
}


@dataclass(frozen=True)
class Column:
    key: str
    kind: str


@dataclass(frozen=True)
class Relation:
    """A related row (``many=False``: by the parent's ``key`` column) or rows (by theirs)."""

    target: str
    key: str
    many: bool = False
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class TypeSpec:
    model: type[Base]
    columns: dict[str, Column]
    relations: dict[str, Relation] = field(default_factory=dict)
    # The customer a row is about (``authz.relations.subject_of``), if any.
    subject: str | None = None
    # Fields computed from the id alone.
    computed: frozenset[str] = frozenset()


def _columns(**kinds: str) -> dict[str, Column]:
    """GraphQL field name -> column; the column key is the field name in snake case."""
    out = {}
    for name, kind in kinds.items():
        key = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
        out[name] = Column(key, kind)
    return out


TYPES: dict[str, TypeSpec] = {
    "Booking": TypeSpec(
        Booking,
        _columns(
            reference="text",
            status="enum",
            startsAt="datetime",
            endsAt="datetime",
            customerNotes="text",
            internalNotes="text",
            priceOre="int",
            channel="enum",
            createdAt="datetime",
        ),
        {
            "customer": Relation("Customer", "customer_id"),
            "vehicle": Relation("Vehicle", "vehicle_id"),
            "service": Relation("Service", "service_id"),
            "documents": Relation("Document", "booking_id", True, ("issued_at",)),
        },
        subject="customer_id",
    ),
    "Customer": TypeSpec(
        Customer,
        _columns(
            name="text",
            email="text",
            phone="text",
            street="text",
            postalCode="text",
            city="text",
            createdVia="enum",
            restrictedAt="datetime",
            restrictionReason="text",
            objections="json",
            createdAt="datetime",
            updatedAt="datetime",
        ),
        {
            "vehicles": Relation("Vehicle", "owner_id", True, ("created_at",)),
            "bookings": Relation("Booking", "customer_id", True, ("starts_at",)),
            "documents": Relation("Document", "customer_id", True, ("issued_at",)),
        },
        subject="id",
    ),
    "Vehicle": TypeSpec(
        Vehicle,
        _columns(
            registration="text", vin="text", make="text", model="text", firstRegistrationDate="date"
        ),
        {
            "owner": Relation("Customer", "owner_id"),
            "bookings": Relation("Booking", "vehicle_id", True, ("starts_at",)),
        },
        subject="owner_id",
    ),
    "Document": TypeSpec(
        Document,
        _columns(
            kind="enum",
            title="text",
            issuedAt="datetime",
            mimeType="text",
            sizeBytes="int",
            sha256="text",
            retainUntil="date",
        ),
        {
            "booking": Relation("Booking", "booking_id"),
            "customer": Relation("Customer", "customer_id"),
        },
        subject="customer_id",
        computed=frozenset({"downloadUrl"}),
    ),
    "Service": TypeSpec(
        Service,
        _columns(
            name="text",
            description="text",
            durationMinutes="int",
            priceOre="int",
            capacityPerSlot="int",
            active="bool",
        ),
        {"bookings": Relation("Booking", "service_id", True, ("starts_at",))},
    ),
}

# Connection and edge types wrap rows; their fields are rendered from the page.
CONNECTION_FIELDS = frozenset({"edges", "pageInfo", "totalCount", "__typename"})
EDGE_FIELDS = frozenset({"cursor", "node", "__typename"})
PAGE_INFO_FIELDS = frozenset(
    {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}
)
