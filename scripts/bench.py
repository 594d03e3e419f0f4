"""How fast the service answers its everyday operations, and how that holds up.

Seeds two databases of the same shape, a base one and one ``--scale`` times
larger (``scripts/benchdata.py``, bulk inserts), and runs a fixed set of
operations through the real ASGI app over httpx, with real tokens:

* ``booking(id:)`` with its customer, vehicle, service and documents (staff);
* a page of 100 bookings with customer, vehicle and service (staff);
* a customer search by surname, 20 results with their vehicles (staff);
* ``myData`` of a person with 20 bookings at two businesses (data subject);
* ``exportMyData`` of another such person (data subject);
* ``eraseCustomer`` of a fresh customer each time (tenant_admin).

Every request is measured interleaved with its counterparts, so all of them
see the same machine load, and three ratios are reported side by side:

(a) authorization overhead: the app against the same app whose schema is
    rebuilt without ``FieldGuard`` (as ``bench_authz.py`` does), on the large
    database; target p50 ratio <= 1.10;
(b) distance from the floor: the page of 100 against the same rows fetched by
    one hand-written SQLAlchemy Core query and serialised with ``json.dumps``
    (no HTTP, no GraphQL); the two answers are checked to be equal; target
    p50 ratio <= 3.0;
(c) growth: the large database against the base one; target p50 ratio <= 1.2.

Defaults: base 3 tenants x 2,000 bookings, ``--scale 10`` (3 x 20,000). The
large side is the "3 x 20,000" dataset the operations are meant for; a 10x
step above it (3 x 200,000) takes minutes to seed on a small machine, so
growth is measured from a base ten times smaller instead. Set either with
``--tenants``, ``--bookings`` and ``--scale``. ``--quick`` runs 3 x 200 against
3 x 2,000 with fewer rounds, in well under a minute.

Usage::

    .venv/bin/python scripts/bench.py [--quick] [--json PATH] [--no-docs]
    .venv/bin/python scripts/bench.py --database-url "$(./scripts/postgres-for-tests)"
    .venv/bin/python scripts/bench.py --only search --no-docs --profile never

``--only`` measures the named operations alone (comma-separated, or repeated), so
one of them can be followed through a change without the whole run; such a run
never rewrites the docs, whose tables list every operation.

A full run (not ``--quick``) rewrites its backend's tables in
``docs/performance.md`` between ``<!-- bench:<backend>:start -->`` and
``<!-- bench:<backend>:end -->``. The exit status is 1 when a target is missed.
With ``--profile`` (or automatically, when a target is missed) the operations
over target are profiled with cProfile and the heaviest functions listed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench_results import (
    BASE,
    DOCS,
    FLOOR,
    LARGE,
    PAGE_SIZE,
    REPO,
    TARGETS,
    UNGUARDED,
    Operation,
    Probe,
    http_probe,
    markdown,
    measure,
    profile,
    ratio_lines,
    result_lines,
    write_docs,
)
from benchdata import SEARCH_TERM, Dataset, seed
from benchkit import (
    Request,
    application_schema,
    client_for,
    data_of,
    graphql_view,
    say,
    schema_variant,
    temporary_database,
    versions,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from basics.ids import encode_id
from basics.settings import Settings
from identity.tokens import staff_token, subject_token
from server.app import create_app
from store import models
from store.engine import create_engine
from store.migrate import upgrade

SECRET = "bench-secret-key-that-is-long-enough-for-hs256-0123"

PAGE_NODE = """id reference status startsAt endsAt priceOre
  customer { id name email phone }
  vehicle { id registration make model }
  service { id name durationMinutes }"""
QUERIES = {
    "lookup": "query BenchLookup($id: ID!) { booking(id: $id) { "
    + PAGE_NODE
    + " documents { id kind title sizeBytes } } }",
    "page": "query BenchPage($first: Int!) { bookings(first: $first) { edges { node { "
    + PAGE_NODE
    + " } } } }",
    "search": "query BenchSearch($q: String!) { customers(search: $q, first: 20) { edges { node {"
    " id name email phone vehicles { registration make } } } } }",
    "mydata": """query BenchMyData { myData { email controllers {
  tenant { name } source
  customer { id name email phone vehicles { registration vin }
    bookings { reference startsAt status service { name } documents { title kind } }
    documents { title issuedAt } }
  privacyRequests { type status } recipients { name fields } facts { entity categories } } } }""",
    "export": "mutation BenchExport { exportMyData(format: JSON) { filename content } }",
    "erase": "mutation BenchErase($id: ID!) { eraseCustomer(id: $id) {"
    " receipt { counts { entity outcome count } cancelledBookings } } }",
}

# --------------------------------------------------------------------------
# The floor: one Core query and json.dumps
# --------------------------------------------------------------------------


BOOKING_COLUMNS = ("id", "reference", "status", "starts_at", "ends_at", "price_ore")


def floor_statement(tenant_id: str) -> Any:
    b, c, v, s = (
        models.Booking.__table__,
        models.Customer.__table__,
        models.Vehicle.__table__,
        models.Service.__table__,
    )
    return (
        select(
            *(b.c[name] for name in BOOKING_COLUMNS),
            c.c.id.label("c_id"),
            c.c.name.label("c_name"),
            c.c.email,
            c.c.phone,
            v.c.id.label("v_id"),
            v.c.registration,
            v.c.make,
            v.c.model,
            s.c.id.label("s_id"),
            s.c.name.label("s_name"),
            s.c.duration_minutes,
        )
        .select_from(b)
        .outerjoin(c, c.c.id == b.c.customer_id)
        .outerjoin(v, v.c.id == b.c.vehicle_id)
        .join(s, s.c.id == b.c.service_id)
        .where(b.c.tenant_id == tenant_id)
        .order_by(b.c.starts_at, b.c.id)
        .limit(PAGE_SIZE)
    )


async def floor_page(engine: AsyncEngine, tenant_id: str) -> bytes:
    """The page's rows by hand: what the data costs without HTTP, GraphQL and authorization."""
    async with engine.connect() as connection:
        rows = (await connection.execute(floor_statement(tenant_id))).all()
    edges = [
        {
            "node": {
                "id": encode_id("Booking", r.id),
                "reference": r.reference,
                "status": r.status.value,
                "startsAt": r.starts_at.isoformat(),
                "endsAt": r.ends_at.isoformat(),
                "priceOre": r.price_ore,
                "customer": None
                if r.c_id is None
                else {
                    "id": encode_id("Customer", r.c_id),
                    "name": r.c_name,
                    "email": r.email,
                    "phone": r.phone,
                },
                "vehicle": None
                if r.v_id is None
                else {
                    "id": encode_id("Vehicle", r.v_id),
                    "registration": r.registration,
                    "make": r.make,
                    "model": r.model,
                },
                "service": {
                    "id": encode_id("Service", r.s_id),
                    "name": r.s_name,
                    "durationMinutes": r.duration_minutes,
                },
            }
        }
        for r in rows
    ]
    return json.dumps({"data": {"bookings": {"edges": edges}}}).encode()


