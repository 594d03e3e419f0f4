"""Row scope in SQL: the WHERE clause that keeps every query inside the caller's reach.

Rows outside the scope are never loaded, so a list simply omits them and a
lookup by id finds nothing (``NOT_FOUND``), exactly as for a row that does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, false, not_, select, true

from authz.row_rules import row_rules
from basics.principal import Principal, PrincipalKind
from store.models import (
    AuditEvent,
    Booking,
    Customer,
    Document,
    PrivacyRequest,
    Service,
    Tenant,
    Vehicle,
)

ScopedModel = (
    type[Customer]
    | type[Vehicle]
    | type[Booking]
    | type[Document]
    | type[PrivacyRequest]
    | type[AuditEvent]
)


def subject_customer_ids(principal: Principal) -> Select[str]:
    """The customer rows of a data subject in every tenant, matched by verified email."""
    return select(Customer.id).where(Customer.email == principal.email)


def _objected(purpose: str) -> ColumnElement[bool]:
    # The objections column is a JSON list of purpose names; its text form
    # contains the quoted name on SQLite and PostgreSQL alike.
    return cast(Customer.objections, String).like(f'%"{purpose}"%')


def partner_customer_filter(principal: Principal) -> ColumnElement[bool] | None:
    """Customers a partner may not see: restricted ones (Art. 18), objectors (Art. 21)."""
    if principal.kind is not PrincipalKind.PARTNER:
        return None
    hidden: ColumnElement[bool] = Customer.restricted_at.is_not(None)
    for purpose in sorted(row_rules(principal.roles, "tenant").purposes):
        hidden = hidden | _objected(purpose)
    return hidden


def row_scope(model: ScopedModel, principal: Principal) -> ColumnElement[bool]:
    """The predicate that limits ``model`` to the rows ``principal`` may reach."""
    if principal.is_tenant_member:
        visible: ColumnElement[bool] = owned_by(model, principal.tenant_id)
        if model is Document:
            visible = and_(visible, _document_rows(principal.roles, "tenant"))
        hidden = partner_customer_filter(principal)
        if hidden is not None:
            visible = and_(visible, _not_about(model, hidden))
        return visible
    if principal.kind is PrincipalKind.SUBJECT and principal.email:
        own = subject_customer_ids(principal)
        if model is Customer:
            return Customer.email == principal.email
        if model is Vehicle:
            return Vehicle.owner_id.in_(own)
        if model is Booking:
            return Booking.customer_id.in_(own)
        if model is Document:
            return and_(Document.customer_id.in_(own), _document_rows(principal.roles, "self"))
        if model is PrivacyRequest:
            return PrivacyRequest.customer_id.in_(own)
    return false()


def _not_about(model: ScopedModel, hidden: ColumnElement[bool]) -> ColumnElement[bool]:
    """Exclude rows about customers matching ``hidden``."""
    if model is Customer:
        return not_(hidden)
    hidden_ids = select(Customer.id).where(hidden)
    if model is Vehicle:
        return Vehicle.owner_id.is_(None) | Vehicle.owner_id.not_in(hidden_ids)
    if model in (Booking, Document, PrivacyRequest):
        column = model.customer_id
        return column.is_(None) | column.not_in(hidden_ids)
    return true()


def _document_rows(roles: frozenset[str], relation: str) -> ColumnElement[bool]:
    """Document rows by kind and retention, as the row rules of the policy say."""
    rules = row_rules(roles, relation)
    visible: ColumnElement[bool] = true()
    if rules.document_kinds is not None:
        visible = (
            Document.kind.in_(sorted(rules.document_kinds)) if rules.document_kinds else false()
        )
    if not rules.keeps_retained:
        visible = and_(visible, Document.retained_since.is_(None))
    return visible


def service_scope(principal: Principal) -> ColumnElement[bool]:
    """Services are public while active; a tenant's own members also see inactive ones."""
    if principal.is_tenant_member:
        return (Service.tenant_id == principal.tenant_id) | Service.active.is_(True)
    return Service.active.is_(True)


def tenant_scope(_principal: Principal) -> ColumnElement[bool]:
    """The tenant profile is public for every caller."""
    return true()


def owned_by(model: type[Any], tenant_id: Any) -> ColumnElement[bool]:
    """Rows of ``model`` that belong to one tenant: the write side of a staff member's reach.

    Writes name the tenant the kernel handed back (``authz.kernel.require``),
    never one taken from input, and use this predicate (or ``row_scope``) so
    reads and writes share one definition of "the caller's rows".
    """
    column: ColumnElement[str] = model.tenant_id
    condition: ColumnElement[bool] = column == tenant_id
    return condition


__all__ = [
    "Tenant",
    "owned_by",
    "row_scope",
    "service_scope",
    "subject_customer_ids",
    "tenant_scope",
]
