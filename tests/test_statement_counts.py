"""No N+1: nested paths run a fixed number of SQL statements, whatever the page size.

The relation paths are read from the schema itself: every field of a row type
whose type is an object or a list of objects. A new relation is therefore
covered the moment it is added, and one that costs a query per row fails here.
"""

from __future__ import annotations

import httpx
import pytest
from graphql import GraphQLObjectType, get_named_type

from schema.build import build_schema
from server.app import create_app
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import gql
from tests.privacy_world import PrivacyWorld, build_privacy_world

NESTED_PATHS = {
    "bookings": "bookings(first: $n) { edges { node { id customer { name } vehicle { registration } "
    "service { name } tenant { slug } documents { kind title } } } }",
    "customers": "customers(first: $n) { edges { node { id vehicles { id bookings { id } } "
    "bookings { id documents { id } } documents { id booking { id } customer { id } } tenant { slug } } } }",
    "vehicles": "vehicles(first: $n) { edges { node { id owner { name } bookings { id service { name } } } } }",
    "documents": "documents(first: $n) { edges { node { id content booking { id } customer { id } tenant { slug } } } }",
}

# How a list of many rows of each type is reached from the root, as a staff member.
ROW_LISTS = {
    "Booking": "bookings(first: $n) { edges { node { id %s } } }",
    "Customer": "customers(first: $n) { edges { node { id %s } } }",
    "Vehicle": "vehicles(first: $n) { edges { node { id %s } } }",
    "Document": "documents(first: $n) { edges { node { id %s } } }",
    # Every booking names a tenant and a service: n bookings, n parents to resolve.
    "Tenant": "bookings(first: $n) { edges { node { id tenant { id %s } } } }",
    "Service": "bookings(first: $n) { edges { node { id service { id %s } } } }",
}
# Paths every version of the schema must offer; guards the derivation below.
KNOWN_PATHS = {
    "Tenant.services",
    "Service.bookings",
    "Service.tenant",
    "Customer.vehicles",
    "Customer.bookings",
    "Customer.documents",
    "Customer.tenant",
    "Vehicle.owner",
    "Vehicle.bookings",
    "Booking.customer",
    "Booking.vehicle",
    "Booking.service",
    "Booking.documents",
    "Document.booking",
    "Document.customer",
}


def relation_paths() -> list[tuple[str, str, str]]:
    """``(type, field, selection)`` for every object-valued field of the row types."""
    from basics.settings import Settings

    schema = build_schema(Settings(secret_key="x" * 48))._schema
    paths = []
    for type_name in ROW_LISTS:
        graphql_type = schema.get_type(type_name)
        assert isinstance(graphql_type, GraphQLObjectType)
        for field_name, field in graphql_type.fields.items():
            target = get_named_type(field.type)
            if isinstance(target, GraphQLObjectType):
                inner = "id" if "id" in target.fields else "__typename"
                paths.append((type_name, field_name, f"{field_name} {{ {inner} }}"))
    return paths


RELATION_PATHS = relation_paths()


def _reads(statements: list[str]) -> list[str]:
    """Data reads; the periodic policy-version check (at most one per half second) is not one."""
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith(("SELECT", "WITH"))
        and "policy_state" not in s
        and "casbin_rule" not in s
    ]


def _rows(data: object) -> int:
    """Parent rows in the answer: the edges of its one connection."""
    assert isinstance(data, dict)
    (connection,) = data.values()
    return len(connection["edges"])


async def _counts(
    client: httpx.AsyncClient,
    statements: list[str],
    query: str,
    token: str,
    sizes: tuple[int, ...] = (1, 2, 100),
) -> tuple[list[int], list[object]]:
    counts, answers = [], []
    for size in sizes:
        statements.clear()
        answers.append((await gql(client, query, {"n": size}, token=token)).ok())
        counts.append(len(_reads(statements)))
    return counts, answers


def test_the_schema_derivation_finds_every_known_relation() -> None:
    found = {f"{t}.{f}" for t, f, _ in RELATION_PATHS}
    assert found >= KNOWN_PATHS, KNOWN_PATHS - found


