"""The customer search index: the same answers as the plain scan, kept in step with the data.

``customers(search:)`` narrows its conditions by the suffix tables
(``resolvers.customer_search``). These tests hold the index to the scan it
replaces, term by term, on both backends: wildcards and backslashes as text,
case, non-ASCII letters, terms shorter and longer than a stored part, phone
digits, pages and cursors, and another tenant's customers. They check that the
triggers keep the tables in step through creation, rectification, a plain SQL
update and erasure, and that erased values leave no piece behind on disk.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import false, or_, select, text, update

from authz.decisions import Authorizer
from authz.scope import row_scope
from basics.ids import encode_id
from basics.principal import Principal, PrincipalKind
from resolvers import customer_search
from resolvers.customer_search import customer_match, page_ids
from store.candidates import AmongCandidates
from store.engine import create_sessionmaker
from store.models import CreatedVia, Customer
from store.search_index import (
    SEARCH_PART_LENGTH,
    CustomerSearchEmail,
    CustomerSearchName,
    CustomerSearchPhone,
)
from store.types import new_id
from tests.conftest import Backend
from tests.graphql_client import gql
from tests.test_erasure import (
    FileDatabase,
    Person,
    Shop,
    _erase,
    add_person,
    erase_and_flush,
    open_shop,
)
from tests.test_erasure import file_database as file_database_fixture

file_database = file_database_fixture  # the fixture, used here as well

PEOPLE = [
    ("Anna Ågesen", "anna.aagesen@example.dk", "+4520000012"),
    ("ANNA BERG", "Anna.Berg@Example.DK", "+4520000013"),
    ("Bo 100% Olsen", "bo100@example.dk", None),
    ("Carl_Under Score", None, "+4530001200"),
    ("Dora Back\\slash", "dora\\b@example.dk", None),
    ("Eva Kjeldsen", "eva.k@example.dk", "+4540404040"),
    ("Kjeld Kjeldsen", "kk@kjeldsen.dk", None),
    ("Øjvind Ødegaard", "oe@example.dk", None),
    ("Søren Sørensen", "soren@example.dk", "+4512345678"),
    ("Zoë Ångström-Lindqvist", "zoe.angstrom.lindqvist@example.se", None),
]
TERMS = [
    "a",
    "an",
    "ANNA",
    "nna",
    "anna berg",
    "%",
    "0%",
    "100% o",
    "_",
    "l_u",
    "\\",
    "k\\s",
    "back\\slash",
    "sen",
    "Kjeldsen",
    "KJELD",
    "ågesen",
    "ÅGESEN",
    "ødegaard",
    "Øjvind",
    "sørensen",
    "ångström-lindqvist",
    "zoe.angstrom.lindqvist@example.se",
    "example",
    "@example.dk",
    "xyz",
    "200000",
    "+4520",
    "4040 4040",
    "1200",
    "AL 12345",
]
ROLES = ("staff", "tenant_admin", "inspector", "partner_accounting", "partner_reminders")
# A query per strategy, so neither reuses the statement the other's plan cached.
MATCH = "query Search_{}($s: String, $n: Int, $a: String) {{ customers(search: $s, first: $n, "
MATCH += "after: $a) {{ edges {{ node {{ id }} }} pageInfo {{ hasNextPage endCursor }} }} }}"


async def _shop_with_people(backend: Backend, label: str) -> tuple[Shop, dict[str, str]]:
    shop = await open_shop(backend.engine, backend.settings, label)
    ids: dict[str, str] = {}
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        for name, email, phone in PEOPLE:
            ids[name] = new_id()
            session.add(
                Customer(
                    id=ids[name],
                    tenant_id=shop.id,
                    name=name,
                    email=email,
                    phone=phone,
                    created_via=CreatedVia.PHONE,
                )
            )
    return shop, ids


@pytest.fixture(scope="module")
async def shops(
    backend: Backend,
) -> tuple[tuple[Shop, dict[str, str]], tuple[Shop, dict[str, str]]]:
    """Two businesses with the same people, so a search can only be scoped by tenant."""
    return (
        await _shop_with_people(backend, "search-a"),
        await _shop_with_people(backend, "search-b"),
    )


def _principal(shop: Shop, role: str) -> Principal:
    return Principal(
        kind=PrincipalKind.STAFF,
        subject=f"{role}@{shop.slug}",
        tenant_id=shop.id,
        roles=frozenset({role}),
    )


async def _ids(backend: Backend, statement: Any) -> list[str]:
    async with backend.engine.connect() as connection:
        return list((await connection.execute(statement)).scalars().all())


async def _scan_and_index(
    backend: Backend, shop: Shop, role: str, term: str
) -> tuple[list[str], list[str]]:
    """The customers the plain conditions find, and those the index path finds, in page order.

    Where the index claims to name the matches exactly (``ordered``), it must,
    and a page cut from it alone must be the scan's first rows.
    """
    principal = _principal(shop, role)
    decisions = Authorizer().decisions(principal.roles, shop.id)
    match = customer_match(principal, decisions, term)
    scan = (
        select(Customer.id)
        .where(row_scope(Customer, principal), or_(false(), *match.conditions))
        .order_by(Customer.name, Customer.id)
    )
    scanned = await _ids(backend, scan)
    if match.candidates is None:
        return scanned, scanned
    if match.ordered is not None:
        exact = await _ids(backend, select(match.ordered.subquery().c[1]))
        assert sorted(exact) == sorted(scanned), (role, term)
        for first in (1, 2, len(scanned) + 1):
            ids = page_ids(match, first, None)
            assert ids is not None
            page = await _ids(backend, scan.where(AmongCandidates(Customer.id, ids)))
            assert page == scanned[: first + 1], (role, term, first)
    indexed = scan.where(AmongCandidates(Customer.id, match.candidates))
    return scanned, await _ids(backend, indexed)


@pytest.mark.parametrize("role", ROLES)
async def test_the_index_finds_what_the_scan_finds(backend: Backend, shops: Any, role: str) -> None:
    (shop, ids), (_other, other_ids) = shops
    everyone = set(ids.values())
    for term in TERMS:
        scanned, indexed = await _scan_and_index(backend, shop, role, term)
        assert indexed == scanned, (role, term)
        assert set(indexed) <= everyone, (role, term)  # never another tenant's
    # The terms do find people: the comparison is not between two empty lists,
    # and the index does name them exactly for the usual terms.
    scanned, _ = await _scan_and_index(backend, shop, "staff", "Kjeldsen")
    assert scanned == [ids["Eva Kjeldsen"], ids["Kjeld Kjeldsen"]]
    principal = _principal(shop, "staff")
    match = customer_match(principal, Authorizer().decisions(principal.roles, shop.id), "Kjeldsen")
    assert match.ordered is not None
    assert not set(scanned) & set(other_ids.values())


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("%", ["Bo 100% Olsen"]),
        ("_", ["Carl_Under Score"]),
        ("\\", ["Dora Back\\slash"]),
        ("kjeldsen", ["Eva Kjeldsen", "Kjeld Kjeldsen"]),
        ("KjElD", ["Eva Kjeldsen", "Kjeld Kjeldsen"]),
        ("anna", ["ANNA BERG", "Anna Ågesen"]),
        ("4040", ["Eva Kjeldsen"]),
        ("ngström-lindqvist", ["Zoë Ångström-Lindqvist"]),
    ],
)
async def test_search_matches_literally_and_ignores_case(
    backend: Backend, shops: Any, term: str, expected: list[str]
) -> None:
    (shop, ids), _ = shops
    scanned, indexed = await _scan_and_index(backend, shop, "staff", term)
    assert sorted(indexed) == sorted(ids[name] for name in expected)
    assert indexed == scanned
    # Case of letters beyond ASCII follows each database's own rules, as it did
    # before the index (SQLite's lower() and LIKE fold ASCII only); the index
    # agrees with the scan either way (TERMS has "ÅGESEN" and "Øjvind").


def _limit_candidates(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(customer_search, "MAX_CANDIDATES", limit)


@pytest.fixture(params=["index", "scan"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The service both with the index and, with a candidate limit of 0, without it."""
    _limit_candidates(monkeypatch, 10_000 if request.param == "index" else 0)
    yield request.param


