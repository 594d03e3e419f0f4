"""tenantgraph against PostGraphile 5, on copies of one seeded PostgreSQL database.

Both serve the same bookings (``scripts/benchdata.py``) as one process each on
127.0.0.1: tenantgraph as ``tenantgraph serve`` runs it (uvicorn, production
settings, a staff token), PostGraphile with row-level security on ``tenant_id``
and column grants mirroring the staff policy (``scripts/peer_setup.py``). The
script first checks that both answer each operation with the same rows and
field values, then runs them in turn, operation by operation, at 1 and 10
concurrent connections for a fixed time per cell, alternating which goes
first. Usage::

    .venv/bin/python scripts/bench_peer.py [--bookings 30000] [--seconds 3] [--repeats 2]
    .venv/bin/python scripts/bench_peer.py --database-url postgresql+asyncpg://...
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import time
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import peer_setup
from bench import SECRET, bench_settings
from benchdata import Dataset, seed
from benchkit import Summary, say, table, temporary_database, versions
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from basics.ids import decode_any, encode_id
from identity.tokens import staff_token
from store.engine import create_engine
from store.migrate import upgrade

NODE = "id reference status startsAt endsAt priceOre"
OURS = {
    "page": "query Page($first: Int!) { bookings(first: $first) { edges { node { "
    + NODE
    + """
  customer { id name email phone } vehicle { id registration make model }
  service { id name durationMinutes } } } } }""",
    "lookup": "query Lookup($id: ID!) { booking(id: $id) { "
    + NODE
    + """
  customer { id name email phone } vehicle { id registration make model }
  service { id name durationMinutes } documents { id kind title sizeBytes } } }""",
}
PEER_NODE = (
    NODE
    + """
  customer: customerByCustomerId { id name email phone }
  vehicle: vehicleByVehicleId { id registration make model }
  service: serviceByServiceId { id name durationMinutes }"""
)
THEIRS = {
    "page": "query Page($first: Int!) { bookings: allBookings(first: $first,"
    " orderBy: [STARTS_AT_ASC, PRIMARY_KEY_ASC]) { nodes {" + PEER_NODE + " } } }",
    "lookup": "query Lookup($id: ID!) { booking(id: $id) {"
    + PEER_NODE
    + " documents: documentsByBookingId { nodes { id kind title sizeBytes } } } }",
}
OPERATIONS = {
    "page100": ("page", 100, "`bookings(first: 100)` with customer, vehicle, service"),
    "lookup": ("lookup", None, "`booking(id:)` with customer, vehicle, service, documents"),
    "page500": ("page", 500, "`bookings(first: 500)`, same fields"),
}
SIDES = ("tenantgraph", "PostGraphile")


@dataclass(frozen=True)
class Target:
    url: str
    headers: dict[str, str]
    bodies: dict[str, bytes]


@dataclass
class Cell:
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


# --------------------------------------------------------------------------
# Same answers
# --------------------------------------------------------------------------


def _raw(global_id: str, ours: bool) -> str:
    """The row's key from either side's global id (PostGraphile's is base64 JSON)."""
    if ours:
        return decode_any("id", global_id)[1]
    key: str = json.loads(base64.b64decode(global_id))[1]
    return key


def _row(node: dict[str, Any], ours: bool) -> tuple[Any, ...]:
    """A booking as plain values: raw ids, lower-case enums, parsed times."""
    related = []
    for name, fields in (
        ("customer", ("name", "email", "phone")),
        ("vehicle", ("registration", "make", "model")),
        ("service", ("name", "durationMinutes")),
    ):
        value = node[name]
        related.append(
            None if value is None else (_raw(value["id"], ours), *(value[f] for f in fields))
        )
    documents = node.get("documents")
    if documents is not None:
        listed = documents if ours else documents["nodes"]
        docs = sorted(
            (_raw(d["id"], ours), d["kind"].lower(), d["title"], d["sizeBytes"]) for d in listed
        )
        related.append(tuple(docs))
    return (
        _raw(node["id"], ours),
        node["reference"],
        node["status"].lower(),
        datetime.fromisoformat(node["startsAt"]),
        datetime.fromisoformat(node["endsAt"]),
        node["priceOre"],
        *related,
    )


def rows_of(body: dict[str, Any], ours: bool) -> list[tuple[Any, ...]]:
    if body.get("errors") or "data" not in body:
        raise RuntimeError(f"{'tenantgraph' if ours else 'PostGraphile'}: {body}"[:800])
    data = body["data"]
    if "booking" in data:
        return [_row(data["booking"], ours)]
    nodes = [e["node"] for e in data["bookings"]["edges"]] if ours else data["bookings"]["nodes"]
    return [_row(node, ours) for node in nodes]


async def check_same(targets: dict[str, Target], other_tenant: str) -> list[str]:
    lines = []
    async with httpx.AsyncClient(timeout=30) as client:
        for op, (_kind, first, label) in OPERATIONS.items():
            answers = []
            for side, target in targets.items():
                response = await client.post(
                    target.url, content=target.bodies[op], headers=target.headers
                )
                answers.append(rows_of(response.json(), side == "tenantgraph"))
            ours, theirs = answers
            expected = first or 1
            if len(ours) != expected or len(theirs) != expected:
                raise RuntimeError(f"{op}: {len(ours)} and {len(theirs)} rows, not {expected}")
            for mine, peer in zip(ours, theirs, strict=True):
                if mine != peer:
                    raise RuntimeError(f"{op}: the answers differ: {mine} against {peer}")
            cells = len(ours) * len(ours[0])
            lines.append(f"same answers  {label}: {len(ours)} row(s), {cells} values equal")
        lines.append(await check_isolation(client, targets["PostGraphile"], other_tenant))
    return lines


async def check_isolation(client: httpx.AsyncClient, peer: Target, other_tenant: str) -> str:
    """PostGraphile's row-level security holds: another tenant sees neither the row nor the page."""
    headers = {**peer.headers, peer_setup.TENANT_HEADER: other_tenant}
    lookup = (await client.post(peer.url, content=peer.bodies["lookup"], headers=headers)).json()
    page = (await client.post(peer.url, content=peer.bodies["page100"], headers=headers)).json()
    mine = {row[0] for row in rows_of(await _page(client, peer), ours=False)}
    if lookup.get("data", {}).get("booking", "missing") is not None or mine & {
        row[0] for row in rows_of(page, ours=False)
    }:
        raise RuntimeError("PostGraphile shows one tenant's bookings to another")
    return "isolation     PostGraphile with another tenant's setting: no booking of the first"


async def _page(client: httpx.AsyncClient, peer: Target) -> dict[str, Any]:
    body: dict[str, Any] = (
        await client.post(peer.url, content=peer.bodies["page100"], headers=peer.headers)
    ).json()
    return body


# --------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------


async def run_cell(target: Target, op: str, connections: int, seconds: float, cap: int) -> Cell:
    """``connections`` clients posting back to back for ``seconds`` (at most ``cap`` requests)."""
    cell = Cell()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    body = target.bodies[op]
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline and len(cell.latencies_ms) < cap:
                sent = time.perf_counter()
                response = await client.post(target.url, content=body, headers=target.headers)
                if response.status_code != 200 or b'"errors"' in response.content:
                    raise RuntimeError(f"{target.url} {op}: {response.text[:300]}")
                cell.latencies_ms.append((time.perf_counter() - sent) * 1000.0)

        await asyncio.gather(*(worker() for _ in range(connections)))
        cell.seconds = time.perf_counter() - started
    return cell


async def measure(
    targets: dict[str, Target], args: argparse.Namespace
) -> dict[tuple[str, int, str], Cell]:
    """Every (operation, connections) cell for both sides in turn, the first side alternating."""
    for op in OPERATIONS:  # warm-up: plans, caches, pools
        for target in targets.values():
            await run_cell(target, op, max(args.connections), 1.0, args.max_requests)
    cells: dict[tuple[str, int, str], Cell] = {}
    turn = 0
    for connections in args.connections:
        for _repeat in range(args.repeats):
            for op in OPERATIONS:
                order = SIDES if turn % 2 == 0 else SIDES[::-1]
                turn += 1
                for side in order:
                    cell = await run_cell(
                        targets[side], op, connections, args.seconds, args.max_requests
                    )
                    total = cells.setdefault((op, connections, side), Cell())
                    total.latencies_ms += cell.latencies_ms
                    total.seconds += cell.seconds
    return cells


def report(cells: dict[tuple[str, int, str], Cell], connections: list[int]) -> list[str]:
    header = ["operation", "conn", "tenantgraph req/s", "p50 ms", "p95 ms"]
    header += ["PostGraphile req/s", "p50 ms", "p95 ms", "tenantgraph / PostGraphile"]
    rows = []
    for op, (_kind, _first, label) in OPERATIONS.items():
        for n in connections:
            row = [label, str(n)]
            for side in SIDES:
                cell = cells[(op, n, side)]
                s = Summary.of(cell.latencies_ms)
                row += [f"{cell.rate:,.0f}", f"{s.p50_ms:.1f}", f"{s.p95_ms:.1f}"]
            ratio = cells[(op, n, "tenantgraph")].rate / cells[(op, n, "PostGraphile")].rate
            rows.append([*row, f"{ratio:.2f}"])
    return table(header, rows)


def markdown(lines: list[str]) -> list[str]:
    """The terminal table as a Markdown one (columns split on two or more spaces)."""
    cells = [[c.strip() for c in line.split("  ") if c.strip()] for line in lines]
    out = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    return out + ["| " + " | ".join(row) + " |" for row in cells[2:] if row]


# --------------------------------------------------------------------------
# Databases and servers
# --------------------------------------------------------------------------


async def clone_for_peer(admin_url: str, url: str, stack: AsyncExitStack) -> str:
    """A copy of the seeded database with row-level security and column grants."""
    source = make_url(url)
    name = f"{source.database}_peer"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    stack.push_async_callback(admin.dispose)
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"')

    async def drop() -> None:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.push_async_callback(drop)
    peer_url = source.set(database=name)
    engine = create_async_engine(peer_url)
    async with engine.begin() as connection:
        for statement in peer_setup.rls_statements(str(source.username)):
            await connection.exec_driver_sql(statement)
    await engine.dispose()
    return peer_url.set(drivername="postgresql").render_as_string(hide_password=False)


def targets_for(ours: str, theirs: str, url: str, dataset: Dataset) -> dict[str, Target]:
    tenant = dataset.tenants[0]
    token = staff_token(
        bench_settings(url),
        subject=f"bench-staff@{tenant.slug}",
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        role="staff",
    )
    booking = tenant.booking_ids[len(tenant.booking_ids) // 2]
    json_type = {"content-type": "application/json"}

    def bodies(queries: dict[str, str], booking_id: str) -> dict[str, bytes]:
        out = {}
        for op, (kind, first, _label) in OPERATIONS.items():
            variables: dict[str, Any] = {"first": first} if first else {"id": booking_id}
            out[op] = httpx.Request(
                "POST", "/", json={"query": queries[kind], "variables": variables}
            ).content
        return out

    return {
        "tenantgraph": Target(
            ours,
            {**json_type, "authorization": f"Bearer {token}"},
            bodies(OURS, encode_id("Booking", booking)),
        ),
        "PostGraphile": Target(
            theirs,
            {**json_type, peer_setup.TENANT_HEADER: tenant.id},
            bodies(THEIRS, base64.b64encode(json.dumps(["Booking", booking]).encode()).decode()),
        ),
    }


def server_env(url: str) -> dict[str, str]:
    """``bench_settings`` as the environment ``tenantgraph serve`` reads."""
    return {
        "TENANTGRAPH_ENV": "production",
        "TENANTGRAPH_DATABASE_URL": url,
        "TENANTGRAPH_SECRET_KEY": SECRET,
        "TENANTGRAPH_ERASURE_KEY": bench_settings(url).erasure_key,
        "TENANTGRAPH_STAFF_TOKEN_MINUTES": "600",
        "TENANTGRAPH_PRINCIPAL_RATE_LIMIT": "0",
    }


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} CPUs"


async def run(args: argparse.Namespace) -> None:
    node = peer_setup.install()
    say(f"peer      postgraphile {peer_setup.POSTGRAPHILE} on node {node}")
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(temporary_database(args.database_url))
        upgrade(database.url)
        engine = create_engine(database.url)
        per_tenant = args.bookings // args.tenants
        started = time.perf_counter()
        dataset = await seed(
            engine, tenants=args.tenants, bookings_per_tenant=per_tenant, erasable=0
        )
        await engine.dispose()
        peer_url = await clone_for_peer(args.database_url, database.url, stack)
        say(
            f"data      {database.description}: {args.tenants} x {per_tenant:,} bookings,"
            f" copied with row-level security for PostGraphile"
            f" ({time.perf_counter() - started:.0f} s)"
        )
        with ExitStack() as servers:
            ours = servers.enter_context(peer_setup.tenantgraph(server_env(database.url)))
            theirs = servers.enter_context(peer_setup.postgraphile(peer_url))
            targets = targets_for(ours, theirs, database.url, dataset)
            say(*await check_same(targets, dataset.tenants[1].id))
            say(f"before    {load_average()}")
            cells = await measure(targets, args)
            say(f"after     {load_average()}", "")
        lines = report(cells, args.connections)
        say(*lines, "")
        say(*markdown(lines), "")
        say(
            f"{args.repeats} x {args.seconds:g} s per cell and side, interleaved;"
            f" {versions()}, postgraphile {peer_setup.POSTGRAPHILE}, node {node}"
        )


def default_database_url() -> str:
    script = peer_setup.HERE / "postgres-for-tests"
    result = subprocess.run([str(script)], capture_output=True, text=True)
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit("no PostgreSQL server: pass --database-url")
    return result.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", default=None, help="admin URL that can create databases")
    parser.add_argument("--bookings", type=int, default=30_000, help="bookings in all (30,000)")
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="per cell and side")
    parser.add_argument("--repeats", type=int, default=2, help="cells per operation and side")
    parser.add_argument(
        "--connections", type=lambda s: [int(n) for n in s.split(",")], default=[1, 10]
    )
    parser.add_argument("--max-requests", type=int, default=20_000, help="per cell")
    args = parser.parse_args(argv)
    if args.tenants < 2:
        parser.error("--tenants: at least 2, to check that tenants are kept apart")
    if args.bookings < 500 * args.tenants:
        parser.error("--bookings: at least 500 per tenant, for the page of 500")
    args.database_url = args.database_url or default_database_url()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
