"""What ``customers(search:)`` matches, and the index that finds those customers.

The match itself is unchanged: a case-insensitive substring of the name or
email, the digits of the phone, or a vehicle's plate, each only when the
caller may read that field. Those conditions alone mean reading a tenant's
customers in name order until a page is full, which grows with the data.

So a staff search of at least ``INDEXED_LENGTH`` characters also narrows the
customers to candidates from the suffix tables (``store.models``, written by
triggers): for each field the caller may search, one range of the
(tenant, part) index, from lower(term) to lower(term) followed by the highest
code point. Every customer the conditions match is a candidate, and the
conditions still decide, so the rows, their order and the cursors are exactly
what the conditions alone give.

The candidates cost one row each, the scan about ``first / share`` rows for
a term a given share of customers contains: the index wins for rare terms,
the scan for common ones ("sen" in most Danish surnames, a mail domain).
``narrow`` counts the candidates up to ``MAX_CANDIDATES`` in one bounded
index range before the statement is built and keeps the index only below
that, so neither kind of term grows with the tenant: a rare one reads its
few candidates, a common one fills its page within the first rows of the
scan. Shorter terms are common by nature, and a data subject's own customers
are already a handful by the email index; both keep the plain conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, func, literal, select, union_all

from authz.decisions import Decisions
from authz.kernel import may_read
from authz.scope import row_scope
from basics.principal import Principal, PrincipalKind, Relation
from resolvers import validation
from store.engine import SerialReader
from store.models import (
    SEARCH_PART_LENGTH,
    Customer,
    CustomerSearchEmail,
    CustomerSearchName,
    CustomerSearchPhone,
    Vehicle,
)

MAX_SEARCH_LENGTH = 100
INDEXED_LENGTH = 3
MAX_CANDIDATES = 400
MIN_PHONE_DIGITS = 4
# Above every code point a stored part can hold, so ``prefix + HIGHEST`` bounds
# every part that starts with the prefix, bytewise in both databases.
HIGHEST = "\U0010ffff" * SEARCH_PART_LENGTH

SearchTable = type[CustomerSearchName] | type[CustomerSearchEmail] | type[CustomerSearchPhone]


@dataclass(frozen=True)
class CustomerMatch:
    """The search's conditions (any one matches) and, when an index serves them, the candidates."""

    conditions: tuple[ColumnElement[bool], ...]
    candidates: CompoundSelect[Any] | None


def customer_match(principal: Principal, decisions: Decisions, search: str) -> CustomerMatch:
    """The conditions of a customer search and the index candidates that cover them."""
    term = validation.text("search", search, max_length=MAX_SEARCH_LENGTH)
    pattern = like_pattern(term)
    digits = "".join(ch for ch in term if ch.isdigit())
    conditions: list[ColumnElement[bool]] = []
    candidates: list[Select[Any]] = []
    tenant_id = principal.tenant_id if principal.is_tenant_member else None

    def may(type_name: str, field_name: str) -> bool:
        return may_search(principal, decisions, type_name, field_name)

    if may("Customer", "name"):
        conditions.append(Customer.name.ilike(pattern, escape="\\"))
        candidates.append(_parts(CustomerSearchName, tenant_id, term.lower()))
    if may("Customer", "email"):
        conditions.append(Customer.email.like(pattern, escape="\\"))
        candidates.append(_parts(CustomerSearchEmail, tenant_id, term.lower()))
    if validation.looks_like_registration(term) and may("Vehicle", "registration"):
        # Owners of the plate in the caller's scope: an IN over the
        # (tenant, registration) index. A correlated EXISTS here became a
        # scan of every vehicle on PostgreSQL, growing with all tenants.
        plate = validation.registration("search", term)
        owners = select(Vehicle.owner_id).where(
            row_scope(Vehicle, principal), Vehicle.registration == plate
        )
        conditions.append(Customer.id.in_(owners))
        candidates.append(owners)
    if len(digits) >= MIN_PHONE_DIGITS and may("Customer", "phone"):
        conditions.append(Customer.phone.like(f"%{digits}%"))
        candidates.append(_parts(CustomerSearchPhone, tenant_id, digits))
    indexed = tenant_id is not None and len(term) >= INDEXED_LENGTH and bool(candidates)
    return CustomerMatch(tuple(conditions), union_all(*candidates) if indexed else None)


async def narrow(session: SerialReader, match: CustomerMatch) -> CustomerMatch:
    """``match`` with its candidates when there are at most ``MAX_CANDIDATES``, else without.

    Either way the answer is the same; this only picks the cheaper way to it.
    """
    if match.candidates is None:
        return match
    found = match.candidates.subquery()
    bounded = select(found.c[0]).limit(MAX_CANDIDATES + 1).subquery()
    count = (await session.execute(select(func.count()).select_from(bounded))).scalar_one()
    return match if count <= MAX_CANDIDATES else CustomerMatch(match.conditions, None)


def like_pattern(term: str) -> str:
    """``%term%`` for LIKE with ``\\`` as escape: wildcards in the term are plain text."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _parts(table: SearchTable, tenant_id: str | None, text: str) -> Select[Any]:
    """Customers of the tenant with a suffix of the field that starts with ``text``.

    The prefix is lower-cased by the database, as the stored parts and ILIKE are.
    """
    prefix = func.substr(func.lower(literal(text)), 1, SEARCH_PART_LENGTH)
    return select(table.customer_id).where(
        table.tenant_id == tenant_id,
        table.part >= prefix,
        table.part <= prefix.concat(HIGHEST),
    )


def may_search(principal: Principal, decisions: Decisions, type_name: str, field_name: str) -> bool:
    """Whether the caller may read the field on the rows a search returns."""
    relation = Relation.SELF if principal.kind is PrincipalKind.SUBJECT else Relation.TENANT
    return may_read(decisions, type_name, field_name, relation)
