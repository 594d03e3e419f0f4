"""What field-level authorization costs a request, measured side by side.

Field-level authorization runs twice per operation: a static check walks the
operation against the caller's memoised decisions before any resolver runs
(``FieldGuard.on_execute``), and a middleware checks every field of every row
against that row's relation to the caller while the operation executes
(``FieldGuard.resolve``). Its cost grows with the number of fields resolved, so
it is measured on the widest read a client may make: a page of 500 bookings
with their customer, vehicle, service and documents, as ``staff`` of the first
demo tenant; and on one ``booking(id:)`` lookup with the same selection.

Two ASGI apps serve the same engine and the same database:

* ``guarded``: the real application, ``create_app(settings, engine=engine)``;
* ``unguarded``: the same application whose GraphQL view holds a schema built
  here from the real one (same types, same config) with every extension of the
  real schema except ``FieldGuard``.

Everything else is shared: authentication, the request context, the row scope
in SQL, the DataLoaders, serialisation. Their difference is the cost of
field-level authorization and nothing else. They are measured in one process,
interleaved request by request (guarded, unguarded, guarded, ...), so both see
the same machine load, cache state and database; two separate runs could not
promise that, and a difference of a few per cent would drown in run-to-run
noise.

Before measuring, the script proves the comparison fair: the unguarded schema
has the same SDL and lacks only ``FieldGuard``, an inspector reading
``Customer.email`` is refused by the guarded app and answered by the unguarded
one, and both apps return byte-identical responses to the staff operations
(checked on every round).

It also measures the decision cache: the first request after a fresh
``Authorizer()``, whose decisions all come from Casbin's ``enforce``, against
the same request once they are memoised.

When the guard costs more than the target (guarded/unguarded above 1.10), or
with ``--profile always``, the guard's cost is split into its parts by two more
schema variants, measured interleaved with the first two: the static check
alone, and the static check plus a middleware that only calls the next
resolver (the price of having a per-field middleware at all). Both apps are
then profiled with cProfile, and the functions whose own time grows most are
listed.

Usage::

    .venv/bin/python scripts/bench_authz.py [--bookings N] [--rounds R] [--json PATH]
    .venv/bin/python scripts/bench_authz.py --database-url "$(./scripts/postgres-for-tests)"

With ``--database-url`` (a PostgreSQL URL whose role may create databases) a
temporary database is created, used and dropped; otherwise a temporary SQLite
file is used. The exit status is 0 when both operations are within the target
and 1 when either is not.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench_authz_apps import (
    GUARDED,
    OTHER_TENANT,
    UNGUARDED,
    VARIANTS,
    Served,
    decision_cache,
    decision_cache_json,
    extension_identity,
    serve,
)
from bench_authz_report import (
    TARGET_RATIO,
    OperationResult,
    breakdown_lines,
    cold_lines,
    count_fields,
    operation_lines,
    profile_app,
    profile_lines,
    profile_report,
)
from benchkit import (
    NothingDenied,
    Request,
    data_of,
    say,
    temporary_database,
    timed,
    versions,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from basics.settings import Settings
from demo import DEMO_TENANT_SLUGS, seed_demo
from identity.tokens import staff_token
from schema.guard import FieldGuard
from store import models
from store.engine import create_engine, create_sessionmaker
from store.migrate import upgrade

TENANT = DEMO_TENANT_SLUGS[0]  # aarhus-syn

SECRET = "bench-authz-secret-key-that-is-long-enough-for-hs256"


NODE_SELECTION = """
  id reference status startsAt endsAt priceOre customerNotes
  customer { id name email phone }
  vehicle { id registration vin make model }
  service { id name durationMinutes }
  documents { id kind title sizeBytes }
