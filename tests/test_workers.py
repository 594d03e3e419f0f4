"""Two server processes behave as one service.

``tenantgraph serve --workers 2`` runs on this backend's database. Every probe
opens a connection of its own, so the kernel spreads probes over both uvicorn
workers, and each probe is attributed to the worker process that accepted it
(the process holding the server end of its socket), so "both processes" is
checked, not assumed. Each worker keeps its own copy of the tenant grants
(``Authorizer.refresh_if_stale``); a change made through one request must be in
force in every process within one second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url

from identity.apikeys import create_api_key
from store.engine import create_sessionmaker
from store.models import ApiKey, Tenant
from store.types import utcnow
from tests.booking_world import Shop, open_shop
from tests.conftest import TEST_SECRET, Backend
from tests.graphql_client import gql
from tests.live_server import LiveServer, ServerFailed, server_env, start_server

WORKERS = 2
# The functional contract: a change is in force everywhere within this time.
PROPAGATION_SECONDS = 1.0
# How long the probes keep going after the change, at the least.
OBSERVE_SECONDS = 1.6
PROBES_AT_ONCE = 6
GRANT = "mutation($r: String!, $f: String!) { grantPartnerField(role: $r, field: $f) { policyVersion } }"
REVOKE = "mutation($r: String!, $f: String!) { revokePartnerField(role: $r, field: $f) { policyVersion } }"
CREATE_CUSTOMER = """mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } } }"""
STREET = "query($id: ID!) { customer(id: $id) { name street } }"
NAME = "query($id: ID!) { customer(id: $id) { name } }"


@dataclass(frozen=True)
class Probe:
    """One request on a connection of its own: who answered, when, and what."""

    pid: int | None
    at: float
    status: int
    body: dict[str, Any]

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.body.get("errors") or []]


async def _serve(backend_url: str, workdir: Any) -> LiveServer:
    env = server_env(backend_url, secret=TEST_SECRET)
    try:
        return await start_server(env, log=workdir / "server.log", workers=WORKERS)
    except ServerFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
async def server(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    live = await _serve(backend.url, tmp_path_factory.mktemp("workers"))
    try:
        yield live
    finally:
        await live.stop()


async def probe(
    server: LiveServer,
    path: str,
    *,
    since: float = 0.0,
    query: str | None = None,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> Probe:
    """GET ``path``, or POST ``query`` to it, on a fresh connection."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        if query is None:
            response = await http.get(path, headers=headers)
        else:
            body = {"query": query, "variables": variables or {}}
            response = await http.post(path, json=body, headers=headers)
        client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        # Looked up while the connection is still open.
        pid = server.serving_pid(client_port)
        return Probe(pid, time.monotonic() - since, response.status_code, response.json())


async def probe_both_workers(
    server: LiveServer,
    ask: Callable[[float], Any],
    *,
    since: float,
    at_least: float = 0.0,
    settled_after: float = 0.0,
    until: Callable[[Probe], bool] = lambda _probe: True,
    give_up: float = 20.0,
) -> list[Probe]:
    """Probes, several at once, until ``at_least`` seconds have passed and every
    worker gave an answer ``until`` accepts ``settled_after`` seconds or later."""
    workers = server.worker_pids()
    found: list[Probe] = []

    def answered() -> set[int | None]:
        return {p.pid for p in found if p.at >= settled_after and until(p)}

    def done() -> bool:
        return time.monotonic() - since >= at_least and workers <= answered()

    async def loop() -> None:
        while not done() and time.monotonic() - since < give_up:
            found.append(await ask(since))

    await asyncio.gather(*(loop() for _ in range(PROBES_AT_ONCE)))
    assert workers <= answered(), f"not every worker answered: {workers} vs {answered()}"
    return found


def _stale(probes: list[Probe], still_old: Callable[[Probe], bool]) -> list[Probe]:
    return [p for p in probes if p.at >= PROPAGATION_SECONDS and still_old(p)]


async def _customer(server: LiveServer, shop: Shop) -> str:
    async with httpx.AsyncClient(base_url=server.url) as http:
        created = await gql(
            http,
            CREATE_CUSTOMER,
            {"input": {"name": "Ida Worker", "street": "Vestergade 1", "phone": "+4528000111"}},
            token=shop.tokens["staff"],
        )
    return str(created.ok()["createCustomer"]["customer"]["id"])


async def _api_key(backend: Backend, shop: Shop, role: str) -> tuple[str, str]:
    """A fresh partner key of the shop's (plaintext, row id), as the CLI would create it."""
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        tenant = await session.get(Tenant, shop.id)
        assert tenant is not None
        created = await create_api_key(session, tenant=tenant, role=role, name=f"{role} workers")
    return created.plaintext, created.key.id


