"""Requests that are JSON but not GraphQL requests, or that hide text where no one looks.

Each is a clear client error (400, 413 or ``BAD_USER_INPUT`` naming the place),
never a 500.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from server.app import create_app
from server.principal_limits import MAX_TRACKED_CALLERS, PrincipalRateLimiter
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import Result

TENANT_BY_SLUG = "query($s: String! = {default}) {{ tenant(slug: $s) {{ name }} }}"


async def post_raw(client: httpx.AsyncClient, body: bytes, token: str) -> httpx.Response:
    return await client.post(
        "/graphql",
        content=body,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )


@pytest.mark.parametrize(
    ("default", "problem"),
    [
        pytest.param('"a\\u0000b"', "control character", id="NUL"),
        pytest.param('"Sara\\u202ekkiS"', "bidirectional override", id="bidi override"),
        pytest.param('"' + "x" * 20_000 + '"', "at most", id="oversize"),
    ],
)
async def test_variable_defaults_are_checked_like_variables(
    client: httpx.AsyncClient, world: World, default: str, problem: str
) -> None:
    query = TENANT_BY_SLUG.format(default=default)
    response = await client.post(
        "/graphql",
        json={"query": query},
        headers={"authorization": f"Bearer {world.a.tokens['staff']}"},
    )
    result = Result(response.status_code, response.json())
    assert result.codes == ["BAD_USER_INPUT"], result.body
    assert result.errors[0]["extensions"]["field"] == "s" and problem in result.errors[0]["message"]


async def test_a_page_size_default_counts_towards_the_cost(
    client: httpx.AsyncClient, world: World
) -> None:
    query = """query($n: Int = 500) { bookings(first: $n) { edges { node {
      customer { bookings(first: 500) { id } } } } } }"""
    response = await client.post(
        "/graphql",
        json={"query": query},
        headers={"authorization": f"Bearer {world.a.tokens['staff']}"},
    )
    result = Result(response.status_code, response.json())
    assert result.codes == ["BAD_USER_INPUT"] and "rows" in result.errors[0]["message"], result.body


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'"x"', id="a string"),
        pytest.param(b"1", id="a number"),
        pytest.param(b"null", id="null"),
        pytest.param(b"[" * 100_000, id="nested deeply"),
        pytest.param(b'{"query": "{ viewer { kind } }", "variables": [1]}', id="variables a list"),
        pytest.param(b'{"query": "{ viewer { kind } }", "operationName": 5}', id="name a number"),
        pytest.param(
            b'{"query": "query Q { viewer { kind } }", "operationName": "\\ud800"}',
            id="name a lone surrogate",
        ),
    ],
)
async def test_json_that_is_not_a_graphql_request_is_a_400(
    client: httpx.AsyncClient, world: World, body: bytes
) -> None:
    response = await post_raw(client, body, world.a.tokens["staff"])
    assert response.status_code == 400, response.text


async def test_deeply_nested_get_variables_are_a_400(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ viewer { kind } }", "variables": "[" * 3_000},
        headers={"authorization": f"Bearer {world.a.tokens['staff']}"},
    )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    ("operations", "files_map"),
    [
        pytest.param('"x"', "{}", id="operations a string"),
        pytest.param('{"query": "{ viewer { kind } }"}', '"x"', id="map a string"),
        pytest.param('{"query": "{ viewer { kind } }"}', "[" * 50_000, id="map nested deeply"),
        pytest.param('{"query": "{ viewer { kind } }"}', "[1, 2]", id="map a list"),
    ],
)
async def test_malformed_multipart_parts_are_a_400(
    client: httpx.AsyncClient, world: World, operations: str, files_map: str
) -> None:
    response = await client.post(
        "/graphql",
        data={"operations": operations, "map": files_map},
        files={"0": ("a.txt", b"a", "text/plain")},
        headers={
            "authorization": f"Bearer {world.a.tokens['staff']}",
            "GraphQL-Require-Preflight": "1",
        },
    )
    assert response.status_code == 400, response.text


async def test_a_chunked_json_body_over_the_limit_is_a_413(backend: Backend, world: World) -> None:
    settings = backend.settings.model_copy(update={"max_json_body_bytes": 4096})
    app = create_app(settings, engine=backend.engine)
    body = json.dumps({"query": "{ viewer { kind } }", "variables": {"pad": "x" * 20_000}}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            "/graphql",
            content=chunks(),
            headers={
                "authorization": f"Bearer {world.a.tokens['staff']}",
                "content-type": "application/json",
            },
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


def test_the_caller_table_stays_bounded() -> None:
    limiter = PrincipalRateLimiter(limit=5, window_seconds=60)
    for n in range(MAX_TRACKED_CALLERS + 100):
        limiter.take(f"address:{n}", now=float(n) / 1000)
    assert len(limiter) == MAX_TRACKED_CALLERS
    # The longest unseen callers were forgotten; a recent one keeps its spent budget.
    recent = f"address:{MAX_TRACKED_CALLERS + 99}"
    for _ in range(4):
        assert limiter.take(recent, now=60.0) == 0
    assert limiter.take(recent, now=60.0) > 0
