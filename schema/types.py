"""Output types. Resolvers hand out ORM rows; plain columns resolve by attribute.

Every relation goes through a per-request DataLoader that applies the caller's
row scope, so nested lists cost one query per level and never leave the scope.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import Parent

from authz.grants import grantable_fields
from authz.introspection import permissions
from basics.ids import encode_id
from schema.context import Info
from schema.enums import (
    BookingChannel,
    BookingStatus,
    CreatedVia,
    DocumentKind,
    TenantKind,
)
from store import models

NESTED_DEFAULT = 50


def _first(info: Info, first: int | None) -> int:
    return info.context.page_size(first if first is not None else NESTED_DEFAULT)


@strawberry.interface(description="An object with an opaque global id.")
class Node:
    @strawberry.field(description="Opaque global id; the same id works with node(id:).")
    def id(self, root: Parent[Any]) -> strawberry.ID:
        # Every node is an ORM row whose class name is its GraphQL type name.
        return strawberry.ID(encode_id(type(root).__name__, root.id))


@strawberry.type(description="One day's opening interval in the tenant's local time.")
class OpeningInterval:
    day: str = strawberry.field(description="mon, tue, wed, thu, fri, sat or sun.")
    opens: str = strawberry.field(description="Local time HH:MM.")
    closes: str = strawberry.field(description="Local time HH:MM.")


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@strawberry.type(description="A business using the service: the data controller for its customers.")
class Tenant(Node):
    slug: str
    name: str
    kind: TenantKind
    description: str
    address: str
    contact_phone: str
    contact_email: str
    timezone: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, models.Tenant)

    @strawberry.field
    def opening_hours(self, root: Parent[models.Tenant]) -> list[OpeningInterval]:
        hours = root.opening_hours or {}
        return [
            OpeningInterval(day=day, opens=interval[0], closes=interval[1])
            for day in DAYS
            for interval in hours.get(day, [])
        ]

    @strawberry.field
    async def services(self, root: Parent[models.Tenant], info: Info) -> list[Service]:
        loader = info.context.loaders.children(
            models.Service,
            models.Service.tenant_id,
            [models.Service.name],
            info.context.settings.max_page_size,
        )
        return await loader.load(root.id)  # type: ignore[return-value]


@strawberry.type(description="Something a tenant offers for booking.")
class Service(Node):
    name: str
    description: str
    duration_minutes: int
    price_ore: int = strawberry.field(
        description="Price in Danish øre (1 DKK = 100 øre), VAT included."
    )
    capacity_per_slot: int
    active: bool

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, models.Service)

    @strawberry.field
    async def tenant(self, root: Parent[models.Service], info: Info) -> Tenant | None:
        return await info.context.loaders.by_id(models.Tenant).load(root.tenant_id)  # type: ignore[return-value]

    @strawberry.field(description="The bookings of this service the caller may see.")
    async def bookings(
        self, root: Parent[models.Service], info: Info, first: int | None = None
    ) -> list[Booking] | None:
        loader = info.context.loaders.children(
            models.Booking,
            models.Booking.service_id,
            [models.Booking.starts_at],
            _first(info, first),
        )
        return await loader.load(root.id)  # type: ignore[return-value]


@strawberry.type(description="A person as known to one tenant.")
class Customer(Node):
    name: str
    email: str | None
    phone: str | None = strawberry.field(description="E.164, e.g. +4512345678.")
    street: str | None
    postal_code: str | None
    city: str | None
    created_via: CreatedVia | None
    restricted_at: datetime | None = strawberry.field(
        description="Set while processing is restricted (Art. 18): kept, not used."
    )
    restriction_reason: str | None
    objections: list[str] | None = strawberry.field(
        description="Purposes the person objected to (Art. 21)."
    )
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, models.Customer)

    @strawberry.field
    async def tenant(self, root: Parent[models.Customer], info: Info) -> Tenant | None:
        return await info.context.loaders.by_id(models.Tenant).load(root.tenant_id)  # type: ignore[return-value]

    @strawberry.field
    async def vehicles(
        self, root: Parent[models.Customer], info: Info, first: int | None = None
    ) -> list[Vehicle] | None:
        loader = info.context.loaders.children(
            models.Vehicle,
            models.Vehicle.owner_id,
            [models.Vehicle.created_at],
            _first(info, first),
        )
        return await loader.load(root.id)  # type: ignore[return-value]

    @strawberry.field
    async def bookings(
        self, root: Parent[models.Customer], info: Info, first: int | None = None
    ) -> list[Booking] | None:
        loader = info.context.loaders.children(
            models.Booking,
            models.Booking.customer_id,
            [models.Booking.starts_at],
            _first(info, first),
        )
        return await loader.load(root.id)  # type: ignore[return-value]

    @strawberry.field
    async def documents(
        self, root: Parent[models.Customer], info: Info, first: int | None = None
    ) -> list[Document] | None:
        loader = info.context.loaders.children(
            models.Document,
            models.Document.customer_id,
            [models.Document.issued_at],
            _first(info, first),
        )
        return await loader.load(root.id)  # type: ignore[return-value]


@strawberry.type(description="A vehicle known to one tenant.")
class Vehicle(Node):
    registration: str | None = strawberry.field(description="Upper-case, no spaces: AB12345.")
    vin: str | None = strawberry.field(description="ISO 3779 vehicle identification number.")
    make: str | None
    model: str | None
    first_registration_date: date | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, models.Vehicle)

    @strawberry.field
    async def tenant(self, root: Parent[models.Vehicle], info: Info) -> Tenant | None:
        return await info.context.loaders.by_id(models.Tenant).load(root.tenant_id)  # type: ignore[return-value]

    @strawberry.field
    async def owner(self, root: Parent[models.Vehicle], info: Info) -> Customer | None:
        if root.owner_id is None:
            return None
        return await info.context.loaders.by_id(models.Customer).load(root.owner_id)  # type: ignore[return-value]

    @strawberry.field
    async def bookings(
        self, root: Parent[models.Vehicle], info: Info, first: int | None = None
    ) -> list[Booking] | None:
        loader = info.context.loaders.children(
            models.Booking,
            models.Booking.vehicle_id,
            [models.Booking.starts_at],
            _first(info, first),
        )
        return await loader.load(root.id)  # type: ignore[return-value]


@strawberry.type(description="An appointment for one service at one tenant.")
class Booking(Node):
    reference: str = strawberry.field(description="Human-readable, unique within the tenant.")
    status: BookingStatus | None
    starts_at: datetime | None
    ends_at: datetime | None
    customer_notes: str | None = strawberry.field(description="What the customer wrote.")
    internal_notes: str | None = strawberry.field(description="Staff-only notes.")
    price_ore: int | None
    channel: BookingChannel | None
    created_at: datetime | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, models.Booking)

    @strawberry.field
    async def tenant(self, root: Parent[models.Booking], info: Info) -> Tenant | None:
        return await info.context.loaders.by_id(models.Tenant).load(root.tenant_id)  # type: ignore[return-value]

    @strawberry.field
    async def customer(self, root: Parent[models.Booking], info: Info) -> Customer | None:
        if root.customer_id is None:
            return None
        return await info.context.loaders.by_id(models.Customer).load(root.customer_id)  # type: ignore[return-value]

    @strawberry.field
    async def vehicle(self, root: Parent[models.Booking], info: Info) -> Vehicle | None:
        if root.vehicle_id is None:
            return None
        return await info.context.loaders.by_id(models.Vehicle).load(root.vehicle_id)  # type: ignore[return-value]

    @strawberry.field
    async def service(self, root: Parent[models.Booking], info: Info) -> Service | None:
        return await info.context.loaders.by_id(models.Service).load(root.service_id)  # type: ignore[return-value]

    @strawberry.field
    async def documents(
        self, root: Parent[models.Booking], info: Info, first: int | None = None
    ) -> list[Document] | None:
        loader = info.context.loaders.children(
            models.Document,
            models.Document.booking_id,
            [models.Document.issued_at],
            _first(info, first),
        )
        return await loader.load(root.id)  # type: ignore[return-value]


@strawberry.type(description="An invoice, inspection report or other document.")
class Document(Node):
    kind: DocumentKind
    title: str
    issued_at: datetime
    mime_type: str
    size_bytes: int
    sha256: str = strawberry.field(description="Hex SHA-256 of the content.")
    retain_until: date | None = strawberry.field(
        description="Kept at least until this date (bookkeeping duty for invoices)."
    )
    reference: str | None = strawberry.field(
        description="The booking reference a retained document was issued under; it keeps "
        "it when the booking is anonymised."
    )
    amount_ore: int | None = strawberry.field(
        description="The amount (øre) a retained document stands for, kept from its booking."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, models.Document)

    @strawberry.field(description="Path of the download route: GET it with the same bearer token.")
    def download_url(self, root: Parent[models.Document]) -> str:
        return f"/documents/{encode_id('Document', root.id)}"

    @strawberry.field(description="The content, base64-encoded.")
    async def content(self, root: Parent[models.Document], info: Info) -> str | None:
        raw = await info.context.loaders.document_content().load(root.id)
        return None if raw is None else base64.b64encode(raw).decode("ascii")

    @strawberry.field
    async def tenant(self, root: Parent[models.Document], info: Info) -> Tenant | None:
        return await info.context.loaders.by_id(models.Tenant).load(root.tenant_id)  # type: ignore[return-value]

    @strawberry.field
    async def booking(self, root: Parent[models.Document], info: Info) -> Booking | None:
        if root.booking_id is None:
            return None
        return await info.context.loaders.by_id(models.Booking).load(root.booking_id)  # type: ignore[return-value]

    @strawberry.field
    async def customer(self, root: Parent[models.Document], info: Info) -> Customer | None:
        if root.customer_id is None:
            return None
        return await info.context.loaders.by_id(models.Customer).load(root.customer_id)  # type: ignore[return-value]


@strawberry.type(description="What the caller may use, from the same decisions as every door.")
class Permissions:
    read: list[str] = strawberry.field(
        description="Every field the caller may read, as Type.field (root fields included)."
    )
    write: list[str] = strawberry.field(
        description="Every mutation the caller may run and input field it may set."
    )
    grantable: list[str] = strawberry.field(
        description="For a partner key: fields it may not read yet that its tenant's "
        "administrator could grant it, within the platform ceiling; empty for others."
    )


@strawberry.type(description="Who is calling, as the service sees it.")
class Viewer:
    kind: str
    roles: list[str]
    email: str | None = strawberry.field(description="Set for a data subject only.")
    tenant: Tenant | None

    @strawberry.field(description="The fields this caller may read and write, and may be granted.")
    def permissions(self, info: Info) -> Permissions:
        context = info.context
        ceiling = [(g.role, g.field) for g in grantable_fields(context.authorizer)]
        read, write, grantable = permissions(
            info.schema._schema, context.principal, context.decisions, ceiling
        )
        return Permissions(read=read, write=write, grantable=grantable)
