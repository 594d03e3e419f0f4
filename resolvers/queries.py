"""Scoped reads behind the root query fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, false, or_, select

from basics.errors import NotFound
from basics.ids import decode_id
from resolvers import validation
from resolvers.context import RequestContext
from resolvers.customer_search import (
    MAX_SEARCH_LENGTH,
    customer_match,
    may_search,
    narrow,
    page_ids,
)
from resolvers.pagination import Page, SortKey, decode_cursor, paginate
from store.candidates import AmongCandidates
from store.models import (
    Booking,
    BookingStatus,
    Customer,
    Document,
    DocumentKind,
    Service,
    Tenant,
    Vehicle,
)

M = TypeVar("M", Tenant, Service, Customer, Vehicle, Booking, Document)

BOOKING_ORDER = SortKey(Booking.starts_at, Booking.id, is_datetime=True)
CUSTOMER_ORDER = SortKey(Customer.name, Customer.id)
VEHICLE_ORDER = SortKey(Vehicle.registration, Vehicle.id, nullable=True)
DOCUMENT_ORDER = SortKey(Document.issued_at, Document.id, is_datetime=True)


async def load_one(ctx: RequestContext, model: type[M], global_id: str, *, field: str = "id") -> M:
    """One row by global id, inside the caller's scope, or ``NOT_FOUND``.

    A row of another tenant and a row that never existed give the same answer.
    """
    key = decode_id(field, global_id, model.__name__)
    row = await ctx.loaders.by_id(model).load(key)
    if row is None:
        raise NotFound(f"{model.__name__} not found", field=field)
    return row


@dataclass(frozen=True)
class BookingFilter:
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    statuses: tuple[BookingStatus, ...] = ()
    customer_id: str | None = None
    vehicle_id: str | None = None


async def list_bookings(
    ctx: RequestContext, flt: BookingFilter, first: int | None, after: str | None
) -> Page[Booking]:
    return await paginate(
        ctx.session,
        bookings_statement(ctx, flt),
        BOOKING_ORDER,
        first=ctx.page_size(first),
        after=after,
    )


def bookings_statement(ctx: RequestContext, flt: BookingFilter) -> Select[Booking]:
    """The bookings in scope that match ``flt``, before pagination."""
    statement = select(Booking).where(ctx.loaders.scope(Booking))
    if flt.starts_from is not None:
        statement = statement.where(
            Booking.starts_at >= validation.aware("filter.startsFrom", flt.starts_from)
        )
    if flt.starts_before is not None:
        statement = statement.where(
            Booking.starts_at < validation.aware("filter.startsBefore", flt.starts_before)
        )
    if flt.statuses:
        statement = statement.where(Booking.status.in_(flt.statuses))
    if flt.customer_id is not None:
        key = decode_id("filter.customerId", flt.customer_id, "Customer")
        statement = statement.where(Booking.customer_id == key)
    if flt.vehicle_id is not None:
        key = decode_id("filter.vehicleId", flt.vehicle_id, "Vehicle")
        statement = statement.where(Booking.vehicle_id == key)
    return statement


async def list_customers(
    ctx: RequestContext, search: str | None, first: int | None, after: str | None
) -> Page[Customer]:
    size = ctx.page_size(first)
    page, total = await customers_statements(ctx, search, first=size, after=after)
    return await paginate(
        ctx.session, page, CUSTOMER_ORDER, first=size, after=after, count_statement=total
    )


async def customers_statements(
    ctx: RequestContext, search: str | None, *, first: int, after: str | None
) -> tuple[Select[Customer], Select[Customer]]:
    """Customers, optionally matching ``search`` in name, email, phone or a vehicle's plate:
    the statement a page of ``first`` after ``after`` is cut from, and the one to count.

    Only fields the caller may read are searched: otherwise a search would
    answer what the field policy hides (an inspector probing for an email, a
    reminder service learning who owns a plate). ``resolvers.customer_search``
    says what matches and narrows it through the search index when that is
    the cheaper way (one bounded count decides); where the index alone can
    name the page's rows, the page's statement reads only those.
    """
    statement = select(Customer).where(ctx.loaders.scope(Customer))
    if search is None:
        return statement, statement
    match = await narrow(ctx.session, customer_match(ctx.principal, ctx.decisions, search))
    statement = statement.where(or_(false(), *match.conditions))
    if match.candidates is None:
        return statement, statement
    counted = statement.where(AmongCandidates(Customer.id, match.candidates))
    cursor = decode_cursor(CUSTOMER_ORDER, after) if after is not None else None
    ids = page_ids(match, first, cursor)
    if ids is None:
        return counted, counted
    return statement.where(AmongCandidates(Customer.id, ids)), counted


async def list_vehicles(
    ctx: RequestContext, search: str | None, first: int | None, after: str | None
) -> Page[Vehicle]:
    return await paginate(
        ctx.session,
        vehicles_statement(ctx, search),
        VEHICLE_ORDER,
        first=ctx.page_size(first),
        after=after,
    )


def vehicles_statement(ctx: RequestContext, search: str | None) -> Select[Vehicle]:
    statement = select(Vehicle).where(ctx.loaders.scope(Vehicle))
    if search is not None:
        term = validation.text("search", search, max_length=MAX_SEARCH_LENGTH)
        normalised = term.replace(" ", "").replace("-", "").upper()
        conditions = [
            column == normalised
            for column, name in ((Vehicle.registration, "registration"), (Vehicle.vin, "vin"))
            if may_search(ctx.principal, ctx.decisions, "Vehicle", name)
        ]
        statement = statement.where(or_(false(), *conditions))
    return statement


async def list_documents(
    ctx: RequestContext, kind: DocumentKind | None, first: int | None, after: str | None
) -> Page[Document]:
    return await paginate(
        ctx.session,
        documents_statement(ctx, kind),
        DOCUMENT_ORDER,
        first=ctx.page_size(first),
        after=after,
    )


def documents_statement(ctx: RequestContext, kind: DocumentKind | None) -> Select[Document]:
    statement = select(Document).where(ctx.loaders.scope(Document))
    if kind is not None:
        statement = statement.where(Document.kind == kind)
    return statement


async def tenant_by_slug(ctx: RequestContext, slug: str) -> Tenant | None:
    if len(slug) > 63:
        return None
    result = await ctx.session.execute(select(Tenant).where(Tenant.slug == slug))
    return result.scalar_one_or_none()
