"""Limits refused before execution, with a clear error: cost, directives, batching, timeout."""

from __future__ import annotations

import httpx

from basics.settings import Settings
from server.app import create_app
from tests.conftest import TEST_SECRET, Backend
from tests.fixtures import World
from tests.graphql_client import gql


async def test_a_page_of_500_with_nested_relations_is_within_cost(
    client: httpx.AsyncClient, world: World
) -> None:
    query = "{ bookings(first: 500) { edges { node { customer { name } vehicle { vin } service { name } documents { id } } } } }"
    assert (await gql(client, query, token=world.a.tokens["staff"])).errors == []


async def test_nested_pages_that_multiply_beyond_the_limit_are_refused(
    client: httpx.AsyncClient, world: World, count_statements: list[str]
) -> None:
    query = "{ customers(first: 500) { edges { node { bookings(first: 500) { documents(first: 500) { id } } } } } }"
    count_statements.clear()
    result = await gql(client, query, token=world.a.tokens["staff"])
    assert result.data is None and result.codes == ["BAD_USER_INPUT"]
    assert "rows; the limit is" in result.errors[0]["message"]
    assert not [s for s in count_statements if "customers" in s]


async def test_cost_counts_page_sizes_given_as_variables(
    client: httpx.AsyncClient, world: World
) -> None:
    query = "query($n: Int) { customers(first: 500) { edges { node { bookings(first: $n) { documents(first: $n) { id } } } } } }"
    assert (await gql(client, query, {"n": 2}, token=world.a.tokens["staff"])).errors == []
    assert (await gql(client, query, {"n": 500}, token=world.a.tokens["staff"])).codes == [
        "BAD_USER_INPUT"
    ]


async def test_too_many_directives_are_refused(client: httpx.AsyncClient, world: World) -> None:
    fields = " ".join(f"a{i}: viewer @include(if: true) {{ kind }}" for i in range(25))
    result = await gql(client, "{ " + fields + " }", token=world.a.tokens["staff"])
    assert result.codes == ["BAD_USER_INPUT"] and "directives" in result.errors[0]["message"]


async def test_batched_operations_are_off(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        "/graphql",
        json=[{"query": "{ viewer { kind } }"}, {"query": "{ viewer { kind } }"}],
        headers={"Authorization": f"Bearer {world.a.tokens['staff']}"},
    )
    assert response.status_code == 400 and "Batching is not enabled" in response.text


async def test_fragment_cycles_are_refused(client: httpx.AsyncClient, world: World) -> None:
    query = "{ viewer { ...A } } fragment A on Viewer { ...B } fragment B on Viewer { ...A }"
    result = await gql(client, query, token=world.a.tokens["staff"])
    assert result.data is None and result.errors
    assert result.codes == ["BAD_USER_INPUT"]


async def test_slow_operations_are_stopped(backend: Backend, world: World) -> None:
    settings = Settings(
        database_url=backend.url, secret_key=TEST_SECRET, execution_timeout_seconds=1e-6
    )
    app = create_app(settings, engine=backend.engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        result = await gql(
            http,
            "{ bookings(first: 500) { edges { node { id } } } }",
            token=world.a.tokens["staff"],
        )
    assert result.data is None
    assert result.errors[0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "reason": "timeout"}


async def test_unknown_directives_count_before_validation(
    client: httpx.AsyncClient, world: World
) -> None:
    """25 unknown directives: one refusal, not 25 "Unknown directive" errors."""
    query = "{ __typename " + "@aa" * 25 + " }"
    result = await gql(client, query)
    assert result.data is None
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["message"].endswith("uses 25 directives; the limit is 20")
    assert "Unknown directive" not in str(result.body)
    staff = await gql(client, query, token=world.a.tokens["staff"])
    assert staff.codes == ["BAD_USER_INPUT"] and len(staff.errors) == 1


async def test_depth_aliases_and_cost_are_refused_before_validation(
    client: httpx.AsyncClient, world: World
) -> None:
    """Each limit answers alone, even when the document would also fail validation."""
    deep = "{ " + "nope { " * 12 + "x" + " }" * 12 + " }"
    aliases = "{ " + " ".join(f"a{i}: nope" for i in range(40)) + " }"
    costly = "{ customers(first: 500) { edges { node { nope bookings(first: 500) { documents(first: 500) { id } } } } } }"
    for query, word in ((deep, "depth"), (aliases, "aliases"), (costly, "rows")):
        result = await gql(client, query, token=world.a.tokens["staff"])
        assert result.codes == ["BAD_USER_INPUT"], (word, result.body)
        assert word in result.errors[0]["message"]
        assert "Cannot query field" not in str(result.body)


async def test_fragment_cycles_through_fields_do_not_break_the_limits(
    client: httpx.AsyncClient, world: World
) -> None:
    query = (
        "{ customers(first: 1) { edges { node { ...A } } } }"
        " fragment A on Customer { bookings { customer { ...A } } }"
    )
    result = await gql(client, query, token=world.a.tokens["staff"])
    assert result.status < 500 and result.data is None
    assert result.codes and set(result.codes) == {"BAD_USER_INPUT"}