"""
PAGE_QUERY = (
    "query BenchPage($first: Int!) { bookings(first: $first) { edges { node {"
    + NODE_SELECTION
    + "} } } }"
)
LOOKUP_QUERY = "query BenchLookup($id: ID!) { booking(id: $id) {" + NODE_SELECTION + "} }"
INSPECTOR_QUERY = "{ customers(first: 1) { edges { node { name email } } } }"


# --------------------------------------------------------------------------
# Database
# --------------------------------------------------------------------------


async def tenant_ids_and_bookings(engine: AsyncEngine) -> tuple[dict[str, str], dict[str, int]]:
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        tenants = await session.execute(select(models.Tenant.slug, models.Tenant.id))
        ids = {slug: tenant_id for slug, tenant_id in tenants}
        bookings = await session.execute(
            select(models.Tenant.slug, func.count(models.Booking.id))
            .join(models.Booking, models.Booking.tenant_id == models.Tenant.id)
            .group_by(models.Tenant.slug)
        )
        counts = {slug: count for slug, count in bookings}
    return ids, counts


async def verify(apps: dict[str, Served], page: Request, inspector_token: str) -> list[str]:
    """Prove that the guarded and unguarded apps differ by the guard and by nothing else."""
    guarded, unguarded = apps[GUARDED], apps[UNGUARDED]
    if FieldGuard in unguarded.schema.extensions:
        raise RuntimeError("the unguarded schema still has FieldGuard")
    # In the guard's place the unguarded schema has ``NothingDenied``: no field
    # checks, the static check on record as denying nothing.
    if [
        NothingDenied if e is FieldGuard else extension_identity(e)
        for e in guarded.schema.extensions
    ] != [extension_identity(e) for e in unguarded.schema.extensions]:
        raise RuntimeError("the unguarded schema's extensions differ by more than FieldGuard")
    if str(guarded.schema) != str(unguarded.schema):
        raise RuntimeError("the unguarded schema's SDL differs from the application's")
    checks = ["unguarded schema: same SDL, same extensions but FieldGuard"]

    inspector = Request(INSPECTOR_QUERY, {}, inspector_token)
    execution_log = logging.getLogger("strawberry.execution")
    level = execution_log.level
    execution_log.setLevel(logging.CRITICAL)  # the refusal below is expected
    try:
        refused = (await inspector.send(guarded.client)).json()
    finally:
        execution_log.setLevel(level)
    codes = [e.get("extensions", {}).get("code") for e in refused.get("errors") or []]
    if refused.get("data") is not None or codes != ["FORBIDDEN"]:
        raise RuntimeError(f"guarded app did not refuse Customer.email to inspector: {refused}")
    answered = data_of(await inspector.send(unguarded.client))
    email = answered["customers"]["edges"][0]["node"]["email"]
    if not isinstance(email, str) or "@" not in email:
        raise RuntimeError(f"unguarded app did not answer Customer.email: {answered}")
    checks.append("inspector reading Customer.email: guarded FORBIDDEN, unguarded answered")

    first, second = await page.send(guarded.client), await page.send(unguarded.client)
    if data_of(first) != data_of(second) or first.content != second.content:
        raise RuntimeError("the two apps answer the staff page differently")
    checks.append("staff page: byte-identical responses from both apps")
    return checks


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


async def measure(
    apps: dict[str, Served],
    request: Request,
    *,
    name: str,
    label: str,
    rounds: int,
    warmup: int,
) -> OperationResult:
    """Interleave the apps request by request; every response must match the first."""
    reference = await request.send(next(iter(apps.values())).client)
    result = OperationResult(
        name=name,
        label=label,
        rounds=rounds,
        fields_resolved=count_fields(data_of(reference)),
        response_bytes=len(reference.content),
        samples_ms={app: [] for app in apps},
    )
    for round_number in range(-warmup, rounds):
        for app, served in apps.items():
            elapsed_ms, response = await timed(served.client, request)
            if response.content != reference.content:
                raise RuntimeError(f"{app} answered {name} differently in round {round_number}")
            if round_number >= 0:
                result.samples_ms[app].append(elapsed_ms)
    return result


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Cost of field-level authorization: the real app against the same app "
        "without FieldGuard, interleaved over one database."
    )
    parser.add_argument(
        "--bookings", type=int, default=500, help="page size of the bookings operation (500)"
    )
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds of the page (30)")
    parser.add_argument(
        "--lookup-rounds", type=int, default=300, help="measured rounds of booking(id:) (300)"
    )
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured rounds first (5)")
    parser.add_argument(
        "--customers",
        type=int,
        default=None,
        help="demo customers per tenant (default: 0.8 x --bookings, at least 200)",
    )
    parser.add_argument(
        "--cold-trials", type=int, default=5, help="fresh-Authorizer trials per operation (5)"
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="break the guard's cost down and profile it: when over target (auto), always, never",
    )
    parser.add_argument(
        "--profile-requests", type=int, default=10, help="page requests profiled per app (10)"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL (postgresql+asyncpg://...) whose role may create databases; "
        "a temporary database is created and dropped. Default: a temporary SQLite file.",
    )
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    args = parser.parse_args(argv)
    if args.bookings < 1 or min(args.rounds, args.lookup_rounds) < 2 or args.warmup < 0:
        parser.error("--bookings must be >= 1, --rounds and --lookup-rounds >= 2, --warmup >= 0")
    if min(args.cold_trials, args.profile_requests) < 1:
        parser.error("--cold-trials and --profile-requests must be >= 1")
    if args.database_url is not None and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a postgresql+asyncpg:// URL")
    return args


def _token(settings: Settings, tenant_ids: dict[str, str], slug: str, role: str) -> str:
    return staff_token(
        settings,
        subject=f"bench-{role}@{slug}",
        tenant_id=tenant_ids[slug],
        tenant_slug=slug,
        role=role,
    )


def _a_booking_id(page_data: dict[str, Any]) -> str:
    """A booking of the page with documents, a vehicle and a customer, when there is one."""
    nodes = [edge["node"] for edge in page_data["bookings"]["edges"]]
    full = [n for n in nodes if n["documents"] and n["vehicle"] and n["customer"]]
    booking_id: str = (full or nodes)[0]["id"]
    return booking_id


def _parameters(args: argparse.Namespace, customers: int) -> dict[str, Any]:
    return {
        "versions": versions(),
        "platform": platform.platform(),
        "parameters": {
            "bookings": args.bookings,
            "rounds": args.rounds,
            "lookup_rounds": args.lookup_rounds,
            "warmup": args.warmup,
            "customers_per_tenant": customers,
            "cold_trials": args.cold_trials,
            "profile": args.profile,
            "target_ratio": TARGET_RATIO,
        },
    }


async def _seed(
    args: argparse.Namespace, engine: AsyncEngine, customers: int, report: dict[str, Any]
) -> dict[str, str]:
    """The demo data, big enough for the page; the tenants' ids by slug."""
    started = time.perf_counter()
    summary = await seed_demo(create_sessionmaker(engine), customers_per_tenant=customers)
    seed_s = time.perf_counter() - started
    tenant_ids, booking_counts = await tenant_ids_and_bookings(engine)
    in_tenant = booking_counts.get(TENANT, 0)
    report["data"] = {**dataclasses.asdict(summary), "bookings_by_tenant": booking_counts}
    say(
        f"data      seed_demo(customers_per_tenant={customers}) in {seed_s:.1f} s: "
        f"{summary.customers} customers, {summary.bookings} bookings, "
        f"{summary.documents} documents",
        f"          {TENANT}: {in_tenant} bookings (the page needs {args.bookings})",
    )
    if in_tenant < args.bookings:
        raise SystemExit(
            f"{TENANT} has {in_tenant} bookings, fewer than --bookings {args.bookings}; "
            "raise --customers"
        )
    say(
        f"settings  env=production, page size {args.bookings}, warm-up {args.warmup} "
        f"rounds, then {args.rounds} (page) and {args.lookup_rounds} (lookup) rounds "
        f"interleaved {GUARDED}, {UNGUARDED}, {GUARDED}, ...",
        "versions  " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()),
    )
    return tenant_ids


