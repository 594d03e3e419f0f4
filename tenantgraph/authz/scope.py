"""Row scope in SQL: the WHERE clause that keeps every query inside the caller's reach.

Rows outside the scope are never loaded, so a list simply omits them and a
lookup by id finds nothing (``NOT_FOUND``), exactly as for a row that does not exist.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, false, select, true

from tenantgraph.authz.principal import Principal, PrincipalKind
from tenantgraph.store.models import (
    Booking,
    Customer,
    Document,
    DocumentKind,
    Service,
    Tenant,
    Vehicle,
)

# Roles that keep seeing a document retained after its person was erased
# (an issued invoice, kept for bookkeeping); everyone else no longer sees it.
RETAINED_DOCUMENT_READERS = frozenset({"tenant_admin", "partner_accounting"})

# Document kinds a role may hold rows of; roles not named here see every kind.
DOCUMENT_KINDS_BY_ROLE: dict[str, tuple[DocumentKind, ...]] = {
    "inspector": (DocumentKind.INSPECTION_REPORT, DocumentKind.OTHER),
    "partner_accounting": (DocumentKind.INVOICE,),
}

ScopedModel = type[Customer] | type[Vehicle] | type[Booking] | type[Document]


def subject_customer_ids(principal: Principal) -> Select[str]:
    """The customer rows of a data subject in every tenant, matched by verified email."""
    return select(Customer.id).where(Customer.email == principal.email)


def row_scope(model: ScopedModel, principal: Principal) -> ColumnElement[bool]:
    """The predicate that limits ``model`` to the rows ``principal`` may reach."""
    if principal.is_tenant_member:
        in_tenant = model.tenant_id == principal.tenant_id
        if model is Document:
            visible = and_(in_tenant, _document_kinds(principal))
            if principal.roles.isdisjoint(RETAINED_DOCUMENT_READERS):
                visible = and_(visible, Document.retained_since.is_(None))
            return visible
        return in_tenant
    if principal.kind is PrincipalKind.SUBJECT and principal.email:
        own = subject_customer_ids(principal)
        if model is Customer:
            return Customer.email == principal.email
        if model is Vehicle:
            return Vehicle.owner_id.in_(own)
        if model is Booking:
            return Booking.customer_id.in_(own)
        return and_(Document.customer_id.in_(own), Document.retained_since.is_(None))
    return false()


def _document_kinds(principal: Principal) -> ColumnElement[bool]:
    """Limit document rows by kind for roles that may hold only some kinds."""
    if any(role not in DOCUMENT_KINDS_BY_ROLE for role in principal.roles):
        return true()
    kinds = {kind for role in principal.roles for kind in DOCUMENT_KINDS_BY_ROLE[role]}
    return Document.kind.in_(sorted(kinds))


def service_scope(principal: Principal) -> ColumnElement[bool]:
    """Services are public while active; a tenant's own members also see inactive ones."""
    if principal.is_tenant_member:
        return (Service.tenant_id == principal.tenant_id) | Service.active.is_(True)
    return Service.active.is_(True)


def tenant_scope(_principal: Principal) -> ColumnElement[bool]:
    """The tenant profile is public for every caller."""
    return true()


__all__ = ["Tenant", "row_scope", "service_scope", "subject_customer_ids", "tenant_scope"]
