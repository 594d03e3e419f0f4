"""The compiled read path answers exactly as the executor does.

Two apps over one database: one compiles reads to SQL, one leaves every read
to the executor. Many query shapes, every kind of caller and both denial
styles must give byte-for-byte the same JSON (data and errors), and partner
reads must be recorded alike. Further tests show that the covered shapes
really compile (one statement) and that uncovered ones fall back per root field.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import literal, select, update

from authz.decisions import Authorizer
from basics.ids import decode_id, encode_id
from basics.principal import Principal, PrincipalKind
from resolvers.compiled.access import Access
from resolvers.compiled.sqlgen import StatementBuilder
from store.models import Booking
from store.types import new_id
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import gql
from tests.two_apps import taken_partner_reads, two_apps

NODE = "id reference status startsAt endsAt priceOre channel createdAt customerNotes"
SHAPES: dict[str, tuple[str, dict[str, Any]]] = {
    "page with customer and vehicle": (
        "{ bookings(first: 100) { edges { node { id reference customer { name email } "
        "vehicle { registration } } } } }",
        {},
    ),
    "page with everything": (
        "query($n: Int, $after: String) { bookings(first: $n, after: $after) { totalCount "
        "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { "
        + NODE
        + " internalNotes customer { id name email phone street postalCode city createdVia "
        "restrictedAt restrictionReason objections createdAt updatedAt } vehicle { id "
        "registration vin make model firstRegistrationDate owner { name } } service { id name "
        "description durationMinutes priceOre capacityPerSlot active } documents(first: 2) { "
        "id kind title issuedAt mimeType sizeBytes sha256 retainUntil downloadUrl } } } } }",
        {"n": 3},
    ),
    "aliases, fragments and typenames": (
        "query { a: bookings(first: 2) { __typename edges { __typename node { __typename "
        "...B key: id c: customer { ...C } } } pageInfo { __typename e: endCursor } } "
        "b: customers(first: 2) { edges { node { ... on Customer { name } ... on Node { id } "
        "} } } } fragment B on Booking { reference startsAt } "
        "fragment C on Node { id ... on Customer { name } }",
        {},
    ),
    "customers with nested lists": (
        "{ customers(first: 10) { totalCount edges { cursor node { id name vehicles { "
        "registration bookings(first: 1) { reference } } bookings(first: 2) { reference "
        "documents { title } } documents { title kind } } } } }",
        {},
    ),
    "customer search": (
        "query($s: String) { customers(search: $s, first: 5) { edges { node { name email } } } }",
        {"s": "anna"},
    ),
    "vehicles and documents": (
        "{ vehicles(first: 5) { edges { node { registration vin owner { name } } } } "
        "documents(first: 5) { edges { node { title kind customer { name } booking { reference } } } } }",
        {},
    ),
    "documents by kind": (
        "query($k: DocumentKind) { documents(kind: $k, first: 5) { edges { node { title } } } }",
        {"k": "INVOICE"},
    ),
    "one booking": (
        "query($id: ID!) { booking(id: $id) { "
        + NODE
        + " customer { name } documents { title } } }",
        {"id": "booking"},
    ),
    "one booking that does not exist": (
        "query($id: ID!) { booking(id: $id) { reference } }",
        {"id": "QmxvY2tpbmc6MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA"},
    ),
    "one customer by a wrong kind of id": (
        "query($id: ID!) { customer(id: $id) { name } }",
        {"id": "booking"},
    ),
    "mixed with a field the compiler leaves alone": (
        "query($id: ID!) { viewer { kind } booking(id: $id) { reference tenant { name } } "
        "customers(first: 2) { edges { node { name } } } }",
        {"id": "booking"},
    ),
    "a bad page size and a bad cursor": (
        '{ bookings(first: -1) { edges { node { id } } } customers(first: 1, after: "x") '
        "{ edges { node { id } } } }",
        {},
    ),
    "page info without edge cursors": (
        "query($after: String) { bookings(first: 3, after: $after) { pageInfo { startCursor "
        "endCursor hasNextPage } edges { node { reference } } } }",
        {"after": "cursor"},
    ),
    "an empty page's cursors": (
        '{ customers(search: "no such name", first: 5) { pageInfo { startCursor endCursor } '
        "edges { cursor node { id } } } }",
        {},
    ),
    "second page": (
        "query($after: String) { bookings(first: 2, after: $after) { pageInfo { hasNextPage "
        "hasPreviousPage } edges { cursor node { reference } } } }",
        {"after": "cursor"},
    ),
}


@dataclass
class Apps:
    compiled: httpx.AsyncClient
    executor: httpx.AsyncClient


@pytest.fixture(scope="module")
async def apps(backend: Backend) -> AsyncIterator[Apps]:
    async with two_apps(backend) as both:
        yield Apps(both.compiled, both.executor)


def callers(world: World) -> dict[str, dict[str, str]]:
    """Headers of every kind of caller, in both denial styles where a header chooses it."""
    out: dict[str, dict[str, str]] = {"anonymous": {}}
    for role, token in world.a.tokens.items():
        out[role] = {"Authorization": f"Bearer {token}"}
        out[f"{role}, partial"] = {**out[role], "X-Denial-Style": "partial"}
    for role, key in world.a.api_keys.items():
        if role != "revoked":
            out[role] = {"Authorization": f"Bearer {key}"}
    for name, token in world.subject_tokens.items():
        out[f"subject {name}"] = {"Authorization": f"Bearer {token}"}
        out[f"subject {name}, partial"] = {**out[f"subject {name}"], "X-Denial-Style": "partial"}
    out["platform"] = {"Authorization": f"Bearer {world.platform_token}"}
    out["other tenant staff"] = {"Authorization": f"Bearer {world.b.tokens['staff']}"}
    return out


async def _cursor(apps: Apps, world: World) -> str:
    page = await gql(
        apps.executor,
        "{ bookings(first: 2) { pageInfo { endCursor } } }",
        token=world.a.tokens["staff"],
    )
    return str(page.ok()["bookings"]["pageInfo"]["endCursor"])


def _variables(given: dict[str, Any], world: World, cursor: str) -> dict[str, Any]:
    booking = next(iter(world.a.bookings.values()))
    replace = {"booking": booking, "cursor": cursor}
    return {k: replace.get(v, v) if isinstance(v, str) else v for k, v in given.items()}


async def _post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.status_code, response.json()


@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_both_paths_answer_alike_for_every_caller(
    apps: Apps, world: World, shape: str
) -> None:
    query, given = SHAPES[shape]
    variables = _variables(given, world, await _cursor(apps, world))
    for caller, headers in callers(world).items():
        compiled = await _post(apps.compiled, query, variables, headers)
        executor = await _post(apps.executor, query, variables, headers)
        assert json.dumps(compiled) == json.dumps(executor), (shape, caller)


async def test_the_page_of_bookings_is_one_statement(
    apps: Apps, world: World, count_statements: list[str]
) -> None:
    query, _ = SHAPES["page with customer and vehicle"]
    token = world.a.tokens["staff"]
    (await gql(apps.compiled, query, token=token)).ok()  # plan cached
    count_statements.clear()
    data = (await gql(apps.compiled, query, token=token)).ok()
    reads = [s for s in count_statements if "bookings" in s]
    assert len(reads) == 1 and "json" in reads[0].lower(), count_statements
    assert data["bookings"]["edges"]


async def test_an_uncovered_root_field_falls_back_alone(
    apps: Apps, world: World, count_statements: list[str]
) -> None:
    query, given = SHAPES["mixed with a field the compiler leaves alone"]
    token = world.a.tokens["staff"]
    variables = _variables(given, world, "")
    (await gql(apps.compiled, query, variables, token=token)).ok()
    count_statements.clear()
    (await gql(apps.compiled, query, variables, token=token)).ok()
    customers = [s for s in count_statements if "FROM customers" in s]
    # customers compiled: one statement that builds JSON; booking with tenant: the executor.
    assert len(customers) == 1 and "json" in customers[0].lower(), count_statements


async def test_partner_reads_are_recorded_alike(
    apps: Apps, world: World, backend: Backend, count_statements: list[str]
) -> None:
    """Which customer's fields a partner received: the same record from either path."""
    query = "{ bookings(first: 20) { edges { node { reference customer { name email } } } } }"
    key = world.a.api_keys["partner_accounting"]

    async def recorded() -> dict[str, list[str]]:
        return await taken_partner_reads(backend)

    await recorded()
    answers, records = [], []
    for http in (apps.executor, apps.compiled):
        count_statements.clear()
        answers.append(await _post(http, query, {}, {"Authorization": f"Bearer {key}"}))
        records.append(await recorded())
    compiled_reads = [s for s in count_statements if "FROM bookings" in s]
    assert len(compiled_reads) == 1 and "json" in compiled_reads[0].lower()
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert records[0] == records[1] and records[0]
    assert all("Customer.email" in fields for fields in records[0].values())