async def _explain(
    args: argparse.Namespace,
    settings: Settings,
    engine: AsyncEngine,
    results: list[OperationResult],
    requests: dict[str, Request],
    report: dict[str, Any],
) -> None:
    """Break down and profile the operations over target (or all, with --profile always)."""
    explain = [
        r
        for r in results
        if args.profile == "always" or (args.profile == "auto" and not r.within_target())
    ]
    if not explain:
        return
    report["breakdown"], report["profile"] = {}, {}
    async with serve(settings, engine, VARIANTS) as variants:
        for result in explain:
            breakdown = await measure(
                variants,
                requests[result.name],
                name=result.name,
                label=result.label,
                rounds=result.rounds,
                warmup=args.warmup,
            )
            report["breakdown"][result.name] = breakdown.as_json()
            say("", *breakdown_lines(breakdown))
        for result in explain:
            request = requests[result.name]
            count = args.profile_requests * (1 if result.name == "page" else 20)
            guarded = await profile_app(variants[GUARDED].client, request, count)
            unguarded = await profile_app(variants[UNGUARDED].client, request, count)
            profiled = profile_report(guarded, unguarded, count)
            report["profile"][result.name] = profiled
            say("", *profile_lines(result.label, profiled))


async def _compare(
    args: argparse.Namespace, settings: Settings, engine: AsyncEngine, report: dict[str, Any]
) -> None:
    """The guarded and unguarded apps, page and lookup, then the decision cache cold."""
    tenant_ids = await _seed(args, engine, report["parameters"]["customers_per_tenant"], report)
    staff = _token(settings, tenant_ids, TENANT, "staff")
    other_staff = _token(settings, tenant_ids, OTHER_TENANT, "staff")
    page = Request(PAGE_QUERY, {"first": args.bookings}, staff)
    other_page = Request(PAGE_QUERY, {"first": args.bookings}, other_staff)
    async with serve(settings, engine, (GUARDED, UNGUARDED)) as apps:
        checks = await verify(apps, page, _token(settings, tenant_ids, TENANT, "inspector"))
        report["checks"] = checks
        say("", *(f"check     {check}" for check in checks))
        client = apps[GUARDED].client
        lookup = Request(
            LOOKUP_QUERY, {"id": _a_booking_id(data_of(await page.send(client)))}, staff
        )
        other_lookup = Request(
            LOOKUP_QUERY,
            {"id": _a_booking_id(data_of(await other_page.send(client)))},
            other_staff,
        )
        results = [
            await measure(
                apps,
                page,
                name="page",
                label=f"bookings(first: {args.bookings})",
                rounds=args.rounds,
                warmup=args.warmup,
            ),
            await measure(
                apps,
                lookup,
                name="lookup",
                label="booking(id:)",
                rounds=args.lookup_rounds,
                warmup=args.warmup * 4,
            ),
        ]
    report["operations"] = {r.name: r.as_json() for r in results}
    say("", *operation_lines(results))
    await _explain(args, settings, engine, results, {"page": page, "lookup": lookup}, report)
    report["decision_cache"] = {}
    for result, request, other in (
        (results[0], page, other_page),
        (results[1], lookup, other_lookup),
    ):
        trials = await decision_cache(settings, engine, request, other, trials=args.cold_trials)
        figures = decision_cache_json(trials)
        report["decision_cache"][result.name] = figures
        say("", *cold_lines(result.label, figures))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    customers = args.customers or max(200, math.ceil(args.bookings * 0.8))
    report = _parameters(args, customers)
    async with temporary_database(args.database_url) as database:
        report["backend"] = database.description
        say("tenantgraph: cost of field-level authorization", f"backend   {database.description}")
        upgrade(database.url)
        settings = Settings(
            database_url=database.url,
            secret_key=SECRET,
            env="production",
            erasure_key="bench-erasure-key-0123456789abcdef",
            max_page_size=max(500, args.bookings),
        )
        engine = create_engine(database.url)
        try:
            await _compare(args, settings, engine, report)
        finally:
            await engine.dispose()
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        say("", f"wrote {args.json}")
    return 0 if all(o["within_target"] for o in report["operations"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