@pytest.mark.parametrize(
    ("type_name", "field_name", "selection"),
    RELATION_PATHS,
    ids=[f"{t}.{f}" for t, f, _ in RELATION_PATHS],
)
async def test_every_relation_costs_the_same_for_1_2_and_100_parents(
    client: httpx.AsyncClient,
    world: World,
    count_statements: list[str],
    type_name: str,
    field_name: str,
    selection: str,
) -> None:
    query = "query($n: Int) { " + ROW_LISTS[type_name] % selection + " }"
    counts, answers = await _counts(client, count_statements, query, world.a.tokens["tenant_admin"])
    assert _rows(answers[-1]) >= 2, "too few rows to tell one query per row from one per level"
    assert counts[0] == counts[1] == counts[2], counts


@pytest.mark.parametrize("path", sorted(NESTED_PATHS))
async def test_statement_count_does_not_grow_with_page_size(
    client: httpx.AsyncClient, world: World, count_statements: list[str], path: str
) -> None:
    query = f"query($n: Int) {{ {NESTED_PATHS[path]} }}"
    counts, answers = await _counts(client, count_statements, query, world.a.tokens["tenant_admin"])
    assert _rows(answers[-1]) >= 2
    assert counts[0] == counts[1] == counts[2], counts


async def test_bookings_100_runs_as_many_statements_as_10(
    client: httpx.AsyncClient, backend: Backend, world: World, count_statements: list[str]
) -> None:
    query = "query($n: Int) { bookings(first: $n) { edges { node { customer { name } vehicle { vin } documents { id } } } } }"
    executor_only = backend.settings.model_copy(update={"compiled_reads": "off"})
    app = create_app(executor_only, engine=backend.engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as executor:
        counts, _ = await _counts(
            executor, count_statements, query, world.a.tokens["staff"], sizes=(10, 100)
        )
    # One page query, then one batched query each for customer, vehicle and documents.
    assert counts == [4, 4]
    # Compiled, the whole answer is one statement (in the compare mode the
    # executor answers too, with its four).
    counts, _ = await _counts(
        client, count_statements, query, world.a.tokens["staff"], sizes=(10, 100)
    )
    assert counts == ([5, 5] if backend.settings.compiled_reads == "compare" else [1, 1])


# --- a data subject's view ----------------------------------------------------------

MY_DATA = """query($n: Int, $slug: String) { myData(tenantSlug: $slug) { email controllers {
  tenant { id name services { id bookings(first: $n) { id } } }
  source
  customer { id tenant { id }
    vehicles(first: $n) { id owner { id } tenant { id } bookings(first: $n) { id service { id } } }
    bookings(first: $n) { id tenant { id } customer { id } vehicle { id } service { id }
      documents(first: $n) { id booking { id } customer { id } tenant { id } } }
    documents(first: $n) { id booking { id } customer { id } } }
  privacyRequests { id type }
  recipients { name fields }
  facts { entity categories purposes { purpose } } } } }"""


@pytest.fixture
async def person(backend: Backend) -> PrivacyWorld:
    """One person with records at two businesses of this test's own."""
    from store.engine import create_sessionmaker

    return await build_privacy_world(
        create_sessionmaker(backend.engine), backend.settings, "counts"
    )


async def test_my_data_costs_the_same_for_1_2_and_10_nested_rows(
    client: httpx.AsyncClient, person: PrivacyWorld, count_statements: list[str]
) -> None:
    # The operation-cost limit keeps nested ``first`` small here; the person has 2 bookings.
    counts, answers = await _counts(
        client, count_statements, MY_DATA, person.subject, sizes=(1, 2, 10)
    )
    assert [len(a["myData"]["controllers"]) for a in answers] == [2, 2, 2]  # type: ignore[index]
    assert counts[0] == counts[1] == counts[2], counts


async def test_my_data_costs_the_same_for_one_business_as_for_two(
    client: httpx.AsyncClient, person: PrivacyWorld, count_statements: list[str]
) -> None:
    counts = []
    for slug in (person.first.slug, None):
        count_statements.clear()
        data = (await gql(client, MY_DATA, {"n": 5, "slug": slug}, token=person.subject)).ok()
        assert len(data["myData"]["controllers"]) == (1 if slug else 2)
        counts.append(len(_reads(count_statements)))
    assert counts[0] == counts[1], counts