async def test_a_stored_value_that_spells_a_reach_tag_stays_a_value(
    apps: Apps, world: World, backend: Backend, count_statements: list[str]
) -> None:
    """Each object the database writes opens with a reach tag that Python checks and removes.

    A string value spelling such a tag (here one naming another tenant) is
    escaped inside its JSON string, so it is never taken for a tag: the
    compiled answer keeps it verbatim, exactly as the executor does.
    """
    booking_key = decode_id("id", world.a.bookings["anna-future"], "Booking")
    forged = '{"@r":[0,"' + world.b.id + '",null],"reference":"x"} {"@r" : [0, "a", null], '
    query = (
        "query($id: ID!) { booking(id: $id) { customerNotes reference customer { name } } "
        "bookings(first: 50) { edges { node { id customerNotes } } } }"
    )
    variables = {"id": world.a.bookings["anna-future"]}
    token = world.a.tokens["staff"]
    async with backend.engine.begin() as connection:
        old = (
            await connection.execute(
                select(Booking.customer_notes).where(Booking.id == booking_key)
            )
        ).scalar_one()
        await connection.execute(
            update(Booking).where(Booking.id == booking_key).values(customer_notes=forged)
        )
    try:
        count_statements.clear()
        compiled = (await gql(apps.compiled, query, variables, token=token)).ok()
        assert [s for s in count_statements if "json" in s.lower()], "not compiled"
        executor = (await gql(apps.executor, query, variables, token=token)).ok()
    finally:
        async with backend.engine.begin() as connection:
            await connection.execute(
                update(Booking).where(Booking.id == booking_key).values(customer_notes=old)
            )
    assert compiled == executor
    assert compiled["booking"]["customerNotes"] == forged
    notes = [edge["node"]["customerNotes"] for edge in compiled["bookings"]["edges"]]
    assert forged in notes


