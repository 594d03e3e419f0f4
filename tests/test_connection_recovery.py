"""Pooled connections that died are replaced without a ping on every checkout.

The pool no longer pings a connection before handing it out (that cost a
round trip per request). A read that meets a dead pooled connection must
still be answered: the first statement of a read runs again on a fresh one.
The database is made to drop every connection by cutting a TCP relay, as the
workers test does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from basics.settings import Settings
from server.app import create_app
from store.engine import create_engine
from tests.conftest import TEST_SECRET, Backend
from tests.fixtures import World
from tests.graphql_client import gql
from tests.test_workers import Relay

QUERY = "{ bookings(first: 3) { edges { node { reference customer { name } } } } }"


@pytest.fixture
async def through_relay(backend: Backend) -> AsyncIterator[tuple[Relay, httpx.AsyncClient]]:
    if backend.name == "sqlite":
        pytest.skip("an embedded SQLite file has no connection to lose")
    url = make_url(backend.url)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    await relay.start()
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    settings = Settings(
        database_url=relayed,
        secret_key=TEST_SECRET,
        env="development",
        principal_rate_limit=1_000_000,
    )
    engine = create_engine(relayed)
    app = create_app(settings, engine=engine)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            yield relay, http
    finally:
        await engine.dispose()
        await relay.cut()


async def test_a_read_after_the_connections_dropped_is_answered(
    through_relay: tuple[Relay, httpx.AsyncClient], world: World
) -> None:
    relay, http = through_relay
    token = world.a.tokens["staff"]
    before = (await gql(http, QUERY, token=token)).ok()
    await relay.cut()
    await relay.start()  # the same port again; every pooled connection is dead
    after = await gql(http, QUERY, token=token)
    assert after.status == 200 and after.errors == [], after.body
    assert after.data == before


async def test_while_the_database_is_unreachable_a_read_fails_cleanly_then_recovers(
    through_relay: tuple[Relay, httpx.AsyncClient], world: World
) -> None:
    relay, http = through_relay
    token = world.a.tokens["staff"]
    (await gql(http, QUERY, token=token)).ok()
    await relay.cut()
    down = await http.post(
        "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}
    )
    assert down.status_code in (200, 500)
    assert "INTERNAL_SERVER_ERROR" in down.text and "Traceback" not in down.text
    await relay.start()
    (await gql(http, QUERY, token=token)).ok()
