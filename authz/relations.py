"""How a row relates to the caller: the ``rel`` of every field decision.

``tenant``: the row belongs to the caller's tenant. ``self``: it belongs to the
calling data subject. ``public``: a public profile (tenant, service) of a tenant
that is not the caller's. ``None``: the row has no business being in this
response at all; the field guard treats that as a security event.
"""

from __future__ import annotations

from basics.principal import Principal, PrincipalKind
from store.models import (
    Base,
    Booking,
    Customer,
    Document,
    PrivacyRequest,
    Service,
    Tenant,
    Vehicle,
)

ROW_TYPES = (
    "Customer",
    "Vehicle",
    "Booking",
    "Document",
    "PrivacyRequest",
    "AuditEvent",
    "RecipientNotice",
)
PUBLIC_PROFILE_TYPES = ("Tenant", "Service")


def possible_relations(principal: Principal, type_name: str) -> tuple[str, ...]:
    """The relations a caller's rows of ``type_name`` can have: what a static check allows for."""
    member = principal.kind in (PrincipalKind.STAFF, PrincipalKind.PARTNER)
    if type_name in ROW_TYPES:
        if member:
            return ("tenant",)
        if principal.kind is PrincipalKind.SUBJECT:
            return ("self",)
        return ("public",)
    if type_name in PUBLIC_PROFILE_TYPES and member:
        return ("tenant", "public")
    return ("public",)


def _owned(
    customer_id: str | None, principal: Principal, own_customer_ids: frozenset[str]
) -> str | None:
    if (
        principal.kind is PrincipalKind.SUBJECT
        and customer_id is not None
        and customer_id in own_customer_ids
    ):
        return "self"
    return None


def relation_of(row: Base, principal: Principal, own_customer_ids: frozenset[str]) -> str | None:
    if isinstance(row, Tenant):
        return _profile_relation(row.id, principal)
    if isinstance(row, Service):
        return _profile_relation(row.tenant_id, principal)
    subject = row.customer_id if isinstance(row, PrivacyRequest) else subject_of(row)
    return _row_relation(getattr(row, "tenant_id", None), subject, principal, own_customer_ids)


def relation_by_keys(
    type_name: str,
    tenant_id: str | None,
    subject_id: str | None,
    principal: Principal,
    own_customer_ids: frozenset[str],
) -> str | None:
    """``relation_of`` for a row known only by its type, tenant and the customer it is about.

    For answers written in SQL (the compiled read path), which return these
    keys instead of loaded rows.
    """
    if type_name in PUBLIC_PROFILE_TYPES:
        return _profile_relation(tenant_id, principal)
    return _row_relation(tenant_id, subject_id, principal, own_customer_ids)


def _profile_relation(tenant_id: str | None, principal: Principal) -> str:
    return "tenant" if tenant_id == principal.tenant_id else "public"


def relation_needs_subject(principal: Principal) -> bool:
    """Whether a row's relation to this caller depends on whom the row is about.

    Staff and partners reach rows by tenant alone; a data subject by the
    person. The compiled path tags rows with what the check needs, no more.
    """
    return not _reaches_by_tenant(principal)


def _reaches_by_tenant(principal: Principal) -> bool:
    return principal.tenant_id is not None and principal.kind in (
        PrincipalKind.STAFF,
        PrincipalKind.PARTNER,
    )


def _row_relation(
    tenant_id: str | None,
    subject_id: str | None,
    principal: Principal,
    own_customer_ids: frozenset[str],
) -> str | None:
    if _reaches_by_tenant(principal):
        return "tenant" if tenant_id == principal.tenant_id else None
    return _owned(subject_id, principal, own_customer_ids)


def subject_of(row: Base) -> str | None:
    """The customer a personal row is about (None for rows about nobody)."""
    if isinstance(row, Customer):
        return row.id
    if isinstance(row, Vehicle):
        return row.owner_id
    if isinstance(row, Booking | Document):
        return row.customer_id
    return None