@pytest.mark.parametrize("type_name", ["Booking", "PrivacyRequest", "A" * 60])
async def test_the_database_writes_global_ids_as_encode_id_does(
    backend: Backend, type_name: str
) -> None:
    """Keys whose base64 holds ``+`` and ``/``, and ids long enough for the database's
    base64 to wrap its lines, come out as ``basics.ids.encode_id`` writes them."""
    staff = Principal(PrincipalKind.STAFF, "s", frozenset({"staff"}), tenant_id="t" * 32)
    access = Access(staff, Authorizer().decisions(staff.roles, staff.tenant_id), frozenset())
    builder = StatementBuilder(backend.name, access, lambda _field: 1)
    keys = ["~~~~>>>>????", "ÿþ" * 20, "0" * 32, "f" * 80, new_id()]
    async with backend.engine.connect() as connection:
        for key in keys:
            written = await connection.scalar(select(builder.global_id(type_name, literal(key))))
            assert written == encode_id(type_name, key), key


async def test_one_built_lookup_answers_each_id_with_its_own_row(
    apps: Apps, world: World, count_statements: list[str]
) -> None:
    """The lookup's statement is built once per caller and binds the id at execution:
    each id gets its own row, and another tenant's id finds nothing."""
    query = "query($id: ID!) { booking(id: $id) { id reference } }"
    token = world.a.tokens["staff"]
    own = list(world.a.bookings.values())[:3]
    for booking_id in own + own:
        count_statements.clear()
        data = (await gql(apps.compiled, query, {"id": booking_id}, token=token)).ok()
        assert data["booking"]["id"] == booking_id
        assert [s for s in count_statements if "json" in s.lower()], "not compiled"
    foreign = next(iter(world.b.bookings.values()))
    for client in (apps.compiled, apps.executor):
        result = await gql(client, query, {"id": foreign}, token=token)
        assert result.codes == ["NOT_FOUND"] and result.data == {"booking": None}
