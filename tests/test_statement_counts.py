"""No N+1: nested paths run a fixed number of SQL statements, whatever the page size."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures import World
from tests.graphql_client import gql

NESTED_PATHS = {
    "bookings": "bookings(first: $n) { edges { node { id customer { name } vehicle { registration } "
    "service { name } tenant { slug } documents { kind title } } } }",
    "customers": "customers(first: $n) { edges { node { id vehicles { id bookings { id } } "
    "bookings { id documents { id } } documents { id booking { id } customer { id } } tenant { slug } } } }",
    "vehicles": "vehicles(first: $n) { edges { node { id owner { name } bookings { id service { name } } } } }",
    "documents": "documents(first: $n) { edges { node { id content booking { id } customer { id } tenant { slug } } } }",
}


def _reads(statements: list[str]) -> list[str]:
    """Data reads; the periodic policy-version check (at most one per half second) is not one."""
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith(("SELECT", "WITH"))
        and "policy_state" not in s
        and "casbin_rule" not in s
    ]


@pytest.mark.parametrize("path", sorted(NESTED_PATHS))
async def test_statement_count_does_not_grow_with_page_size(
    client: httpx.AsyncClient, world: World, count_statements: list[str], path: str
) -> None:
    query = f"query($n: Int) {{ {NESTED_PATHS[path]} }}"
    counts = []
    for size in (1, 2, 100):
        count_statements.clear()
        data = (await gql(client, query, {"n": size}, token=world.a.tokens["tenant_admin"])).ok()
        assert len(data[path]["edges"]) == min(size, len(data[path]["edges"]))
        counts.append(len(_reads(count_statements)))
    assert counts[0] == counts[1] == counts[2], counts


async def test_bookings_100_runs_as_many_statements_as_10(
    client: httpx.AsyncClient, world: World, count_statements: list[str]
) -> None:
    query = "query($n: Int) { bookings(first: $n) { edges { node { customer { name } vehicle { vin } documents { id } } } } }"
    counts = []
    for size in (10, 100):
        count_statements.clear()
        (await gql(client, query, {"n": size}, token=world.a.tokens["staff"])).ok()
        counts.append(len(_reads(count_statements)))
    # One page query, then one batched query each for customer, vehicle and documents.
    assert counts == [4, 4]
