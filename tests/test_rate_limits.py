"""Rate limits: a request budget per caller, and stricter per-address limits on codes.

Each test builds an app of its own with low limits over the backend's database;
the shared app of the other tests runs with the limits raised.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from server.app import create_app
from server.principal_limits import PrincipalRateLimiter
from store.engine import create_sessionmaker
from store.models import OneTimeCode, OutboxMessage
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import Result, gql

VIEWER = "{ viewer { kind } }"
REQUEST_LOGIN = "mutation($e: String!) { requestSubjectLogin(email: $e) { accepted } }"
VERIFY_LOGIN = """mutation($e: String!, $c: String!) {
  verifySubjectLogin(email: $e, code: $c) { token } }"""
CONFIRM = "mutation($c: String!) { confirmRectification(code: $c) { changedFields } }"
_addresses = itertools.count(1)


def limited_app(backend: Backend, **limits: int) -> Starlette:
    return create_app(backend.settings.model_copy(update=limits), engine=backend.engine)


@asynccontextmanager
async def client_at(app: Starlette, address: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client with an address of its own (or the one given)."""
    n = next(_addresses)
    host = address or f"10.77.{(n >> 8) & 255}.{n & 255}"
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def assert_rate_limited(response_or_result: httpx.Response | Result) -> int:
    """RATE_LIMITED with a whole number of seconds to wait; returns it."""
    if isinstance(response_or_result, httpx.Response):
        body: dict[str, Any] = response_or_result.json()
        header = response_or_result.headers.get("retry-after")
    else:
        body, header = response_or_result.body, None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED", body
    retry = error["extensions"]["retryAfterSeconds"]
    assert isinstance(retry, int) and retry >= 1, body
    if header is not None:
        assert header == str(retry)
    assert not body.get("data"), body
    return retry


async def post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


# --- a budget per caller -------------------------------------------------------------


async def test_each_caller_has_a_budget_of_its_own(backend: Backend, world: World) -> None:
    app = limited_app(backend, principal_rate_limit=3, principal_rate_window_seconds=600)
    staff, admin = world.a.tokens["staff"], world.a.tokens["tenant_admin"]
    partner = world.a.api_keys["partner_accounting"]
    async with client_at(app) as http:
        for _ in range(3):
            assert (await post(http, VIEWER, {}, staff)).status_code == 200
        refused = await post(http, VIEWER, {}, staff)
        assert refused.status_code == 429
        retry = assert_rate_limited(refused)
        assert retry <= 600 / 3 + 1  # one request's worth of refill
        # The same address, other callers: budgets are per caller, not per address.
        for token in (admin, partner, world.b.tokens["staff"], world.subject_tokens["anna"]):
            assert (await post(http, VIEWER, {}, token)).status_code == 200, token
    async with client_at(app) as elsewhere:  # the same caller from elsewhere: still spent
        assert (await post(elsewhere, VIEWER, {}, staff)).status_code == 429


async def test_anonymous_callers_are_counted_per_address(backend: Backend) -> None:
    app = limited_app(backend, principal_rate_limit=2, principal_rate_window_seconds=600)
    async with client_at(app) as first, client_at(app) as second:
        for _ in range(2):
            assert (await post(first, VIEWER, {})).status_code == 200
        assert_rate_limited(await post(first, VIEWER, {}))
        assert (await post(second, VIEWER, {})).status_code == 200


async def test_downloads_spend_the_same_budget(backend: Backend, world: World) -> None:
    app = limited_app(backend, principal_rate_limit=2, principal_rate_window_seconds=600)
    staff = world.a.tokens["staff"]
    url = f"/documents/{world.a.documents['anna-report']}"
    headers = {"authorization": f"Bearer {staff}"}
    async with client_at(app) as http:
        assert (await http.get(url, headers=headers)).status_code == 200
        assert (await post(http, VIEWER, {}, staff)).status_code == 200
        refused = await http.get(url, headers=headers)
        assert refused.status_code == 429
        assert_rate_limited(refused)


