"""Which GraphQL types and fields the compiled path covers, and how each is stored.

A field listed here renders from one column (which the statement writes the
way the executor renders the ORM value, ``sqlgen.column_value``) or from one
relation (a row by foreign key, or a list of rows by the parent's key, in the
loaders' order). A field not listed here
(``tenant``, ``openingHours``, ``Document.content``) makes its root field fall
back to the executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store.models import Base, Booking, Customer, Document, Service, Vehicle

# Lists nested below a row have this page size when the client gives none
# (as ``schema.types.NESTED_DEFAULT``).
NESTED_DEFAULT = 50


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
