"""Before and after of the read path, side by side in one run.

One seeded database (``scripts/benchdata.py``), four ways to answer the same
requests, interleaved request by request so that they share the machine's load:

* ``before``: the executor for every field, no per-document caches, and a pool
  that pings each connection on checkout (what the service did before);
* ``caches``: the executor with the parse, validation and static-check caches
  and no pre-ping;
* ``compiled``: the application as it is: covered root fields answered by one
  SQL statement that builds the JSON;
* ``floor`` (the page of 100 only): one hand-written Core query and ``json.dumps``.

Every variant's answer is checked to be identical to ``before``'s. Usage::

    .venv/bin/python scripts/bench_compiled.py [--bookings N] [--rounds R]
    .venv/bin/python scripts/bench_compiled.py --database-url "$(./scripts/postgres-for-tests)"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import AsyncExitStack
from typing import Any

import httpx
from bench import QUERIES, bench_settings, floor_page
from bench_results import PAGE_SIZE
from benchdata import SEARCH_TERM, seed
from benchkit import (
    Request,
    Summary,
    application_schema,
    client_for,
    graphql_view,
    say,
    table,
    temporary_database,
    timed,
    versions,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from basics.ids import encode_id
from identity.tokens import staff_token
from server.app import create_app
from store.engine import create_engine
from store.migrate import upgrade

VARIANTS = ("before", "caches", "compiled")
OPERATIONS = {
    "lookup": "booking(id:)",
    "page": f"bookings(first: {PAGE_SIZE})",
    "page500": "bookings(first: 500)",
    "search": "customers(search:, first: 20)",
}


def _old_engine(url: str) -> AsyncEngine:
    """The engine as configured before: a pre-ping on every checkout (PostgreSQL)."""
    if url.startswith("sqlite"):
        return create_engine(url)
    return create_async_engine(
        url, hide_parameters=True, pool_size=10, max_overflow=20, pool_pre_ping=True
    )


def _clients(
    url: str, engine: AsyncEngine, old_engine: AsyncEngine
) -> dict[str, httpx.AsyncClient]:
    settings = bench_settings(url)
    off = settings.model_copy(update={"compiled_reads": "off"})
    before = create_app(off, engine=old_engine)
    application_schema(before).document_caches = None  # type: ignore[attr-defined]
    graphql_view(before).schema = application_schema(before)
    return {
        "before": client_for(before),
        "caches": client_for(create_app(off, engine=engine)),
        "compiled": client_for(create_app(settings, engine=engine)),
    }


def _requests(url: str, dataset: Any) -> dict[str, Request]:
    settings = bench_settings(url)
    tenant = dataset.tenants[0]
    token = staff_token(
        settings,
        subject=f"bench-staff@{tenant.slug}",
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        role="staff",
    )
    booking = encode_id("Booking", tenant.booking_ids[len(tenant.booking_ids) // 2])
    return {
        "lookup": Request(QUERIES["lookup"], {"id": booking}, token),
        "page": Request(QUERIES["page"], {"first": PAGE_SIZE}, token),
        "page500": Request(QUERIES["page"], {"first": 500}, token),
        "search": Request(QUERIES["search"], {"q": SEARCH_TERM}, token),
    }


async def _measure(
    clients: dict[str, httpx.AsyncClient],
    requests: dict[str, Request],
    floor: Any,
    rounds: int,
    warmup: int,
) -> dict[str, dict[str, list[float]]]:
    samples: dict[str, dict[str, list[float]]] = {op: {} for op in requests}
    for round_number in range(warmup + rounds):
        for op, request in requests.items():
            answers = {}
            for variant in VARIANTS:
                elapsed, response = await timed(clients[variant], request)
                answers[variant] = response.json()
                if round_number >= warmup:
                    samples[op].setdefault(variant, []).append(elapsed)
            if any(answers[v] != answers["before"] for v in VARIANTS) or answers["before"].get(
                "errors"
            ):
                raise RuntimeError(f"{op}: the variants answer differently")
            if op == "page":
                started = asyncio.get_running_loop().time()
                await floor()
                if round_number >= warmup:
                    elapsed = (asyncio.get_running_loop().time() - started) * 1000
                    samples[op].setdefault("floor", []).append(elapsed)
    return samples


def _report(samples: dict[str, dict[str, list[float]]]) -> tuple[list[str], dict[str, Any]]:
    rows, figures = [], {}
    for op, by_variant in samples.items():
        p50 = {v: Summary.of(s).p50_ms for v, s in by_variant.items()}
        figures[op] = p50
        floor = p50.get("floor")
        rows.append(
            [
                OPERATIONS[op],
                *(f"{p50[v]:.1f}" for v in VARIANTS),
                f"{p50['before'] / p50['caches']:.2f}",
                f"{p50['before'] / p50['compiled']:.2f}",
                f"{floor:.1f}" if floor else "—",
                f"{p50['compiled'] / floor:.2f}" if floor else "—",
            ]
        )
    header = [
        "operation",
        "before p50 ms",
        "caches p50 ms",
        "compiled p50 ms",
        "before/caches",
        "before/compiled",
        "floor p50 ms",
        "compiled/floor",
    ]
    return table(header, rows), figures


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(temporary_database(args.database_url))
        upgrade(database.url)
        engine = create_engine(database.url)
        old_engine = _old_engine(database.url)
        stack.push_async_callback(engine.dispose)
        stack.push_async_callback(old_engine.dispose)
        dataset = await seed(engine, tenants=3, bookings_per_tenant=args.bookings, erasable=0)
        say(f"data      {database.description}: 3 x {args.bookings:,} bookings")
        clients = _clients(database.url, engine, old_engine)
        for client in clients.values():
            stack.push_async_callback(client.aclose)
        tenant_id = dataset.tenants[0].id
        samples = await _measure(
            clients,
            _requests(database.url, dataset),
            lambda: floor_page(engine, tenant_id),
            args.rounds,
            args.warmup,
        )
        lines, figures = _report(samples)
        say(
            "",
            *lines,
            "",
            f"{args.rounds} interleaved rounds after {args.warmup} warm-up; {versions()}",
        )
        return {"backend": engine.dialect.name, "p50_ms": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bookings", type=int, default=2_000, help="bookings per tenant (2,000)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="PostgreSQL admin URL; default SQLite")
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
