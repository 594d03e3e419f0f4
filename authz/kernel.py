"""The authorization kernel: the one API every door of the service asks.

GraphQL reads and writes, the download route, exports, search and
introspection all decide through these functions, so two doors to the same
data cannot disagree:

* ``may_select``: the static decision for one field or input field an
  operation selects (before any resolver runs);
* ``may_read``: the decision for one field of one row, given the row's
  relation to the caller (the field guard and the download route);
* ``require``: the re-check a resolver makes where the work happens, which
  also hands back who the caller is (its tenant, email or API key);
* ``reach`` / ``owned_by``: the rows within the caller's reach, as SQL (row
  rules from the policy files included); ``row_in_reach``: the one lookup of a
  write's target row;
* ``may_introspect``: whether a caller may ask for ``__schema`` / ``__type``.

``__typename`` is answerable by everyone, everywhere (the GraphQL spec's meta
field names no data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select

from authz.decisions import READ, WRITE, Decisions
from authz.relations import possible_relations, relation_by_keys, relation_of, subject_of
from authz.row_rules import RowRules, row_rules
from authz.scope import owned_by, row_scope, service_scope, subject_customer_ids
from basics.errors import Forbidden, NotFound
from basics.principal import ROOT_RELATION, Principal, PrincipalKind
from store.models import Base

ROOT_TYPES = frozenset({"Query", "Mutation"})
TYPENAME = "__typename"
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
# Introspection settings: "principal" lets authenticated callers introspect in production.
INTROSPECTION_PER_PRINCIPAL = "principal"

reach = row_scope


def is_meta(field_name: str) -> bool:
    return field_name.startswith("__")


def may_introspect(principal: Principal, *, production: bool, introspection: str) -> bool:
    """Development: everyone, anonymous included. Production: only when turned on, signed in."""
    if not production:
        return True
    return introspection == INTROSPECTION_PER_PRINCIPAL and principal.kind is not (
        PrincipalKind.ANONYMOUS
    )


def may_select(
    principal: Principal,
    decisions: Decisions,
    coordinate: str,
    action: str,
    type_name: str,
    *,
    introspection: bool = False,
) -> bool:
    """The static decision: may some row this caller can reach show (or take) this field?

    ``introspection`` is the caller's ``may_introspect`` answer, for ``__schema``
    and ``__type``; ``__typename`` is always allowed.
    """
    if ".__" in coordinate:
        return coordinate.endswith(f".{TYPENAME}") or introspection
    if action == WRITE or type_name in ROOT_TYPES:
        return decisions.allows(coordinate, action, ROOT_RELATION)
    return decisions.allows_any(coordinate, action, possible_relations(principal, type_name))


def may_read(decisions: Decisions, type_name: str, field_name: str, relation: str) -> bool:
    """The decision for one field of a row that relates to the caller by ``relation``."""
    return decisions.allows_field(type_name, field_name, relation)


def row_relation(row: Base, principal: Principal, own_customer_ids: frozenset[str]) -> str | None:
    """How a loaded row relates to the caller (``None``: it should not be here at all)."""
    return relation_of(row, principal, own_customer_ids)


def row_relation_by_keys(
    type_name: str,
    tenant_id: str | None,
    subject_id: str | None,
    principal: Principal,
    own_customer_ids: frozenset[str],
) -> str | None:
    """``row_relation`` for a row the database described by its keys, not loaded."""
    return relation_by_keys(type_name, tenant_id, subject_id, principal, own_customer_ids)


def rules_of(principal: Principal) -> RowRules:
    """Document kinds, retained rows and purposes the caller's roles hold."""
    relation = "self" if principal.kind is PrincipalKind.SUBJECT else "tenant"
    return row_rules(principal.roles, relation)


# Fields of a person's rows that carry nothing about the person.
_NOT_PERSONAL_FIELDS = frozenset({"id", "tenant", "service"})


def note_partner_read(
    reads: dict[str, set[str]], row: Base, coordinate: str, field_name: str
) -> None:
    """Remember which personal field of which customer a partner is being sent.

    Every door that hands a partner a field of a person's row notes it here;
    the request records the notes once it has answered.
    """
    if field_name in _NOT_PERSONAL_FIELDS:
        return
    customer_id = subject_of(row)
    if customer_id is not None:
        reads.setdefault(customer_id, set()).add(coordinate)


@dataclass(frozen=True)
class Caller:
    """Who passed a ``require`` check; the field its kind guarantees is never empty."""

    principal: Principal
    tenant_id: str = ""
    email: str = ""
    api_key_id: str = ""


_KIND_NEEDS = {
    PrincipalKind.STAFF: "tenant",
    PrincipalKind.PARTNER: "api key",
    PrincipalKind.SUBJECT: "email",
}


def require(
    principal: Principal,
    decisions: Decisions,
    coordinate: str,
    *,
    kind: PrincipalKind | None = None,
) -> Caller:
    """The root-field decision again, where the work happens; ``FORBIDDEN`` otherwise.

    ``coordinate`` is ``Query.<field>`` or ``Mutation.<field>``. ``kind`` names
    the one kind of principal the operation serves (a staff write, a subject's
    portal, a partner key's notices); the returned ``Caller`` then carries its
    tenant, email or API key.
    """
    type_name, _, field_name = coordinate.partition(".")
    action = WRITE if type_name == "Mutation" else READ
    caller = Caller(
        principal,
        tenant_id=principal.tenant_id or "",
        email=principal.email or "",
        api_key_id=principal.api_key_id or "",
    )
    fits = kind is None or (
        principal.kind is kind
        and {
            "tenant": caller.tenant_id,
            "api key": caller.api_key_id and caller.tenant_id,
            "email": caller.email,
        }[_KIND_NEEDS[kind]]
    )
    if not fits or not decisions.allows(coordinate, action, ROOT_RELATION):
        verb = "run" if action == WRITE else "read"
        raise Forbidden(f"not allowed to {verb} {field_name}", path=[field_name])
    return caller


M = TypeVar("M", bound=Base)


async def row_in_reach(
    session: Any,
    model: type[M],
    key: str,
    tenant_id: str,
    *,
    field: str = "id",
    lock: bool = False,
) -> M:
    """The one lookup every write makes: a row of the writer's tenant, or ``NOT_FOUND``.

    ``tenant_id`` is the one ``require`` handed back; the predicate is
    ``owned_by``, the tenant part of the read scope, so a write finds exactly
    the rows a read of the same caller would, and another tenant's row looks
    like one that does not exist. ``lock`` takes the row for update.
    """
    column: Any = model.id  # type: ignore[attr-defined]
    statement = select(model).where(column == key, owned_by(model, tenant_id))
    if lock:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{model.__name__} not found", field=field)
    return row  # type: ignore[no-any-return]


def require_writer(principal: Principal, decisions: Decisions, mutation: str) -> str:
    """A staff write: the caller's tenant id, if its roles may run ``mutation``."""
    return require(principal, decisions, f"Mutation.{mutation}", kind=PrincipalKind.STAFF).tenant_id


__all__ = [
    "Caller",
    "may_introspect",
    "may_read",
    "may_select",
    "note_partner_read",
    "owned_by",
    "reach",
    "require",
    "require_writer",
    "row_in_reach",
    "row_relation",
    "rules_of",
    "service_scope",
    "subject_customer_ids",
]