# --------------------------------------------------------------------------
# One database, its apps and its requests
# --------------------------------------------------------------------------


@dataclass
class Side:
    """A seeded database, the apps serving it and the requests for each operation."""

    name: str
    engine: AsyncEngine
    settings: Settings
    dataset: Dataset
    seed_seconds: float
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    requests: dict[str, Callable[[int], Request]] = field(default_factory=dict)

    def bookings(self) -> int:
        return self.dataset.counts["bookings"]


def bench_settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        secret_key=SECRET,
        env="production",
        erasure_key="bench-erasure-key-0123456789abcdef",
        staff_token_minutes=600,
        subject_token_minutes=600,
        principal_rate_limit=0,
    )


def _always(request: Request) -> Callable[[int], Request]:
    """The same request every round."""
    return lambda _round: request


def build_requests(side: Side) -> None:
    settings, tenant = side.settings, side.dataset.tenants[0]

    def staff(role: str) -> str:
        return staff_token(
            settings,
            subject=f"bench-{role}@{tenant.slug}",
            tenant_id=tenant.id,
            tenant_slug=tenant.slug,
            role=role,
        )

    reader, admin = staff("staff"), staff("tenant_admin")
    mine = subject_token(settings, email=side.dataset.my_data_email)
    exporter = subject_token(settings, email=side.dataset.export_email)
    booking = encode_id("Booking", tenant.booking_ids[len(tenant.booking_ids) // 2])
    erasable = iter(tenant.erasable_customer_ids)
    fixed = {
        "lookup": Request(QUERIES["lookup"], {"id": booking}, reader),
        "page": Request(QUERIES["page"], {"first": PAGE_SIZE}, reader),
        "search": Request(QUERIES["search"], {"q": SEARCH_TERM}, reader),
        "mydata": Request(QUERIES["mydata"], {}, mine),
        "export": Request(QUERIES["export"], {}, exporter),
    }
    for name, request in fixed.items():
        side.requests[name] = _always(request)
    side.requests["erase"] = lambda _round: Request(
        QUERIES["erase"], {"id": encode_id("Customer", next(erasable))}, admin
    )


async def verify(large: Side, names: tuple[str, ...]) -> list[str]:
    """The comparisons are fair: same answers without the guard, the floor's rows are the app's."""
    checks = []
    for name in (n for n in ("lookup", "page", "search", "mydata") if n in names):
        request = large.requests[name](0)
        guarded = await request.send(large.clients[LARGE])
        unguarded = await request.send(large.clients[UNGUARDED])
        if data_of(guarded) != data_of(unguarded) or guarded.content != unguarded.content:
            raise RuntimeError(f"the apps with and without the guard answer {name} differently")
    checks.append("with and without FieldGuard: byte-identical answers to every query")
    if "page" not in names:
        return checks
    page = data_of(await large.requests["page"](0).send(large.clients[LARGE]))
    floor = json.loads(await floor_page(large.engine, large.dataset.tenants[0].id))["data"]
    if page != floor or len(page["bookings"]["edges"]) != PAGE_SIZE:
        raise RuntimeError("the floor query does not return the page's rows")
    checks.append(f"floor: the Core query returns the same {PAGE_SIZE} bookings, equal as JSON")
    return checks


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Everyday operations through the ASGI app: latency, authorization "
        "overhead, distance from a hand-written floor, and growth with the data."
    )
    parser.add_argument("--tenants", type=int, default=3, help="tenants (3)")
    parser.add_argument(
        "--bookings", type=int, default=None, help="bookings per tenant, base (2000; quick 200)"
    )
    parser.add_argument(
        "--scale", type=int, default=10, help="large = base x scale bookings per tenant (10)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="measured rounds (30; quick 8)")
    parser.add_argument("--warmup", type=int, default=None, help="unmeasured rounds (3; quick 2)")
    parser.add_argument("--quick", action="store_true", help="small data, few rounds")
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="cProfile the large side: operations over a target (auto), all, none",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL admin URL (postgresql+asyncpg://...); two temporary databases are "
        "created and dropped. Default: temporary SQLite files.",
    )
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="NAMES",
        help="measure only these operations, comma-separated or repeated ("
        + ", ".join(QUERIES)
        + "); implies --no-docs",
    )
    args = parser.parse_args(argv)
    args.only = _only(parser, args.only)
    args.bookings = args.bookings or (200 if args.quick else 2_000)
    args.rounds = args.rounds or (8 if args.quick else 30)
    args.warmup = args.warmup if args.warmup is not None else (2 if args.quick else 3)
    if args.tenants < 2 or args.bookings < PAGE_SIZE or args.scale < 1 or args.rounds < 2:
        parser.error("need --tenants >= 2, --bookings >= 100, --scale >= 1, --rounds >= 2")
    if args.database_url is not None and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a postgresql+asyncpg:// URL")
    return args


def _only(parser: argparse.ArgumentParser, values: list[str] | None) -> tuple[str, ...]:
    """The operations to measure, in the run's usual order; all of them by default."""
    if not values:
        return tuple(QUERIES)
    wanted = {name.strip() for value in values for name in value.split(",") if name.strip()}
    unknown = sorted(wanted - set(QUERIES))
    if unknown or not wanted:
        parser.error(
            f"--only: unknown operation {', '.join(unknown)}; choose from {', '.join(QUERIES)}"
        )
    return tuple(name for name in QUERIES if name in wanted)


async def open_side(
    stack: AsyncExitStack, name: str, admin_url: str | None, bookings: int, args: Any
) -> Side:
    database = await stack.enter_async_context(temporary_database(admin_url))
    upgrade(database.url)
    settings = bench_settings(database.url)
    engine = create_engine(database.url)
    stack.push_async_callback(engine.dispose)
    erasable = (args.rounds + args.warmup + 40) * 2
    started = time.perf_counter()
    dataset = await seed(
        engine, tenants=args.tenants, bookings_per_tenant=bookings, erasable=erasable
    )
    side = Side(name, engine, settings, dataset, time.perf_counter() - started)
    say(
        f"data      {name}: {database.description}",
        f"          {args.tenants} x {bookings:,} bookings + named people: "
        + ", ".join(f"{v:,} {k}" for k, v in dataset.counts.items())
        + f", seeded in {side.seed_seconds:.1f} s",
    )
    build_requests(side)
    return side


async def measure_one(name: str, base: Side, large: Side, args: argparse.Namespace) -> Operation:
    """One operation, its variants interleaved round by round."""
    probes: dict[str, Probe] = {
        BASE: http_probe(base.clients[BASE], base.requests[name]),
        LARGE: http_probe(large.clients[LARGE], large.requests[name]),
        UNGUARDED: http_probe(large.clients[UNGUARDED], large.requests[name]),
    }
    if name == "page":
        tenant_id = large.dataset.tenants[0].id

        async def floor(_round: int, tenant_id: str = tenant_id) -> bytes:
            return await floor_page(large.engine, tenant_id)

        probes[FLOOR] = floor
    return await measure(name, probes, rounds=args.rounds, warmup=args.warmup)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    backend = "postgresql" if args.database_url else "sqlite"
    report: dict[str, Any] = {
        "backend_name": "PostgreSQL" if args.database_url else "SQLite",
        "versions": versions(),
        "platform": platform.platform(),
        "parameters": {
            "tenants": args.tenants,
            "bookings_per_tenant_base": args.bookings,
            "scale": args.scale,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "quick": args.quick,
            "page_size": PAGE_SIZE,
            "search_term": SEARCH_TERM,
            "operations": list(args.only),
        },
        "targets": TARGETS,
    }
    say("tenantgraph: everyday operations", f"backend   {backend}")
    async with AsyncExitStack() as stack:
        base = await open_side(stack, BASE, args.database_url, args.bookings, args)
        large = await open_side(stack, LARGE, args.database_url, args.bookings * args.scale, args)
        report["sides"] = {
            s.name: {
                "bookings": s.bookings(),
                "counts": s.dataset.counts,
                "seed_seconds": s.seed_seconds,
            }
            for s in (base, large)
        }
        for side in (base, large):
            app = create_app(side.settings, engine=side.engine)
            side.clients[side.name] = await stack.enter_async_context(client_for(app))
        # The same app over the large database, its schema rebuilt without the guard.
        bare = create_app(large.settings, engine=large.engine)
        graphql_view(bare).schema = schema_variant(application_schema(bare), None)
        large.clients[UNGUARDED] = await stack.enter_async_context(client_for(bare))

        report["checks"] = await verify(large, args.only)
        say("", *(f"check     {c}" for c in report["checks"]))
        say(
            f"settings  env=production, {args.rounds} rounds after {args.warmup} warm-up, "
            f"interleaved {BASE}, {LARGE}, {UNGUARDED}[, {FLOOR}]",
            "versions  " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()),
        )
        operations = [await measure_one(name, base, large, args) for name in args.only]
        report["operations"] = {o.name: o.as_json() for o in operations}
        say("", *result_lines(operations), "", *ratio_lines(operations))

        over = [o for o in operations if not all(o.verdicts().values())]
        chosen = operations if args.profile == "always" else over
        if args.profile != "never" and chosen:
            report["profile"] = {}
            for o in chosen:
                lines = await profile(
                    http_probe(large.clients[LARGE], large.requests[o.name]), count=10
                )
                report["profile"][o.name] = lines
                say("", f"profile, {o.label} on the large database, 10 requests, by own time:")
                say(*lines)
        report["markdown"] = markdown(report, operations)
        report["within_targets"] = not over
        if not args.quick and not args.no_docs and args.only == tuple(QUERIES):
            write_docs(backend, report["markdown"])
            say("", f"rewrote the {backend} tables in {DOCS.relative_to(REPO)}")
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        say("", f"wrote {args.json}")
    return 0 if report["within_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
