"""No overbooking under concurrency, against a live server in processes of its own.

``tenantgraph serve --workers 2`` runs on a free port against this backend's
database (a SQLite file, or the PostgreSQL test database), so requests really
race: in two server processes, over real sockets, each simulated browser with
a cookie jar of its own. The rate limit is raised (not switched off) so its
database counter is part of every request, as in production.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from tests.booking_world import (
    COMPLETE,
    START,
    Shop,
    active_bookings,
    contact,
    live_holds,
    local,
    next_weekday,
    open_shop,
)
from tests.conftest import TEST_SECRET, Backend
from tests.graphql_client import gql
from tests.live_server import LiveServer, ServerFailed, server_env, start_server

CAPACITY = 3
ONLINE_FLOWS = 60
STAFF_FLOWS = 10
ALL_DAY = {day: [["06:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
CREATE_CUSTOMER = """mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } } }"""
CREATE_BOOKING = """mutation($input: CreateBookingInput!) {
  createBooking(input: $input) { booking { id } } }"""
BOOKED = "BOOKED"
HELD = "HELD"


@pytest.fixture(scope="module")
async def live_server(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("live")
    env = server_env(
        backend.url,
        secret=TEST_SECRET,
        extra={
            "TENANTGRAPH_BOOKING_RATE_LIMIT": "1000000",
            "TENANTGRAPH_PRINCIPAL_RATE_LIMIT": "1000000",
        },
    )
    try:
        server = await start_server(env, log=workdir / "server.log", workers=2)
    except ServerFailed as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        await server.stop()


async def _busy_shop(backend: Backend) -> Shop:
    return await open_shop(backend, "travl-syn", hours=ALL_DAY, services={"main": (30, CAPACITY)})


async def _online(
    server: LiveServer, shop: Shop, at: datetime, go: asyncio.Event, *, finish: bool
) -> str:
    """One browser: hold the slot, then (if ``finish``) complete the booking."""
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
        variables = {"slug": shop.slug, "service": shop.services["main"], "at": at.isoformat()}
        await go.wait()
        started = await gql(http, START, variables)
        if started.errors:
            return str(started.codes[0])
        assert http.cookies.get("tg_draft")
        if not finish:
            return HELD
        done = await gql(http, COMPLETE, {"input": contact()})
        return BOOKED if not done.errors else str(done.codes[0])


async def _staff(
    server: LiveServer, shop: Shop, customer: str, at: datetime, go: asyncio.Event
) -> str:
    """A phone booking by staff for the same slot, racing the browsers."""
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
        values = {
            "customerId": customer,
            "serviceId": shop.services["main"],
            "startsAt": at.isoformat(),
        }
        await go.wait()
        result = await gql(http, CREATE_BOOKING, {"input": values}, token=shop.tokens["staff"])
        return BOOKED if not result.errors else str(result.codes[0])


async def _customer(server: LiveServer, shop: Shop) -> str:
    async with httpx.AsyncClient(base_url=server.url) as http:
        result = await gql(
            http,
            CREATE_CUSTOMER,
            {"input": {"name": "Telefon Kunde", "phone": "+4528123456", "createdVia": "PHONE"}},
            token=shop.tokens["staff"],
        )
    return str(result.ok()["createCustomer"]["customer"]["id"])


async def test_a_slot_takes_exactly_its_capacity_when_everyone_races_for_it(
    backend: Backend, live_server: LiveServer
) -> None:
    shop = await _busy_shop(backend)
    at = local(next_weekday(2, at_least_days=10), 10)
    customer = await _customer(live_server, shop)
    go = asyncio.Event()
    flows = [
        asyncio.create_task(_online(live_server, shop, at, go, finish=True))
        for _ in range(ONLINE_FLOWS)
    ] + [
        asyncio.create_task(_staff(live_server, shop, customer, at, go)) for _ in range(STAFF_FLOWS)
    ]
    await asyncio.sleep(0.2)  # every client is waiting at the line
    go.set()
    outcomes = Counter(await asyncio.gather(*flows))
    assert outcomes == {BOOKED: CAPACITY, "CONFLICT": ONLINE_FLOWS + STAFF_FLOWS - CAPACITY}, (
        outcomes
    )
    assert await active_bookings(backend, shop.raw_services["main"], at) == CAPACITY
    assert await live_holds(backend, shop.raw_services["main"], at) == 0


async def test_holds_and_bookings_together_never_exceed_capacity(
    backend: Backend, live_server: LiveServer
) -> None:
    shop = await _busy_shop(backend)
    at = local(next_weekday(3, at_least_days=10), 11)
    go = asyncio.Event()
    flows = [
        asyncio.create_task(_online(live_server, shop, at, go, finish=i % 2 == 0))
        for i in range(ONLINE_FLOWS)
    ]
    await asyncio.sleep(0.2)
    go.set()
    outcomes = Counter(await asyncio.gather(*flows))
    assert outcomes[BOOKED] + outcomes[HELD] == CAPACITY, outcomes
    assert outcomes["CONFLICT"] == ONLINE_FLOWS - CAPACITY, outcomes
    service = shop.raw_services["main"]
    booked, held = (
        await active_bookings(backend, service, at),
        await live_holds(backend, service, at),
    )
    assert (booked, held) == (outcomes[BOOKED], outcomes[HELD])
    assert booked + held == CAPACITY