async def test_health_and_readiness_answer_from_every_worker(server: LiveServer) -> None:
    workers = server.worker_pids()
    assert len(workers) == WORKERS, workers
    for path in ("/healthz", "/readyz"):
        probes = await probe_both_workers(
            server,
            lambda since, path=path: probe(server, path, since=since),
            since=time.monotonic(),
        )
        assert {p.status for p in probes} == {200}, probes
        assert {p.pid for p in probes} == workers


async def test_a_grant_and_its_revocation_reach_every_worker_within_a_second(
    backend: Backend, server: LiveServer
) -> None:
    shop = await open_shop(backend, "workers-grant")
    customer = await _customer(server, shop)
    key, _ = await _api_key(backend, shop, "partner_accounting")
    variables = {"r": "partner_accounting", "f": "Customer.street"}

    def ask(since: float) -> Any:
        return probe(
            server, "/graphql", since=since, query=STREET, variables={"id": customer}, token=key
        )

    before = await probe_both_workers(server, ask, since=time.monotonic())
    assert {tuple(p.codes) for p in before} == {("FORBIDDEN",)}, before

    async with httpx.AsyncClient(base_url=server.url) as http:
        (await gql(http, GRANT, variables, token=shop.tokens["tenant_admin"])).ok()
    granted = time.monotonic()
    after_grant = await probe_both_workers(
        server, ask, since=granted, at_least=OBSERVE_SECONDS, settled_after=PROPAGATION_SECONDS
    )
    stale = _stale(after_grant, lambda p: p.codes != [])
    assert not stale, stale
    assert after_grant[-1].body["data"]["customer"]["street"] == "Vestergade 1"

    async with httpx.AsyncClient(base_url=server.url) as http:
        (await gql(http, REVOKE, variables, token=shop.tokens["tenant_admin"])).ok()
    revoked = time.monotonic()
    after_revoke = await probe_both_workers(
        server, ask, since=revoked, at_least=OBSERVE_SECONDS, settled_after=PROPAGATION_SECONDS
    )
    stale = _stale(after_revoke, lambda p: p.codes != ["FORBIDDEN"])
    assert not stale, stale


async def test_a_revoked_api_key_is_refused_by_every_worker_within_a_second(
    backend: Backend, server: LiveServer
) -> None:
    """Keys are looked up per request, so a revocation holds at once in every process.

    There is no command or mutation that revokes a key yet; the row is
    revoked as such a command would do it, in one committed transaction.
    """
    shop = await open_shop(backend, "workers-key")
    customer = await _customer(server, shop)
    key, key_id = await _api_key(backend, shop, "partner_accounting")

    def ask(since: float) -> Any:
        return probe(
            server, "/graphql", since=since, query=NAME, variables={"id": customer}, token=key
        )

    before = await probe_both_workers(server, ask, since=time.monotonic())
    assert {tuple(p.codes) for p in before} == {()}, before

    async with create_sessionmaker(backend.engine)() as session, session.begin():
        await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
    revoked = time.monotonic()
    after = await probe_both_workers(
        server, ask, since=revoked, at_least=OBSERVE_SECONDS, settled_after=PROPAGATION_SECONDS
    )
    stale = _stale(after, lambda p: p.codes != ["UNAUTHENTICATED"])
    assert not stale, stale


class Relay:
    """A TCP relay to the database that can be cut: the database becomes unreachable.

    Cutting closes the listening port and aborts every relayed connection, as
    a network partition or a stopped database host would.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while chunk := await source.read(65536):
                    sink.write(chunk)
                    await sink.drain()
            sink.transport.abort()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._open -= {writer, up_writer}


async def test_readiness_fails_while_the_database_is_unreachable(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if backend.name == "sqlite":
        pytest.skip("an embedded SQLite file has no connection to lose")
    url = make_url(backend.url)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    await relay.start()
    through_relay = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    live = await _serve(through_relay, tmp_path_factory.mktemp("unreachable"))
    try:
        workers = live.worker_pids()

        def ready(since: float) -> Any:
            return probe(live, "/readyz", since=since)

        def healthy(since: float) -> Any:
            return probe(live, "/healthz", since=since)

        await relay.cut()
        down = await probe_both_workers(live, ready, since=time.monotonic())
        assert {p.status for p in down} == {503}, down
        assert {p.body["database"] for p in down} == {"down"}
        alive = await probe_both_workers(live, healthy, since=time.monotonic())
        assert {p.status for p in alive} == {200}

        await relay.start()  # the same port again: the database is back
        # Pooled connections died with the relay; each worker must recover by itself.
        await probe_both_workers(
            live, ready, since=time.monotonic(), until=lambda p: p.status == 200
        )
        assert live.worker_pids() == workers
    finally:
        await live.stop()
        await relay.cut()
