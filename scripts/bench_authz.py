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
import cProfile
import dataclasses
import gc
import json
import logging
import math
import platform
import pstats
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FunctionType
from typing import Any

import httpx
import strawberry
from benchkit import (
    Request,
    Summary,
    application_schema,
    client_for,
    data_of,
    graphql_view,
    percentile,
    say,
    schema_variant,
    table,
    temporary_database,
    timed,
    versions,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import SchemaExtension

from authz.decisions import Authorizer
from basics.settings import Settings
from demo import DEMO_TENANT_SLUGS, seed_demo
from identity.tokens import staff_token
from schema.guard import FieldGuard
from server.app import create_app
from store import models
from store.engine import create_engine, create_sessionmaker
from store.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
TENANT = DEMO_TENANT_SLUGS[0]  # aarhus-syn
OTHER_TENANT = DEMO_TENANT_SLUGS[1]  # warms code paths without warming TENANT's decisions
SECRET = "bench-authz-secret-key-that-is-long-enough-for-hs256"
TARGET_RATIO = 1.10

GUARDED = "guarded"
UNGUARDED = "unguarded"
STATIC_ONLY = "static check only"
PASS_THROUGH = "static + no-op middleware"

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

# Where the profile looks for the guard's own work.
GUARD_MODULES = (
    "schema/guard.py",
    "authz/relations.py",
    "authz/decisions.py",
    "authz/operation_check.py",
    "graphql/execution/middleware.py",
)


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


@dataclass
class OperationResult:
    """Interleaved samples of one operation on several apps."""

    name: str
    label: str
    rounds: int
    fields_resolved: int
    response_bytes: int
    samples_ms: dict[str, list[float]]

    def summary(self, app: str) -> Summary:
        return Summary.of(self.samples_ms[app])

    def ratios(self, app: str = GUARDED) -> dict[str, float]:
        of, base = self.summary(app), self.summary(UNGUARDED)
        return {
            "p50": of.p50_ms / base.p50_ms,
            "p95": of.p95_ms / base.p95_ms,
            "mean": of.mean_ms / base.mean_ms,
        }

    def shares(self, app: str = GUARDED) -> dict[str, float]:
        """Share of ``app``'s request time that the unguarded app does not spend."""
        of, base = self.summary(app), self.summary(UNGUARDED)
        return {
            "p50": (of.p50_ms - base.p50_ms) / of.p50_ms,
            "mean": (of.mean_ms - base.mean_ms) / of.mean_ms,
        }

    def extra_ms(self, app: str = GUARDED) -> dict[str, float]:
        of, base = self.summary(app), self.summary(UNGUARDED)
        return {"p50": of.p50_ms - base.p50_ms, "mean": of.mean_ms - base.mean_ms}

    def paired_ratio(self, app: str = GUARDED) -> dict[str, float]:
        """Quartiles of the per-round ratios: each pair ran back to back, under the same load."""
        ratios = [
            of / base
            for of, base in zip(self.samples_ms[app], self.samples_ms[UNGUARDED], strict=True)
        ]
        return {
            "p25": percentile(ratios, 0.25),
            "median": percentile(ratios, 0.5),
            "p75": percentile(ratios, 0.75),
        }

    def per_field_us(self, app: str = GUARDED) -> float:
        return self.extra_ms(app)["p50"] * 1000.0 / self.fields_resolved

    def within_target(self) -> bool:
        ratios = self.ratios()
        return ratios["p50"] <= TARGET_RATIO and ratios["mean"] <= TARGET_RATIO

    def as_json(self) -> dict[str, Any]:
        others = [app for app in self.samples_ms if app != UNGUARDED]
        return {
            "operation": self.label,
            "rounds": self.rounds,
            "fields_resolved": self.fields_resolved,
            "response_bytes": self.response_bytes,
            "apps": {
                app: {**dataclasses.asdict(self.summary(app)), "samples_ms": samples}
                for app, samples in self.samples_ms.items()
            },
            "against_unguarded": {
                app: {
                    "ratio": self.ratios(app),
                    "paired_ratio": self.paired_ratio(app),
                    "authorization_share": self.shares(app),
                    "extra_ms": self.extra_ms(app),
                    "extra_us_per_field": self.per_field_us(app),
                }
                for app in others
            },
            "target_ratio": TARGET_RATIO,
            "within_target": self.within_target(),
        }


def count_fields(value: Any) -> int:
    """Fields resolved to produce a response: one per key of every object in it."""
    if isinstance(value, dict):
        return sum(1 + count_fields(item) for item in value.values())
    if isinstance(value, list):
        return sum(count_fields(item) for item in value)
    return 0


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


# --------------------------------------------------------------------------
# Schema variants and the apps that serve them
# --------------------------------------------------------------------------


class StaticCheckOnly(FieldGuard):
    """The guard's static check without its per-field middleware."""

    resolve = SchemaExtension.resolve


class PassThroughMiddleware(FieldGuard):
    """The guard's static check and a per-field middleware that only calls on."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        return _next(root, info, *args, **kwargs)


# The extension that takes FieldGuard's place in each app; None: no guard at all.
VARIANTS: dict[str, type[SchemaExtension] | None] = {
    GUARDED: FieldGuard,
    UNGUARDED: None,
    STATIC_ONLY: StaticCheckOnly,
    PASS_THROUGH: PassThroughMiddleware,
}


@dataclass(frozen=True)
class Served:
    client: httpx.AsyncClient
    schema: strawberry.Schema


@asynccontextmanager
async def serve(
    settings: Settings, engine: AsyncEngine, names: Iterable[str]
) -> AsyncIterator[dict[str, Served]]:
    """One app per variant, all over ``engine``; only their schemas differ."""
    async with AsyncExitStack() as stack:
        served: dict[str, Served] = {}
        for name in names:
            app = create_app(settings, engine=engine)
            schema = application_schema(app)
            if VARIANTS[name] is not FieldGuard:
                schema = schema_variant(schema, VARIANTS[name])
                graphql_view(app).schema = schema
            served[name] = Served(await stack.enter_async_context(client_for(app)), schema)
        yield served


def extension_identity(extension: object) -> object:
    """An extension class, or the code of a factory (each app builds its own lambdas)."""
    return extension.__code__ if isinstance(extension, FunctionType) else extension


async def verify(apps: dict[str, Served], page: Request, inspector_token: str) -> list[str]:
    """Prove that the guarded and unguarded apps differ by the guard and by nothing else."""
    guarded, unguarded = apps[GUARDED], apps[UNGUARDED]
    if FieldGuard in unguarded.schema.extensions:
        raise RuntimeError("the unguarded schema still has FieldGuard")
    if [extension_identity(e) for e in guarded.schema.extensions if e is not FieldGuard] != [
        extension_identity(e) for e in unguarded.schema.extensions
    ]:
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


class CountingAuthorizer(Authorizer):
    """An ``Authorizer`` that counts and times its Casbin ``enforce`` calls."""

    def __init__(self) -> None:
        super().__init__()
        self.enforce_calls = 0
        self.enforce_seconds = 0.0

    def enforce(self, role: str, domain: str, coordinate: str, action: str, relation: str) -> bool:
        started = time.perf_counter()
        try:
            return super().enforce(role, domain, coordinate, action, relation)
        finally:
            self.enforce_seconds += time.perf_counter() - started
            self.enforce_calls += 1

    def reset_counts(self) -> None:
        self.enforce_calls = 0
        self.enforce_seconds = 0.0


@dataclass(frozen=True)
class ColdTrial:
    authorizer_init_ms: float
    cold_ms: float
    warm_ms: float
    enforce_calls: int
    enforce_ms: float


async def decision_cache(
    settings: Settings,
    engine: AsyncEngine,
    request: Request,
    other_tenant: Request,
    *,
    trials: int,
    warm_requests: int = 5,
) -> list[ColdTrial]:
    """First request after a fresh ``Authorizer()`` against the same request once warm.

    Each trial builds a new app around a new authorizer and first serves the
    same operation to another tenant's staff: that warms every code path but
    not this tenant's decisions, which are memoised per (policy version, role
    set, domain). The next request for this tenant then pays for its decisions
    in Casbin, and for nothing else that the warm requests after it do not.
    """
    results: list[ColdTrial] = []
    for _ in range(trials):
        started = time.perf_counter()
        authorizer = CountingAuthorizer()
        init_ms = (time.perf_counter() - started) * 1000.0
        app = create_app(settings, engine=engine, authorizer=authorizer)
        async with client_for(app) as client:
            data_of(await other_tenant.send(client))
            authorizer.reset_counts()
            cold_ms, response = await timed(client, request)
            data_of(response)
            calls, enforce_ms = authorizer.enforce_calls, authorizer.enforce_seconds * 1000.0
            warm = [(await timed(client, request))[0] for _ in range(warm_requests)]
            if authorizer.enforce_calls != calls:
                raise RuntimeError("warm requests called Casbin: the decision cache missed")
        results.append(ColdTrial(init_ms, cold_ms, statistics.median(warm), calls, enforce_ms))
    return results


def decision_cache_json(trials: list[ColdTrial]) -> dict[str, Any]:
    def median(attribute: str) -> float:
        return float(statistics.median(getattr(t, attribute) for t in trials))

    return {
        "trials": [dataclasses.asdict(t) for t in trials],
        "median_authorizer_init_ms": median("authorizer_init_ms"),
        "median_cold_ms": median("cold_ms"),
        "median_warm_ms": median("warm_ms"),
        "median_cold_minus_warm_ms": median("cold_ms") - median("warm_ms"),
        "median_enforce_calls": median("enforce_calls"),
        "median_enforce_ms": median("enforce_ms"),
    }


# --------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------

FunctionKey = tuple[str, int, str]
FunctionTimes = dict[FunctionKey, tuple[int, float, float]]  # calls, own s, cumulative s


async def profile_app(client: httpx.AsyncClient, request: Request, count: int) -> FunctionTimes:
    profiler = cProfile.Profile()
    for _ in range(count):
        gc.collect()
        profiler.enable()
        await request.send(client)
        profiler.disable()
    raw: dict[FunctionKey, tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return {key: (value[1], value[2], value[3]) for key, value in raw.items()}


def function_name(key: FunctionKey) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    for prefix in (f"{REPO}/", "site-packages/"):
        if prefix in filename:
            filename = filename.split(prefix, 1)[1]
            break
    return f"{filename}:{line}({name})"


def profile_report(
    guarded: FunctionTimes, unguarded: FunctionTimes, requests: int, top: int = 15
) -> dict[str, Any]:
    per_request = 1000.0 / requests
    differences = []
    for key in guarded.keys() | unguarded.keys():
        if key[0] == __file__:  # the benchmark's own frames: profiler bookkeeping
            continue
        g_calls, g_own, _ = guarded.get(key, (0, 0.0, 0.0))
        u_calls, u_own, _ = unguarded.get(key, (0, 0.0, 0.0))
        differences.append((key, (g_own - u_own) * per_request, g_calls - u_calls))
    differences.sort(key=lambda item: item[1], reverse=True)
    guard_functions = sorted(
        (
            (key, calls, own * per_request, cumulative * per_request)
            for key, (calls, own, cumulative) in guarded.items()
            if any(module in key[0] for module in GUARD_MODULES)
        ),
        key=lambda item: item[2],
        reverse=True,
    )
    return {
        "requests_profiled": requests,
        "profiled_ms_per_request": {
            GUARDED: sum(own for _, own, _ in guarded.values()) * per_request,
            UNGUARDED: sum(own for _, own, _ in unguarded.values()) * per_request,
        },
        "largest_differences": [
            {
                "function": function_name(key),
                "extra_own_ms_per_request": extra,
                "extra_calls_per_request": calls / requests,
            }
            for key, extra, calls in differences[:top]
        ],
        "guard_functions": [
            {
                "function": function_name(key),
                "calls_per_request": calls / requests,
                "own_ms_per_request": own,
                "cumulative_ms_per_request": cumulative,
            }
            for key, calls, own, cumulative in guard_functions[:top]
        ],
    }


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def operation_lines(results: list[OperationResult]) -> list[str]:
    header = ["operation", "app", "p50 ms", "p95 ms", "mean ms", "stdev", "min ms", "ops/s"]
    rows: list[list[str]] = []
    for result in results:
        if rows:
            rows.append([])
        for app in (GUARDED, UNGUARDED):
            s = result.summary(app)
            rows.append(
                [
                    result.label if app == GUARDED else "",
                    app,
                    f"{s.p50_ms:.2f}",
                    f"{s.p95_ms:.2f}",
                    f"{s.mean_ms:.2f}",
                    f"{s.stdev_ms:.2f}",
                    f"{s.min_ms:.2f}",
                    f"{s.ops_per_s:.1f}",
                ]
            )
        r = result.ratios()
        rows.append(
            ["", "guarded/unguarded", f"{r['p50']:.3f}", f"{r['p95']:.3f}", f"{r['mean']:.3f}"]
            + [""] * 3
        )
    lines = table(header, rows)
    for result in results:
        shares, ratios, paired = result.shares(), result.ratios(), result.paired_ratio()
        verdict = "within target" if result.within_target() else "OVER TARGET"
        lines += [
            "",
            f"{result.label}: authorization share of request time "
            f"{shares['p50'] * 100:.1f} % (p50), {shares['mean'] * 100:.1f} % (mean); "
            f"guarded/unguarded p50 {ratios['p50']:.3f}, mean {ratios['mean']:.3f}, "
            f"target <= {TARGET_RATIO:.2f}: {verdict}",
            f"    per-round ratio median {paired['median']:.3f} "
            f"(quartiles {paired['p25']:.3f} to {paired['p75']:.3f}) over {result.rounds} "
            f"interleaved rounds",
            f"    {result.fields_resolved} fields resolved, "
            f"{result.response_bytes} bytes per response; guard cost "
            f"{result.per_field_us():.2f} us per resolved field (p50)",
        ]
    return lines


def breakdown_lines(result: OperationResult) -> list[str]:
    header = ["app", "p50 ms", "mean ms", "+p50 ms", "+mean ms", "us/field", "share of guard"]
    total = result.extra_ms()["p50"]
    rows = []
    for app in result.samples_ms:
        s, extra = result.summary(app), result.extra_ms(app)
        rows.append(
            [
                app,
                f"{s.p50_ms:.2f}",
                f"{s.mean_ms:.2f}",
                f"{extra['p50']:+.2f}",
                f"{extra['mean']:+.2f}",
                f"{result.per_field_us(app):.2f}",
                f"{extra['p50'] / total * 100:.0f} %" if app != UNGUARDED and total > 0 else "",
            ]
        )
    return [
        f"where the guard's time goes, {result.label}: {result.rounds} interleaved rounds "
        f"of {len(result.samples_ms)} apps; + = more than unguarded",
        *table(header, rows, left=1),
    ]


def cold_lines(label: str, figures: dict[str, Any]) -> list[str]:
    calls, enforce = figures["median_enforce_calls"], figures["median_enforce_ms"]
    each = f", {enforce * 1000.0 / calls:.0f} us each" if calls else ""
    trials = len(figures["trials"])
    return [
        f"decision cache, {label}: {trials} trial{'s' if trials != 1 else ''}, each with a fresh "
        f"Authorizer() and app warmed by {OTHER_TENANT} staff (medians)",
        f"    Authorizer() construction        {figures['median_authorizer_init_ms']:9.2f} ms",
        f"    first request, cold decisions    {figures['median_cold_ms']:9.2f} ms   "
        f"({calls:.0f} Casbin enforce calls, {enforce:.2f} ms in enforce{each})",
        f"    same request, warm decisions     {figures['median_warm_ms']:9.2f} ms   "
        "(no enforce calls)",
        f"    cold - warm                      {figures['median_cold_minus_warm_ms']:9.2f} ms",
    ]


def profile_lines(label: str, report: dict[str, Any]) -> list[str]:
    profiled = report["profiled_ms_per_request"]
    lines = [
        f"profile, {label}: cProfile over {report['requests_profiled']} requests per app "
        "(main thread; profiling inflates per-call costs: compare, do not add up)",
        f"    profiled time per request: guarded {profiled[GUARDED]:.1f} ms, "
        f"unguarded {profiled[UNGUARDED]:.1f} ms",
        "    own time added per request, guarded - unguarded:",
        "       +ms      +calls  function",
    ]
    for item in report["largest_differences"]:
        lines.append(
            f"    {item['extra_own_ms_per_request']:6.2f}  {item['extra_calls_per_request']:10.0f}"
            f"  {item['function']}"
        )
    lines += [
        "    authorization functions in the guarded app, per request:",
        "    own ms    cum ms       calls  function",
    ]
    for item in report["guard_functions"]:
        lines.append(
            f"    {item['own_ms_per_request']:6.2f}  {item['cumulative_ms_per_request']:8.2f}"
            f"  {item['calls_per_request']:10.0f}  {item['function']}"
        )
    return lines


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


async def run(args: argparse.Namespace) -> dict[str, Any]:
    customers = args.customers or max(200, math.ceil(args.bookings * 0.8))
    report: dict[str, Any] = {
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
    async with temporary_database(args.database_url) as database:
        report["backend"] = database.description
        say("tenantgraph: cost of field-level authorization", f"backend   {database.description}")
        upgrade(database.url)
        settings = Settings(
            database_url=database.url,
            secret_key=SECRET,
            env="production",
            max_page_size=max(500, args.bookings),
        )
        engine = create_engine(database.url)
        try:
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

            def token(slug: str, role: str) -> str:
                return staff_token(
                    settings,
                    subject=f"bench-{role}@{slug}",
                    tenant_id=tenant_ids[slug],
                    tenant_slug=slug,
                    role=role,
                )

            def a_booking_id(page_data: dict[str, Any]) -> str:
                nodes = [edge["node"] for edge in page_data["bookings"]["edges"]]
                full = [n for n in nodes if n["documents"] and n["vehicle"] and n["customer"]]
                booking_id: str = (full or nodes)[0]["id"]
                return booking_id

            staff, other_staff = token(TENANT, "staff"), token(OTHER_TENANT, "staff")
            page = Request(PAGE_QUERY, {"first": args.bookings}, staff)
            other_page = Request(PAGE_QUERY, {"first": args.bookings}, other_staff)

            async with serve(settings, engine, (GUARDED, UNGUARDED)) as apps:
                checks = await verify(apps, page, token(TENANT, "inspector"))
                report["checks"] = checks
                say("", *(f"check     {check}" for check in checks))
                client = apps[GUARDED].client
                lookup = Request(
                    LOOKUP_QUERY, {"id": a_booking_id(data_of(await page.send(client)))}, staff
                )
                other_lookup = Request(
                    LOOKUP_QUERY,
                    {"id": a_booking_id(data_of(await other_page.send(client)))},
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

            requests = {"page": page, "lookup": lookup}
            explain = [
                r
                for r in results
                if args.profile == "always" or (args.profile == "auto" and not r.within_target())
            ]
            if explain:
                report["breakdown"], report["profile"] = {}, {}
                async with serve(settings, engine, VARIANTS) as variants:
                    for result in explain:
                        request = requests[result.name]
                        rounds = result.rounds
                        breakdown = await measure(
                            variants,
                            request,
                            name=result.name,
                            label=result.label,
                            rounds=rounds,
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

            report["decision_cache"] = {}
            for result, request, other in (
                (results[0], page, other_page),
                (results[1], lookup, other_lookup),
            ):
                trials = await decision_cache(
                    settings, engine, request, other, trials=args.cold_trials
                )
                figures = decision_cache_json(trials)
                report["decision_cache"][result.name] = figures
                say("", *cold_lines(result.label, figures))
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
