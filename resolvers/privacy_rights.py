"""Resolvers for the privacy rights: access, requests, restriction, objection, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from authz.kernel import require, require_writer, row_in_reach
from basics.errors import BadUserInput, Conflict, NotFound
from basics.ids import decode_any, decode_id, encode_id
from basics.principal import PrincipalKind
from privacy import access, requests, restriction
from privacy.erasure import erase_customer
from privacy.flush import engine_of, flush_erased_pages
from resolvers.context import RequestContext
from resolvers.pagination import Page, SortKey, paginate
from store.engine import write_transaction
from store.models import (
    OPEN_REQUEST_STATUSES,
    AuditEvent,
    Customer,
    PrivacyRequest,
    PrivacyRequestStatus,
    PrivacyRequestType,
    Tenant,
)
from store.types import utcnow

REQUEST_ORDER = SortKey(PrivacyRequest.received_at, PrivacyRequest.id, is_datetime=True)
AUDIT_ORDER = SortKey(AuditEvent.occurred_at, AuditEvent.id, is_datetime=True)


def _require_subject(ctx: RequestContext, operation: str) -> str:
    return require(
        ctx.principal, ctx.decisions, f"Mutation.{operation}", kind=PrincipalKind.SUBJECT
    ).email


async def _subject_customers(
    session: AsyncSession, email: str, tenant_slug: str | None
) -> list[Customer]:
    statement = select(Customer).where(Customer.email == email)
    if tenant_slug is not None:
        statement = statement.join(Tenant, Tenant.id == Customer.tenant_id).where(
            Tenant.slug == tenant_slug
        )
    customers = list((await session.execute(statement.order_by(Customer.tenant_id))).scalars())
    if tenant_slug is not None and not customers:
        raise NotFound("no records of yours at that business", field="tenantSlug")
    return customers


# --- access -------------------------------------------------------------------


@dataclass
class ControllerView:
    tenant_id: str
    customer: Customer


async def my_data(ctx: RequestContext, tenant_slug: str | None) -> list[ControllerView]:
    email = require(ctx.principal, ctx.decisions, "Query.myData", kind=PrincipalKind.SUBJECT).email
    async with ctx.sessions() as session:
        customers = await _subject_customers(session, email, tenant_slug)
    return [ControllerView(tenant_id=c.tenant_id, customer=c) for c in customers]


async def recipients(ctx: RequestContext, customer_id: str) -> list[access.RecipientFact]:
    """Batched across the controllers of one answer: one query, however many businesses."""
    return await ctx.loaders.recipients().load(customer_id)


@dataclass
class Export:
    format: str
    content_type: str
    filename: str
    content: str


async def _render(document: dict[str, Any], fmt: str) -> Export:
    """Write the export while its rows are read, batch by batch (inside the transaction)."""
    stamp = utcnow().strftime("%Y%m%d")
    content = await access.render(document, fmt)
    if fmt == "HTML":
        return Export("HTML", "text/html; charset=utf-8", f"my-data-{stamp}.html", content)
    return Export("JSON", "application/json", f"my-data-{stamp}.json", content)


async def export_my_data(ctx: RequestContext, fmt: str, tenant_slug: str | None) -> Export:
    """The subject's own export; recorded as a completed portability request per business."""
    email = _require_subject(ctx, "exportMyData")
    async with write_transaction(ctx.sessions) as tx:
        customers = await _subject_customers(tx, email, tenant_slug)
        document = access.subject_export(tx, customers, include_staff_only=False, email=email)
        export = await _render(document, fmt)
        for customer in customers:
            request = await requests.open_request(
                tx,
                customer,
                PrivacyRequestType.PORTABILITY,
                actor=ctx.principal.actor,
                verified=True,
            )
            await requests.start(tx, request, ctx.principal.actor)
            await requests.complete(
                tx, request, ctx.principal.actor, {"format": fmt}, partial=False
            )
    return export


async def export_subject_data(ctx: RequestContext, customer_gid: str, fmt: str) -> Export:
    """A tenant_admin answers an access request on the person's behalf."""
    tenant_id = require_writer(ctx.principal, ctx.decisions, "exportSubjectData")
    key = decode_id("customerId", customer_gid, "Customer")
    async with write_transaction(ctx.sessions) as tx:
        customer = await _tenant_customer(tx, tenant_id, key, "customerId")
        document = access.subject_export(
            tx, [customer], include_staff_only=True, email=customer.email
        )
        export = await _render(document, fmt)
        request = await requests.open_request(
            tx, customer, PrivacyRequestType.ACCESS, actor=ctx.principal.actor, verified=True
        )
        await requests.start(tx, request, ctx.principal.actor)
        await requests.complete(tx, request, ctx.principal.actor, {"format": fmt}, partial=False)
    return export


