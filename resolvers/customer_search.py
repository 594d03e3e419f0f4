"""What ``customers(search:)`` matches, and the index that finds those customers.

The match itself is unchanged: a case-insensitive substring of the name or
email, the digits of the phone, or a vehicle's plate, each only when the
caller may read that field. Those conditions alone mean reading a tenant's
customers in name order until a page is full, which grows with the data.

So a search by a member of the tenant (staff, its admins, its partners) of
at least ``INDEXED_LENGTH`` characters also narrows the customers to
candidates from the suffix tables (``store.search_index``, written by triggers):
for each field the caller may search, one range of the (tenant, part)
index, from the folded term to the term followed by the highest code
point. Every customer the conditions match is a candidate, and the
conditions still decide, so the rows, their order and the cursors are
exactly what the conditions alone give.

Where the parts match exactly what the conditions match (a term no longer
than a part, folded as the database folds it, and no partner's hidden
customers to leave out), ``page_ids`` goes further: the index rows carry the
customer's name, so the page's ids (after the cursor, in (name, id) order,
one more than the page) are cut from the index alone and only they are looked
up. A page then costs its candidates' index entries and its own rows, not a
lookup per candidate.

The candidates cost an index entry each, the scan about ``first / share``
rows for a term a given share of customers contains: the index wins for rare
terms, the scan for common ones ("sen" in most Danish surnames, a mail
domain). ``narrow`` counts the candidates up to ``MAX_CANDIDATES`` in one
bounded index range before the statement is built and keeps the index only
below that, so neither kind of term grows with the tenant. Shorter terms are
common by nature, and a data subject's own customers are already a handful by
the email index; both keep the plain conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)

from authz.decisions import Decisions
from authz.kernel import may_read
from authz.scope import partner_customer_filter, row_scope
from basics.principal import Principal, PrincipalKind, Relation
from resolvers import validation
from store.engine import SerialReader
from store.models import Customer, Vehicle
from store.search_index import (
    SEARCH_PART_LENGTH,
    CustomerSearchEmail,
    CustomerSearchName,
    CustomerSearchPhone,
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
    """The search's conditions (any one matches) and, when an index serves them, the candidates.

    ``ordered``, when set, is the candidates' (name, customer_id) and holds
    exactly the customers the conditions match in the caller's scope.
    """

    conditions: tuple[ColumnElement[bool], ...]
    candidates: CompoundSelect[Any] | None = None
    ordered: CompoundSelect[Any] | None = None


def customer_match(principal: Principal, decisions: Decisions, search: str) -> CustomerMatch:
    """The conditions of a customer search and the index candidates that cover them."""
    term = validation.text("search", search, max_length=MAX_SEARCH_LENGTH)
    pattern = like_pattern(term)
    lowered = term.lower()
    digits = "".join(ch for ch in term if ch.isdigit())
    conditions: list[ColumnElement[bool]] = []
    parts: list[Select[str, str]] = []
    tenant_id = principal.tenant_id if principal.is_tenant_member else None

    def may(type_name: str, field_name: str) -> bool:
        return may_search(principal, decisions, type_name, field_name)

    if may("Customer", "name"):
        conditions.append(Customer.name.ilike(pattern, escape="\\"))
        parts.append(_parts(CustomerSearchName, tenant_id, func.lower(literal(lowered))))
    if may("Customer", "email"):
        conditions.append(Customer.email.like(pattern, escape="\\"))
        parts.append(_parts(CustomerSearchEmail, tenant_id, literal(lowered)))
    if validation.looks_like_registration(term) and may("Vehicle", "registration"):
        # Owners of the plate in the caller's scope: an IN over the
        # (tenant, registration) index. A correlated EXISTS here became a
        # scan of every vehicle on PostgreSQL, growing with all tenants.
        plate = validation.registration("search", term)
        owners = select(Vehicle.owner_id).where(
            row_scope(Vehicle, principal), Vehicle.registration == plate
        )
        conditions.append(Customer.id.in_(owners))
        parts.append(
            select(Customer.name, Customer.id).where(
                Customer.tenant_id == tenant_id, Customer.id.in_(owners)
            )
        )
    if len(digits) >= MIN_PHONE_DIGITS and may("Customer", "phone"):
        conditions.append(Customer.phone.like(f"%{digits}%"))
        parts.append(_parts(CustomerSearchPhone, tenant_id, literal(digits)))
    if tenant_id is None or len(term) < INDEXED_LENGTH or not parts:
        return CustomerMatch(tuple(conditions))
    candidates = union_all(*(select(p.subquery().c[1]) for p in parts))
    # Exact: a part holds as many characters as the folded term (a letter
    # whose lower case is longer, as Turkish dotted I, could overflow it),
    # and no hidden customers of a partner sit among the candidates.
    exact = len(lowered) == len(term) <= SEARCH_PART_LENGTH
    exact = exact and partner_customer_filter(principal) is None
    return CustomerMatch(tuple(conditions), candidates, union(*parts) if exact else None)


async def narrow(session: SerialReader, match: CustomerMatch) -> CustomerMatch:
    """``match`` with its candidates when there are at most ``MAX_CANDIDATES``, else without.

    Either way the answer is the same; this only picks the cheaper way to it.
    """
    if match.candidates is None:
        return match
    found = match.candidates.subquery()
    bounded = select(found.c[0]).limit(MAX_CANDIDATES + 1).subquery()
    count = (await session.execute(select(func.count()).select_from(bounded))).scalar_one()
    return match if count <= MAX_CANDIDATES else CustomerMatch(match.conditions)


def page_ids(match: CustomerMatch, first: int, after: tuple[str, str] | None) -> Select[Any] | None:
    """The ids of a page's rows and one more, cut from the index alone; None when it can't.

    ``after`` is the cursor's (name, id). The same order and the same keyset
    condition as ``resolvers.pagination``, on the candidates' own columns.
    """
    if match.ordered is None:
        return None
    rows = match.ordered.subquery()
    name, key = rows.c[0], rows.c[1]
    statement = select(key)
    if after is not None:
        statement = statement.where(or_(name > after[0], and_(name == after[0], key > after[1])))
    return statement.order_by(name, key).limit(first + 1)


def like_pattern(term: str) -> str:
    """``%term%`` for LIKE with ``\\`` as escape: wildcards in the term are plain text."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _parts(table: SearchTable, tenant_id: str | None, term: ColumnElement[str]) -> Select[str, str]:
    """(name, id) of the tenant's customers with a suffix of the field that starts with ``term``.

    ``term`` is folded as the stored parts are (the name by the database's
    own lower(), as ILIKE folds it).
    """
    prefix = func.substr(term, 1, SEARCH_PART_LENGTH)
    return select(table.name, table.customer_id).where(
        table.tenant_id == tenant_id,
        table.part >= prefix,
        table.part <= prefix.concat(HIGHEST),
    )


def may_search(principal: Principal, decisions: Decisions, type_name: str, field_name: str) -> bool:
    """Whether the caller may read the field on the rows a search returns."""
    relation = Relation.SELF if principal.kind is PrincipalKind.SUBJECT else Relation.TENANT
    return may_read(decisions, type_name, field_name, relation)
