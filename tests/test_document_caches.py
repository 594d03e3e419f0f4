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
    # ``viewer`` never compiles, so every repeat runs the whole pipeline (a read
    # that compiles whole is answered by the settled lane: test_settled_reads.py).
    query = "{ viewer { kind } customers(first: 3) { edges { node { name email } } } }"
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


# The message each limit gives the first time, and every time after.
OVER_LIMIT_MESSAGES = {
    "depth": "is nested more than 4 levels deep (maximum depth)",
    "alias": "uses 4 aliases; the limit is 3",
    "directives": "uses 3 directives; the limit is 2",
}


@pytest.mark.parametrize("limit", sorted(OVER_LIMIT_MESSAGES))
async def test_a_cached_document_over_a_limit_keeps_its_message(
    strict: tuple[httpx.AsyncClient, DocumentCaches], world: World, limit: str
) -> None:
    http, caches = strict
    caches.clear()
    for _ in range(3):
        result = await gql(http, OVER_LIMIT[limit], token=world.a.tokens["staff"])
        assert result.codes == ["BAD_USER_INPUT"] and result.data is None
        assert result.errors[0]["message"].endswith(OVER_LIMIT_MESSAGES[limit]), result.body
    assert (caches.measures.hits, caches.measures.misses) == (2, 1)


TWO_PAGES = (
    "query($customers: Int, $bookings: Int) { customers(first: $customers) "
    "{ edges { node { name } } } bookings(first: $bookings) { edges { node { id } } } }"
)


async def test_page_sizes_from_variables_are_counted_on_every_request(
    strict: tuple[httpx.AsyncClient, DocumentCaches], world: World, backend: Backend
) -> None:
    """The document passes, then the same text with larger pages goes over, then passes again."""
    http, caches = strict
    token = world.a.tokens["staff"]
    caches.clear()
    assert (await gql(http, TWO_PAGES, {"customers": 3, "bookings": 4}, token=token)).errors == []
    # Each page row costs 3 (connection, edge, node): 3 * (60 + 60) = 360, over 300.
    refused = await gql(http, TWO_PAGES, {"customers": 60, "bookings": 60}, token=token)
    assert refused.codes == ["BAD_USER_INPUT"] and refused.data is None
    assert refused.errors[0]["message"].endswith(
        "may touch about 360 rows; the limit is 300 (ask for smaller pages or fewer nested lists)"
    ), refused.body
    assert (await gql(http, TWO_PAGES, {"customers": 60, "bookings": 2}, token=token)).errors == []
    # Measured once. Both repeats find the read settled (it compiled whole); the
    # one over the limit is then refused by the whole pipeline, from its cache.
    # The compare mode turns the settled lane off: the measures serve all three.
    assert caches.measures.misses == 1
    if backend.settings.compiled_reads == "compare":
        assert caches.measures.hits == 2
        return
    assert caches.measures.hits == 1
    assert caches.settled.hits == 2


async def test_a_variables_default_page_counts_unless_the_request_sets_it(
    strict: tuple[httpx.AsyncClient, DocumentCaches], world: World
) -> None:
    http, _caches = strict
    token = world.a.tokens["staff"]
    query = "query($n: Int = 400) { customers(first: $n) { edges { node { name } } } }"
    for _ in range(2):
        refused = await gql(http, query, token=token)
        assert refused.codes == ["BAD_USER_INPUT"]
        assert "about 1200 rows; the limit is 300" in refused.errors[0]["message"]
        assert (await gql(http, query, {"n": 2}, token=token)).errors == []


async def test_an_argument_text_problem_is_found_in_a_cached_document_every_time(
    strict: tuple[httpx.AsyncClient, DocumentCaches], world: World
) -> None:
    """Where text sits is remembered per document; each request's variables are looked at."""
    http, caches = strict
    token = world.a.tokens["staff"]
    caches.clear()
    query = "query($q: String) { customers(first: 2, search: $q) { edges { node { name } } } }"
    assert (await gql(http, query, {"q": "Holm"}, token=token)).errors == []
    for _ in range(2):
        refused = await gql(http, query, {"q": "Ho\u0000lm"}, token=token)
        assert refused.codes == ["BAD_USER_INPUT"] and refused.data is None
        assert refused.errors[0]["message"].startswith("search contains a control character")
    assert (caches.argument_texts.hits, caches.argument_texts.misses) == (2, 1)
