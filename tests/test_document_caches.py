"""Per-document caches: they hit, and a cached document still meets every limit.

Parsing, validation and the static authorization check are remembered per
document text; the limits (depth, aliases, tokens, directives, cost) and the
caller's own decisions must still apply to a document the cache already holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from basics.settings import Settings
from schema.caches import DocumentCaches
from server.app import create_app
from tests.conftest import TEST_SECRET, Backend
from tests.fixtures import World
from tests.graphql_client import gql


@pytest.fixture
async def strict(backend: Backend) -> AsyncIterator[tuple[httpx.AsyncClient, DocumentCaches]]:
    """An app with low limits, so that small documents can go over them."""
    settings = Settings(
        database_url=backend.url,
        secret_key=TEST_SECRET,
        env="development",
        principal_rate_limit=1_000_000,
        max_query_depth=4,
        max_aliases=3,
        max_tokens=60,
        max_directives=2,
        max_query_cost=300,
    )
    app = create_app(settings, engine=backend.engine)
    caches = _caches(app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http, caches


def _caches(app: object) -> DocumentCaches:
    graphql = next(r.endpoint for r in app.routes if getattr(r, "path", "") == "/graphql")  # type: ignore[attr-defined]
    return graphql.app.graphql.schema.document_caches  # type: ignore[no-any-return]


OVER_LIMIT = {
    "depth": "{ bookings { edges { node { customer { vehicles { bookings { id } } } } } } }",
    "alias": "{ a: viewer { kind } b: viewer { kind } c: viewer { kind } d: viewer { kind } }",
    "tokens": "{ viewer { " + " ".join(["kind"] * 60) + " } }",
    "directives": "{ viewer { a: kind @include(if: true) b: kind @include(if: true) "
    "c: kind @skip(if: false) } }",
}


@pytest.mark.parametrize("limit", sorted(OVER_LIMIT))
async def test_a_document_over_a_limit_is_refused_every_time(
    strict: tuple[httpx.AsyncClient, DocumentCaches], world: World, limit: str
) -> None:
    http, _caches = strict
    for _ in range(3):
        result = await gql(http, OVER_LIMIT[limit], token=world.a.tokens["staff"])
        assert result.data is None and result.errors, result.body
        assert result.codes[0] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")


async def test_a_cached_document_meets_the_cost_limit_with_each_requests_variables(
    strict: tuple[httpx.AsyncClient, DocumentCaches], world: World
) -> None:
    http, caches = strict
    query = "query($n: Int) { customers(first: $n) { edges { node { name } } } }"
    token = world.a.tokens["staff"]
    assert (await gql(http, query, {"n": 2}, token=token)).errors == []
    hits = caches.documents.hits
    refused = await gql(http, query, {"n": 400}, token=token)
    assert (
        refused.codes == ["BAD_USER_INPUT"] and "rows; the limit is" in refused.errors[0]["message"]
    )
    assert caches.documents.hits > hits
    assert (await gql(http, query, {"n": 2}, token=token)).errors == []


async def test_repeated_documents_hit_every_cache(
    strict: tuple[httpx.AsyncClient, DocumentCaches], world: World
) -> None:
    http, caches = strict
    caches.clear()
    query = "{ customers(first: 3) { edges { node { name email } } } }"
    for _ in range(4):
        (await gql(http, query, token=world.a.tokens["staff"])).ok()
    assert (caches.documents.hits, caches.documents.misses) == (3, 1)
    assert (caches.valid.hits, caches.valid.misses) == (3, 1)
    assert (caches.static_checks.hits, caches.static_checks.misses) == (3, 1)


async def test_the_static_check_is_remembered_per_role_set(
    strict: tuple[httpx.AsyncClient, DocumentCaches], world: World
) -> None:
    """One document, several callers: each gets its own decision, however often it repeats."""
    http, _caches = strict
    query = "{ customers(first: 2) { edges { node { name email } } } }"
    for _ in range(2):
        assert (await gql(http, query, token=world.a.tokens["staff"])).errors == []
        denied = await gql(http, query, token=world.a.tokens["inspector"])
        assert denied.codes == ["FORBIDDEN"] and denied.data is None
        partial = await gql(
            http, query, token=world.a.tokens["inspector"], headers={"X-Denial-Style": "partial"}
        )
        assert "FORBIDDEN" in partial.codes and partial.data is not None
        assert (await gql(http, query, token=world.b.tokens["staff"])).errors == []


async def test_an_invalid_document_is_refused_every_time(
    strict: tuple[httpx.AsyncClient, DocumentCaches], world: World
) -> None:
    """Only valid documents are remembered: an invalid one is validated (and refused) again."""
    http, caches = strict
    misses = caches.valid.misses
    for _ in range(2):
        result = await gql(http, "{ viewer { nope } }", token=world.a.tokens["staff"])
        assert result.data is None and "nope" in result.errors[0]["message"]
    assert caches.valid.misses == misses + 2
