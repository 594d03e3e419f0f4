"""The root query type."""

from __future__ import annotations

import strawberry

from basics.errors import NotFound
from basics.ids import decode_any
from resolvers import queries
from schema.admin import AdminQuery, ApiKeyQuery
from schema.connection import Connection, connection_from_page
from schema.context import Info
from schema.enums import DocumentKind
from schema.erasure import ErasureQuery
from schema.inputs import BookingFilter
from schema.online_booking import OnlineBookingQuery
from schema.portal import PortalQuery
from schema.privacy import PrivacyQuery
from schema.types import Booking, Customer, Document, Node, Tenant, Vehicle, Viewer
from store import models

NODE_MODELS: dict[str, type[models.Base]] = {
    "Tenant": models.Tenant,
    "Service": models.Service,
    "Customer": models.Customer,
    "Vehicle": models.Vehicle,
    "Booking": models.Booking,
    "Document": models.Document,
}


@strawberry.type
class Query(ErasureQuery, PortalQuery, PrivacyQuery, OnlineBookingQuery, AdminQuery, ApiKeyQuery):
    @strawberry.field(description="The caller.")
    async def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        tenant = None
        if principal.tenant_id is not None:
            tenant = await info.context.loaders.by_id(models.Tenant).load(principal.tenant_id)
        return Viewer(
            kind=principal.kind.value,
            roles=sorted(principal.roles),
            email=principal.email,
            tenant=tenant,  # type: ignore[arg-type]
        )

    @strawberry.field(description="Any object by its global id, if the caller may see it.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, _key = decode_any("id", id)
        model = NODE_MODELS.get(type_name)
        if model is None:
            raise NotFound("Node not found", field="id")
        return await queries.load_one(info.context, model, id)  # type: ignore[type-var, return-value]

    @strawberry.field(description="A tenant's public profile by slug.")
    async def tenant(self, info: Info, slug: str) -> Tenant | None:
        tenant = await queries.tenant_by_slug(info.context, slug)
        if tenant is None:
            raise NotFound("Tenant not found", field="slug")
        return tenant  # type: ignore[return-value]

    @strawberry.field(description="Customers in scope, optionally matching a search term.")
    async def customers(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Customer]:
        page = await queries.list_customers(info.context, search, first, after)
        return connection_from_page(page)

    @strawberry.field
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        return await queries.load_one(info.context, models.Customer, id)  # type: ignore[return-value]

    @strawberry.field(description="Vehicles in scope; search matches a registration number or VIN.")
    async def vehicles(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Vehicle]:
        page = await queries.list_vehicles(info.context, search, first, after)
        return connection_from_page(page)

    @strawberry.field
    async def vehicle(self, info: Info, id: strawberry.ID) -> Vehicle | None:
        return await queries.load_one(info.context, models.Vehicle, id)  # type: ignore[return-value]

    @strawberry.field(description="Bookings in scope, ordered by start time.")
    async def bookings(
        self,
        info: Info,
        filter: BookingFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Booking]:
        flt = queries.BookingFilter()
        if filter is not None:
            flt = queries.BookingFilter(
                starts_from=filter.starts_from,
                starts_before=filter.starts_before,
                statuses=tuple(filter.status or ()),
                customer_id=filter.customer_id,
                vehicle_id=filter.vehicle_id,
            )
        page = await queries.list_bookings(info.context, flt, first, after)
        return connection_from_page(page)

    @strawberry.field
    async def booking(self, info: Info, id: strawberry.ID) -> Booking | None:
        return await queries.load_one(info.context, models.Booking, id)  # type: ignore[return-value]

    @strawberry.field(description="Documents in scope, ordered by issue time.")
    async def documents(
        self,
        info: Info,
        kind: DocumentKind | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Document]:
        page = await queries.list_documents(info.context, kind, first, after)
        return connection_from_page(page)

    @strawberry.field
    async def document(self, info: Info, id: strawberry.ID) -> Document | None:
        return await queries.load_one(info.context, models.Document, id)  # type: ignore[return-value]