async def _pages(
    client: httpx.AsyncClient, token: str, term: str, size: int, strategy: str = "index"
) -> list[str]:
    found: list[str] = []
    after: str | None = None
    query = MATCH.format(strategy)
    while True:
        page = await gql(client, query, {"s": term, "n": size, "a": after}, token=token)
        data = page.ok()["customers"]
        found += [edge["node"]["id"] for edge in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            return found
        after = data["pageInfo"]["endCursor"]


@pytest.mark.parametrize(
    "term", ["Kjeldsen", "sen", "example", "an", "_", "anna.aagesen@example.dk"]
)
async def test_pages_and_cursors_are_the_scans(
    client: httpx.AsyncClient, backend: Backend, shops: Any, strategy: str, term: str
) -> None:
    (shop, _ids_by_name), _ = shops
    scanned, _ = await _scan_and_index(backend, shop, "staff", term)
    expected = [encode_id("Customer", key) for key in scanned]
    assert await _pages(client, shop.tokens["staff"], term, 2, strategy) == expected
    assert await _pages(client, shop.tokens["staff"], term, 20, strategy) == expected


async def _parts(backend: Backend, customer_id: str) -> dict[str, set[str]]:
    found = {}
    for field, table in (
        ("name", CustomerSearchName),
        ("email", CustomerSearchEmail),
        ("phone", CustomerSearchPhone),
    ):
        statement = select(table.part).where(table.customer_id == customer_id)
        async with backend.engine.connect() as connection:
            found[field] = set((await connection.execute(statement)).scalars().all())
    return found


def _expected(value: str | None) -> set[str]:
    """The parts of an ASCII value, as the triggers cut them."""
    lowered = (value or "").lower()
    return {lowered[i : i + SEARCH_PART_LENGTH] for i in range(len(lowered))}


async def test_parts_follow_rectification_any_update_and_erasure(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    shop = await open_shop(backend.engine, backend.settings, "search-step")
    person = await add_person(backend.engine, backend.settings, shop)
    assert await _parts(backend, person.customer) == {
        "name": _expected(person.name),
        "email": _expected(person.email),
        "phone": _expected(person.phone),
    }
    tag = uuid.uuid4().hex[:8]
    new = {"name": f"Rita Rettet-{tag}", "email": f"rita.{tag}@example.dk", "phone": "+4588776655"}
    rectify = """mutation($id: ID!, $input: RectifyCustomerInput!) {
      rectifyCustomer(id: $id, input: $input) { changedFields } }"""
    done = await gql(
        client, rectify, {"id": person.gid, "input": new}, token=shop.tokens["tenant_admin"]
    )
    assert sorted(done.ok()["rectifyCustomer"]["changedFields"]) == ["email", "name", "phone"]
    assert await _parts(backend, person.customer) == {k: _expected(v) for k, v in new.items()}
    staff = shop.tokens["staff"]
    assert await _pages(client, staff, person.name, 20) == []
    assert await _pages(client, staff, f"Rettet-{tag}", 20) == [person.gid]

    # Any write, not only the service's own: a plain UPDATE keeps the index too.
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        await session.execute(
            update(Customer).where(Customer.id == person.customer).values(phone=None, name="X Y")
        )
    assert await _parts(backend, person.customer) == {
        "name": _expected("X Y"),
        "email": _expected(new["email"]),
        "phone": set(),
    }
    await _erase(client, person)
    assert await _parts(backend, person.customer) == {"name": set(), "email": set(), "phone": set()}
    assert await _pages(client, staff, f"rita.{tag}", 20) == []


async def test_every_backend_has_the_triggers_at_head(backend: Backend) -> None:
    """A migration that rebuilds ``customers`` (SQLite batch mode) drops them; this notices."""
    if backend.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'customers'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND NOT tgisinternal"
    async with backend.engine.connect() as connection:
        names = set((await connection.execute(text(query))).scalars().all())
    expected = {"customer_search_insert", "customer_search_update"}
    if backend.name == "sqlite":
        expected.add("customer_search_delete")  # PostgreSQL's foreign key always cascades
    assert names == expected


async def test_erased_parts_are_gone_from_the_database_files(file_database: FileDatabase) -> None:
    db = file_database
    shop = await open_shop(db.engine, db.settings, "search-bytes")
    person: Person = await add_person(db.engine, db.settings, shop)
    tag = person.email.split(".")[1].split("@")[0][:6]
    # The parts that could only be this person's: those with the tag in them.
    pieces = {
        part
        for value in (person.name, person.email)
        for part in _expected(value)
        if tag[:4] in part and len(part) >= 8
    } | {part for part in _expected(person.phone) if len(part) >= 8}
    assert pieces
    before = b"".join(
        path.read_bytes() for path in db.path.parent.glob(f"{db.path.name}*") if path.is_file()
    )
    assert any(p.encode() in before for p in pieces), "the parts must be on disk before erasure"

    await erase_and_flush(db, person)
    after = b"".join(
        path.read_bytes() for path in db.path.parent.glob(f"{db.path.name}*") if path.is_file()
    )
    assert [p for p in pieces if p.encode() in after] == []
