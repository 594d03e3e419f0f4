"""A read that compiled whole is answered again without the pipeline, exactly as before.

Two apps over one database: one with compiled reads (and so the settled lane),
one with every read left to the executor. The repeats of a settled read must
answer as the executor does for every kind of caller, and every check that
depends on the request (cost with its variables, argument text, variable
types, ids, the caller's own rows) must still hold on the lane.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import strawberry

from basics.settings import Settings
from schema.build import build_schema
from schema.caches import DocumentCaches
from tests.conftest import Backend
from tests.fixtures import World
from tests.test_compiled_reads import callers
from tests.test_error_safety_net import _schema_of
from tests.two_apps import taken_partner_reads, two_apps

LOOKUP = (
    "query Lookup($id: ID!) { booking(id: $id) { id reference startsAt "
    "customer { name email } vehicle { registration } documents { title } } }"
)
PAGE = (
    "query($n: Int, $q: String) { customers(first: $n, search: $q) { totalCount "
    "edges { cursor node { id name email vehicles { registration } } } "
    "pageInfo { hasNextPage endCursor } } }"
)


@dataclass
class Apps:
    lane: httpx.AsyncClient
    executor: httpx.AsyncClient
    caches: DocumentCaches


@pytest.fixture(scope="module")
async def apps(backend: Backend) -> AsyncIterator[Apps]:
    async with two_apps(backend, max_query_cost=300) as both:
        caches = _schema_of(both.compiled_app).document_caches  # type: ignore[attr-defined]
        assert isinstance(caches, DocumentCaches)
        yield Apps(both.compiled, both.executor, caches)


async def _post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.status_code, response.json()


@pytest.mark.parametrize("query", [LOOKUP, PAGE], ids=["lookup", "page"])
async def test_repeats_answer_as_the_executor_for_every_caller(
    apps: Apps, world: World, query: str
) -> None:
    variables: dict[str, Any] = (
        {"id": world.a.bookings["anna-future"]} if query == LOOKUP else {"n": 5}
    )
    for caller, headers in callers(world).items():
        expected = await _post(apps.executor, query, variables, headers)
        hits = apps.caches.settled.hits
        for _ in range(3):
            answer = await _post(apps.lane, query, variables, headers)
            assert json.dumps(answer) == json.dumps(expected), caller
        if expected[0] == 200 and "errors" not in expected[1]:
            # Compiled whole for this caller: the second and third were settled.
            assert apps.caches.settled.hits >= hits + 2, caller


async def test_each_request_is_checked_again_on_a_settled_read(apps: Apps, world: World) -> None:
    """Variables that a settled read's checks would refuse are refused in the pipeline's words."""
    headers = {"Authorization": f"Bearer {world.a.tokens['staff']}"}
    await _post(apps.lane, PAGE, {"n": 2}, headers)
    await _post(apps.lane, LOOKUP, {"id": world.a.bookings["anna-future"]}, headers)
    refusals: list[tuple[str, dict[str, Any], str]] = [
        (PAGE, {"n": 200}, "BAD_USER_INPUT"),  # over the cost limit with these variables
        (PAGE, {"n": 2, "q": "Ho\u0000lm"}, "BAD_USER_INPUT"),  # a control character
        (PAGE, {"n": "two"}, "BAD_USER_INPUT"),  # a variable of the wrong type
        (PAGE, {"n": -1}, "BAD_USER_INPUT"),  # a page size the executor refuses
        (LOOKUP, {"id": "not an id"}, "BAD_USER_INPUT"),
        (LOOKUP, {"id": world.b.bookings["anna-future"]}, "NOT_FOUND"),  # another tenant's
        (LOOKUP, {}, "BAD_USER_INPUT"),  # a required variable missing
    ]
    for query, variables, code in refusals:
        settled = apps.caches.settled.hits
        answer = await _post(apps.lane, query, variables, headers)
        expected = await _post(apps.executor, query, variables, headers)
        assert answer == expected, variables
        codes = [e["extensions"]["code"] for e in answer[1]["errors"]]
        assert code in codes, (variables, answer)
        assert apps.caches.settled.hits == settled + 1, variables  # it was settled


async def test_a_partners_reads_are_recorded_from_the_lane(
    apps: Apps, world: World, backend: Backend
) -> None:
    query = "{ bookings(first: 20) { edges { node { reference customer { name email } } } } }"
    headers = {"Authorization": f"Bearer {world.a.api_keys['partner_accounting']}"}

    async def recorded() -> dict[str, list[str]]:
        return await taken_partner_reads(backend)

    await _post(apps.lane, query, {}, headers)  # settles it
    await recorded()
    hits = apps.caches.settled.hits
    await _post(apps.lane, query, {}, headers)
    assert apps.caches.settled.hits == hits + 1
    from_lane = await recorded()
    await _post(apps.executor, query, {}, headers)
    assert from_lane == await recorded() and from_lane
    assert all("Customer.email" in fields for fields in from_lane.values())


def test_the_lane_stands_in_for_exactly_these_extensions() -> None:
    """``schema.settled_reads`` repeats what each of these does per request.

    A new extension changes what a request must pass; this test fails until
    the lane is checked against it (and this list updated).
    """
    settings = Settings(secret_key="x" * 48, env="production", introspection="off")
    schema = build_schema(settings)
    assert isinstance(schema, strawberry.Schema)
    names = {
        extension.__name__ if isinstance(extension, type) else type(extension()).__name__
        for extension in schema.extensions
    }
    assert names == {
        "CloseSession",
        "ErrorCodes",
        "FieldGuard",
        "MaxTokensLimiter",
        "OperationLimits",
        "ArgumentTextCheck",
        "CachedParse",
        "CachedValidation",
        "CompiledReads",
        "DisableIntrospection",
    }