async def test_refusals_are_counted_in_the_metrics(backend: Backend, world: World) -> None:
    app = limited_app(backend, principal_rate_limit=1, principal_rate_window_seconds=600)
    async with client_at(app) as http:
        await post(http, VIEWER, {}, world.a.tokens["staff"])
        assert (await post(http, VIEWER, {}, world.a.tokens["staff"])).status_code == 429
        metrics = (await http.get("/metrics")).text
    line = next(
        x for x in metrics.splitlines() if x.startswith("tenantgraph_rate_limit_hits_total")
    )
    assert float(line.split()[-1]) >= 1.0


def test_the_budget_refills_over_the_window() -> None:
    limiter = PrincipalRateLimiter(limit=4, window_seconds=60)  # one request per 15 s
    assert [limiter.take("k", now=0.0) for _ in range(4)] == [0, 0, 0, 0]
    assert limiter.take("k", now=0.0) == 15
    assert limiter.take("k", now=10.0) == 5
    assert limiter.take("k", now=15.0) == 0
    assert limiter.take("k", now=15.0) == 15
    assert limiter.take("other", now=15.0) == 0
    assert PrincipalRateLimiter(limit=0, window_seconds=60).take("k") == 0


# --- stricter, per address, shared by every process: login and one-time codes ------


async def _codes_and_messages(backend: Backend) -> tuple[int, int]:
    async with create_sessionmaker(backend.engine)() as session:
        codes = (await session.execute(select(func.count()).select_from(OneTimeCode))).scalar()
        sent = (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar()
    return int(codes or 0), int(sent or 0)


async def test_login_requests_are_limited_per_address_across_processes(
    backend: Backend,
) -> None:
    """Two apps stand for two server processes: they share one count in the database."""
    limits = {"code_rate_limit": 3, "code_rate_window_seconds": 900}
    one, two = limited_app(backend, **limits), limited_app(backend, **limits)
    address = f"10.78.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    known, unknown = "anna@example.dk", f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    async with client_at(one, address) as first, client_at(two, address) as second:
        for http, email in ((first, known), (second, unknown), (first, unknown)):
            answer = (await gql(http, REQUEST_LOGIN, {"e": email})).ok()
            assert answer["requestSubjectLogin"]["accepted"] is True
        before = await _codes_and_messages(backend)
        for http, email in ((second, known), (first, unknown)):
            refused = await post(http, REQUEST_LOGIN, {"e": email})
            assert refused.status_code == 200  # a GraphQL error, as for every mutation
            assert_rate_limited(refused)
        # Known and unknown addresses are refused alike, and nothing was issued or sent.
        assert await _codes_and_messages(backend) == before
    async with client_at(one) as neighbour:
        assert (await gql(neighbour, REQUEST_LOGIN, {"e": known})).codes == []


async def test_code_guesses_are_limited_per_address(backend: Backend, world: World) -> None:
    app = limited_app(backend, code_rate_limit=2, code_rate_window_seconds=900)
    async with client_at(app) as http:
        for _ in range(2):
            wrong = await gql(http, VERIFY_LOGIN, {"e": "anna@example.dk", "c": "000000"})
            assert wrong.codes == ["UNAUTHENTICATED"]
        assert_rate_limited(await post(http, VERIFY_LOGIN, {"e": "anna@example.dk", "c": "1"}))
        token = world.subject_tokens["anna"]
        for _ in range(2):
            guess = await gql(http, CONFIRM, {"c": "000000"}, token=token)
            assert guess.codes == ["BAD_USER_INPUT"]
        assert_rate_limited(await post(http, CONFIRM, {"c": "000000"}, token))


async def test_failed_credentials_spend_the_address_budget(backend: Backend, world: World) -> None:
    """Guessing API keys or tokens is paid for like anonymous requests from that address."""
    app = limited_app(backend, principal_rate_limit=3, principal_rate_window_seconds=600)
    guess = "tgk_" + "a" * 12 + "_" + "b" * 40
    async with client_at(app) as http:
        for _ in range(3):
            assert (await post(http, VIEWER, {}, guess)).status_code == 401
        assert_rate_limited(await post(http, VIEWER, {}, guess))
        assert_rate_limited(await post(http, VIEWER, {}))  # anonymous from there: spent too
        url = f"/documents/{world.a.documents['anna-report']}"
        refused = await http.get(url, headers={"authorization": f"Bearer {guess}"})
        assert refused.status_code == 429
        # A caller with valid credentials keeps a budget of its own.
        assert (await post(http, VIEWER, {}, world.a.tokens["staff"])).status_code == 200