async def _tenant_customer(tx: AsyncSession, tenant_id: str, key: str, field: str) -> Customer:
    return await row_in_reach(tx, Customer, key, tenant_id, field=field)


# --- requests -----------------------------------------------------------------


async def request_erasure(ctx: RequestContext, tenant_slug: str | None) -> list[PrivacyRequest]:
    """One erasure request per business; a business may approve them automatically."""
    email = _require_subject(ctx, "requestErasure")
    actor = ctx.principal.actor
    opened = []
    erased = False
    async with write_transaction(ctx.sessions) as tx:
        for customer in await _subject_customers(tx, email, tenant_slug):
            request = await requests.open_request(
                tx, customer, PrivacyRequestType.ERASURE, actor=actor, verified=True
            )
            tenant = await tx.get(Tenant, customer.tenant_id)
            if tenant is not None and tenant.auto_approve_erasure:
                await _carry_out_erasure(ctx, tx, request, tenant, "tenant setting: auto-approve")
                erased = True
            else:
                await requests.await_controller(tx, request, actor)
            opened.append(request)
    ctx.created_for_caller.update(r.id for r in opened)
    if erased:
        await flush_erased_pages(engine_of(ctx.sessions))
    return opened


async def request_restriction(
    ctx: RequestContext, reason: str, tenant_slug: str | None
) -> list[PrivacyRequest]:
    email = _require_subject(ctx, "requestRestriction")
    cleaned = reason.strip()
    if not cleaned or len(cleaned) > restriction.MAX_REASON_LENGTH:
        raise BadUserInput("reason", f"must be 1 to {restriction.MAX_REASON_LENGTH} characters")
    opened = []
    async with write_transaction(ctx.sessions) as tx:
        for customer in await _subject_customers(tx, email, tenant_slug):
            request = await requests.open_request(
                tx,
                customer,
                PrivacyRequestType.RESTRICTION,
                actor=ctx.principal.actor,
                verified=True,
                parameters={"reason": cleaned},
            )
            await requests.await_controller(tx, request, ctx.principal.actor)
            opened.append(request)
    ctx.created_for_caller.update(r.id for r in opened)
    return opened


async def object_to_processing(
    ctx: RequestContext, purpose: str, tenant_slug: str | None, *, withdraw: bool = False
) -> list[PrivacyRequest]:
    """Objections take effect at once; each is recorded as a completed request."""
    operation = "withdrawObjection" if withdraw else "objectToProcessing"
    email = _require_subject(ctx, operation)
    actor = ctx.principal.actor
    done = []
    async with write_transaction(ctx.sessions) as tx:
        for customer in await _subject_customers(tx, email, tenant_slug):
            if withdraw:
                changed = await restriction.withdraw_objection(tx, customer, purpose, actor=actor)
            else:
                changed = await restriction.object_to(tx, customer, purpose, actor=actor)
            request = await requests.open_request(
                tx,
                customer,
                PrivacyRequestType.OBJECTION,
                actor=actor,
                verified=True,
                parameters={"purpose": purpose, "withdrawn": withdraw},
            )
            await requests.start(tx, request, actor)
            await requests.complete(tx, request, actor, {"changed": changed}, partial=False)
            done.append(request)
    ctx.created_for_caller.update(r.id for r in done)
    return done


async def _admin_request(tx: AsyncSession, tenant_id: str, global_id: str) -> PrivacyRequest:
    key = decode_id("id", global_id, "PrivacyRequest")
    return await row_in_reach(tx, PrivacyRequest, key, tenant_id)


async def _carry_out_erasure(
    ctx: RequestContext, tx: AsyncSession, request: PrivacyRequest, tenant: Tenant, why: str
) -> None:
    actor = ctx.principal.actor
    await requests.start(tx, request, actor)
    if request.customer_id is None:
        await requests.complete(
            tx, request, actor, {"note": "nothing left to erase"}, partial=False
        )
        return
    customer = await tx.get(Customer, request.customer_id)
    receipt = await erase_customer(
        tx,
        request.customer_id,
        tenant,
        actor=actor,
        request_id=request.id,
        settings=ctx.settings,
        confirm_to=customer.email if customer is not None else None,
    )
    outcome = {"approved_by": why, **receipt.as_dict()}
    await requests.complete(tx, request, actor, outcome, partial=receipt.retained_count > 0)


async def resolve_request(
    ctx: RequestContext,
    global_id: str,
    *,
    approve: bool,
    reason: str | None,
    legal_reference: str | None,
) -> PrivacyRequest:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "resolvePrivacyRequest")
    actor = ctx.principal.actor
    erased = False
    async with write_transaction(ctx.sessions) as tx:
        request = await _admin_request(tx, tenant_id, global_id)
        customer = await tx.get(Customer, request.customer_id) if request.customer_id else None
        if request.status not in OPEN_REQUEST_STATUSES:
            raise Conflict(f"the request is already {request.status.value}", field="id")
        if not approve:
            await requests.reject(
                tx, request, customer, actor, reason=reason, legal_reference=legal_reference
            )
            return request
        tenant = await tx.get(Tenant, tenant_id)
        assert tenant is not None
        if request.type is PrivacyRequestType.ERASURE:
            await _carry_out_erasure(ctx, tx, request, tenant, actor)
            erased = True
        elif request.type is PrivacyRequestType.RESTRICTION:
            await requests.start(tx, request, actor)
            if customer is not None and customer.restricted_at is None:
                await restriction.restrict(
                    tx,
                    customer,
                    actor=actor,
                    reason=str(request.parameters.get("reason") or "requested by the person"),
                    customer_ref=encode_id("Customer", customer.id),
                )
            await requests.complete(tx, request, actor, {"restricted": True}, partial=False)
        else:
            await requests.start(tx, request, actor)
            await requests.complete(tx, request, actor, {}, partial=False)
    if erased:
        await flush_erased_pages(engine_of(ctx.sessions))
    return request


async def extend_request(ctx: RequestContext, global_id: str, reason: str) -> PrivacyRequest:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "extendPrivacyRequest")
    async with write_transaction(ctx.sessions) as tx:
        request = await _admin_request(tx, tenant_id, global_id)
        customer = await tx.get(Customer, request.customer_id) if request.customer_id else None
        await requests.extend(tx, request, customer, ctx.principal.actor, reason)
    return request


@dataclass(frozen=True)
class RequestFilter:
    statuses: tuple[PrivacyRequestStatus, ...] = ()
    types: tuple[PrivacyRequestType, ...] = ()
    overdue: bool | None = None


async def list_requests(
    ctx: RequestContext, flt: RequestFilter, first: int | None, after: str | None
) -> Page[PrivacyRequest]:
    statement = select(PrivacyRequest).where(ctx.loaders.scope(PrivacyRequest))
    if flt.statuses:
        statement = statement.where(PrivacyRequest.status.in_(flt.statuses))
    if flt.types:
        statement = statement.where(PrivacyRequest.type.in_(flt.types))
    if flt.overdue is not None:
        now = utcnow()
        overdue = PrivacyRequest.status.in_(OPEN_REQUEST_STATUSES) & (PrivacyRequest.due_at < now)
        statement = statement.where(overdue if flt.overdue else ~overdue)
    return await paginate(
        ctx.session, statement, REQUEST_ORDER, first=ctx.page_size(first), after=after
    )


# --- restriction (tenant_admin) ---------------------------------------------------


async def set_restriction(
    ctx: RequestContext, customer_gid: str, *, reason: str | None, lift: bool
) -> Customer:
    operation = "liftRestriction" if lift else "restrictProcessing"
    tenant_id = require_writer(ctx.principal, ctx.decisions, operation)
    key = decode_id("customerId", customer_gid, "Customer")
    async with write_transaction(ctx.sessions) as tx:
        customer = await _tenant_customer(tx, tenant_id, key, "customerId")
        if lift:
            await restriction.lift(
                tx, customer, actor=ctx.principal.actor, customer_ref=encode_id("Customer", key)
            )
        else:
            await restriction.restrict(
                tx,
                customer,
                actor=ctx.principal.actor,
                reason=reason or "",
                customer_ref=encode_id("Customer", key),
            )
    return customer


# --- audit --------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    action: str | None = None
    since: datetime | None = None


async def list_audit_events(
    ctx: RequestContext, flt: AuditFilter, first: int | None, after: str | None
) -> Page[AuditEvent]:
    statement = select(AuditEvent).where(ctx.loaders.scope(AuditEvent))
    if flt.entity_type:
        statement = statement.where(AuditEvent.entity_type == flt.entity_type)
    if flt.entity_id:
        _type_name, key = decode_any("filter.entityId", flt.entity_id)
        statement = statement.where(AuditEvent.entity_id == key)
    if flt.action:
        statement = statement.where(AuditEvent.action == flt.action)
    if flt.since:
        statement = statement.where(AuditEvent.occurred_at >= flt.since)
    return await paginate(
        ctx.session, statement, AUDIT_ORDER, first=ctx.page_size(first), after=after
    )
