#!/usr/bin/env python
"""Mixed load over real HTTP: many users reading and writing at once, zero errors allowed.

Each of ``--users`` concurrent users (default 50) is a staff member of one of
the demo businesses, with an httpx client of its own, and for ``--duration``
seconds (default 60) does one operation after another, chosen at random by
weight: reads (a page of bookings with customer, vehicle and service, a
customer search, a booking by id, and ``myData`` as one of the business's
customers) and writes (``createCustomer``, ``createBooking``,
``rescheduleBooking``, ``cancelBooking``). Writes go to slots after every
existing booking, each user with slots of its own, so no write is refused for
a full slot; every error answer is a failure. The report gives requests per
second, p50/p95/p99 per operation and the errors; the exit status is 1 when
there was any error.

    .venv/bin/python scripts/load.py                      # own server, a new SQLite file
    .venv/bin/python scripts/load.py --database-url "$(./scripts/postgres-for-tests)"
    .venv/bin/python scripts/load.py --url http://127.0.0.1:8000 \\
        --database-url sqlite+aiosqlite:///./tenantgraph.db

The script starts ``tenantgraph serve --workers 2`` itself (PostgreSQL: on a
temporary database it creates and drops), seeds the demo data and raises the
rate limits so the users, who share one address, are never refused for them;
the output says so. Against a running server (``--url``) it needs that
server's database (to find the demo tenants) and signing key
(``TENANTGRAPH_SECRET_KEY``, or ``.tenantgraph-secret`` in the working
directory); that server's own rate limits then apply.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# The repository root, for the live-server helper the tests share.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from basics.ids import encode_id
from basics.settings import Settings
from demo import DEMO_TENANT_SLUGS, seed_demo
from identity import tokens
from store.engine import create_engine, create_sessionmaker
from store.migrate import upgrade
from store.models import Booking, Customer, Service, Tenant
from tests.live_server import ServerFailed, running_server, scratch_database, server_env

# Raised, not switched off, so every limiter still runs on every request.
RAISED_LIMITS = {
    "TENANTGRAPH_BOOKING_RATE_LIMIT": str(10**9),
    "TENANTGRAPH_CODE_RATE_LIMIT": str(10**9),
    "TENANTGRAPH_PRINCIPAL_RATE_LIMIT": str(10**9),
}
WEIGHTS = {
    "bookingsPage": 25,
    "customerSearch": 15,
    "bookingById": 20,
    "myData": 10,
    "createCustomer": 8,
    "createBooking": 10,
    "rescheduleBooking": 6,
    "cancelBooking": 6,
}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BOOKINGS_PAGE = """query($after: String) {
  bookings(first: 20, after: $after) {
    totalCount
    edges { node { id reference startsAt status
      customer { name phone } vehicle { registration } service { name } } }
    pageInfo { hasNextPage endCursor } } }"""
CUSTOMER_SEARCH = """query($search: String!) {
  customers(search: $search, first: 20) { edges { node { id name email phone city } } } }"""
BOOKING_BY_ID = """query($id: ID!) {
  booking(id: $id) { id reference startsAt endsAt status customerNotes
    customer { name email phone } vehicle { registration make model } service { name } } }"""
MY_DATA = """{ myData { email controllers { source tenant { name }
  customer { name email phone bookings(first: 10) { reference startsAt status } } } } }"""
CREATE_CUSTOMER = """mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } } }"""
CREATE_BOOKING = """mutation($input: CreateBookingInput!) {
  createBooking(input: $input) { booking { id reference } } }"""
RESCHEDULE_BOOKING = """mutation($id: ID!, $at: DateTime!) {
  rescheduleBooking(id: $id, startsAt: $at) { booking { id startsAt } } }"""
CANCEL_BOOKING = """mutation($id: ID!) { cancelBooking(id: $id) { booking { id status } } }"""


@dataclass
class Business:
    """A demo tenant as the users see it: credentials, a service, free days, people."""

    slug: str
    id: str
    zone: ZoneInfo
    opening_hours: dict[str, list[list[str]]]
    service_gid: str
    duration: timedelta
    first_free_day: date
    surnames: list[str]
    emails: list[str]
    users: int = 0


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    recording: bool = False


def slot_times(business: Business) -> Iterator[str]:
    """Every start time inside the opening hours from the first free day on, in order.

    A tenant without opening hours takes bookings at any time; 08-16 daily then.
    """
    hours = business.opening_hours or {day: [["08:00", "16:00"]] for day in DAYS}
    day = business.first_free_day
    while True:
        for opens, closes in hours.get(DAYS[day.weekday()], []):
            at = datetime.combine(day, clock.fromisoformat(opens), tzinfo=business.zone)
            end = datetime.combine(day, clock.fromisoformat(closes), tzinfo=business.zone)
            while at + business.duration <= end:
                yield at.astimezone(UTC).isoformat()
                at += business.duration
        day += timedelta(days=1)


@dataclass
class User:
    """One staff member's session: its own client, customers, bookings and slots."""

    business: Business
    staff_token: str
    subject_token: str
    slots: Iterator[str]
    rng: random.Random
    customers: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    cursor: str | None = None


async def call(
    http: httpx.AsyncClient,
    stats: Stats,
    operation: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any] | None:
    """One operation, timed; its data, or None after counting the error."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    began = time.perf_counter()
    try:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        status: int | None = response.status_code
    except (httpx.HTTPError, ValueError) as exc:
        body = {"errors": [{"message": repr(exc), "extensions": {"code": "TRANSPORT"}}]}
        status = None
    elapsed = time.perf_counter() - began
    errors = body.get("errors")
    if status != 200 or errors:
        code = errors[0].get("extensions", {}).get("code") if errors else status
        stats.errors[f"{operation} {code}"] += 1
        if len(stats.examples) < 10:
            stats.examples.append(f"{operation}: {str(errors or body)[:300]}")
        return None
    if stats.recording:
        stats.latencies[operation].append(elapsed)
    data: dict[str, Any] = body["data"]
    return data


def person(rng: random.Random) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {
        "name": f"Belastning {tag}",
        "email": f"load-{tag}@example.dk",
        "phone": f"+4528{rng.randint(0, 999_999):06d}",
        "street": "Vestergade 12",
        "postalCode": "8000",
        "city": "Aarhus C",
        "createdVia": "PHONE",
    }


async def step(http: httpx.AsyncClient, stats: Stats, user: User) -> None:
    """One operation chosen by weight; one that needs a booking makes one when there is none."""
    rng = user.rng
    operation = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    if operation in {"rescheduleBooking", "cancelBooking"} and not user.active:
        operation = "createBooking"
    if operation == "bookingById" and not user.seen:
        operation = "bookingsPage"
    token = user.staff_token
    if operation == "bookingsPage":
        data = await call(http, stats, operation, BOOKINGS_PAGE, {"after": user.cursor}, token)
        if data:
            page = data["bookings"]
            user.seen = [e["node"]["id"] for e in page["edges"]] or user.seen
            has_next = page["pageInfo"]["hasNextPage"] and rng.random() < 0.8
            user.cursor = page["pageInfo"]["endCursor"] if has_next else None
    elif operation == "customerSearch":
        search = {"search": rng.choice(user.business.surnames)}
        await call(http, stats, operation, CUSTOMER_SEARCH, search, token)
    elif operation == "bookingById":
        await call(http, stats, operation, BOOKING_BY_ID, {"id": rng.choice(user.seen)}, token)
    elif operation == "myData":
        await call(http, stats, operation, MY_DATA, None, user.subject_token)
    elif operation == "createCustomer":
        data = await call(http, stats, operation, CREATE_CUSTOMER, {"input": person(rng)}, token)
        if data:
            user.customers.append(data["createCustomer"]["customer"]["id"])
    elif operation == "createBooking":
        values = {
            "customerId": rng.choice(user.customers),
            "serviceId": user.business.service_gid,
            "startsAt": next(user.slots),
            "customerNotes": "Booket i telefonen",
        }
        data = await call(http, stats, operation, CREATE_BOOKING, {"input": values}, token)
        if data:
            user.active.append(data["createBooking"]["booking"]["id"])
    elif operation == "rescheduleBooking":
        moved = {"id": rng.choice(user.active), "at": next(user.slots)}
        await call(http, stats, operation, RESCHEDULE_BOOKING, moved, token)
    else:
        booking = user.active.pop(rng.randrange(len(user.active)))
        await call(http, stats, operation, CANCEL_BOOKING, {"id": booking}, token)


async def user_loop(url: str, user: User, stats: Stats, deadline: float) -> int:
    requests = 0
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        data = await call(
            http,
            stats,
            "createCustomer",
            CREATE_CUSTOMER,
            {"input": person(user.rng)},
            user.staff_token,
        )
        if data:
            user.customers.append(data["createCustomer"]["customer"]["id"])
        requests += 1
        while time.perf_counter() < deadline and user.customers:
            await step(http, stats, user)
            requests += 1
    return requests


async def businesses(database_url: str) -> list[Business]:
    """The demo tenants, each with its shortest service and the first day after every booking."""
    engine = create_engine(database_url)
    found = []
    try:
        async with create_sessionmaker(engine)() as session:
            latest = (await session.execute(select(func.max(Booking.starts_at)))).scalar_one()
            for slug in DEMO_TENANT_SLUGS:
                tenant = (
                    await session.execute(select(Tenant).where(Tenant.slug == slug))
                ).scalar_one_or_none()
                if tenant is None:
                    raise SystemExit(f"no demo tenant {slug!r}: run `tenantgraph seed --demo`")
                service = (
                    (
                        await session.execute(
                            select(Service)
                            .where(Service.tenant_id == tenant.id, Service.active.is_(True))
                            .order_by(Service.duration_minutes, Service.id)
                        )
                    )
                    .scalars()
                    .first()
                )
                assert service is not None, slug
                people = (
                    await session.execute(
                        select(Customer.name, Customer.email).where(
                            Customer.tenant_id == tenant.id, Customer.email.is_not(None)
                        )
                    )
                ).all()
                zone = ZoneInfo(tenant.timezone)
                found.append(
                    Business(
                        slug=slug,
                        id=tenant.id,
                        zone=zone,
                        opening_hours=tenant.opening_hours or {},
                        service_gid=encode_id("Service", service.id),
                        duration=timedelta(minutes=service.duration_minutes),
                        first_free_day=max(
                            latest.astimezone(zone).date() if latest else date.today(),
                            date.today(),
                        )
                        + timedelta(days=2),
                        surnames=sorted({name.split()[-1] for name, _ in people}),
                        emails=[email for _, email in people if email],
                    )
                )
    finally:
        await engine.dispose()
    return found


def make_users(count: int, places: list[Business], settings: Settings) -> list[User]:
    for i in range(count):
        places[i % len(places)].users += 1
    users = []
    for i in range(count):
        business = places[i % len(places)]
        lane = i // len(places)
        rng = random.Random(i)
        users.append(
            User(
                business=business,
                staff_token=tokens.staff_token(
                    settings,
                    subject=f"load-{i}@{business.slug}",
                    tenant_id=business.id,
                    tenant_slug=business.slug,
                    role="staff",
                ),
                subject_token=tokens.subject_token(settings, email=rng.choice(business.emails)),
                # Every user its own share of the slots: no write waits for a full slot.
                slots=itertools.islice(slot_times(business), lane, None, business.users),
                rng=rng,
            )
        )
    return users


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(stats: Stats, requests: int, seconds: float, header: list[str]) -> int:
    errors = sum(stats.errors.values())
    recorded = sum(len(v) for v in stats.latencies.values())
    for line in header:
        print(line)
    print(
        f"requests        {recorded} in {seconds:.1f} s measured: "
        f"{recorded / seconds:.1f} per second"
    )
    print(f"errors          {errors} (of {requests} requests, warm-up included)")
    print()
    print("| operation | count | share | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for operation in WEIGHTS:
        values = stats.latencies.get(operation, [])
        print(
            f"| {operation} | {len(values)} | {len(values) / max(recorded, 1):.0%} | "
            f"{percentile(values, 0.5) * 1000:.1f} | {percentile(values, 0.95) * 1000:.1f} | "
            f"{percentile(values, 0.99) * 1000:.1f} |"
        )
    everything = [v for values in stats.latencies.values() for v in values]
    print(
        f"| all | {len(everything)} | 100% | {percentile(everything, 0.5) * 1000:.1f} | "
        f"{percentile(everything, 0.95) * 1000:.1f} | {percentile(everything, 0.99) * 1000:.1f} |"
    )
    if errors:
        print()
        for key, count in sorted(stats.errors.items()):
            print(f"error  {key}: {count}")
        for example in stats.examples:
            print(f"  e.g. {example}")
    return 1 if errors else 0


async def drive(
    url: str, database_url: str, settings: Settings, args: argparse.Namespace, header: list[str]
) -> int:
    users = make_users(args.users, await businesses(database_url), settings)
    stats = Stats()
    began = time.perf_counter()
    deadline = began + args.warmup + args.duration
    loops = [asyncio.create_task(user_loop(url, user, stats, deadline)) for user in users]
    await asyncio.sleep(args.warmup)
    stats.recording = True
    measured_from = time.perf_counter()
    requests = sum(await asyncio.gather(*loops))
    seconds = time.perf_counter() - measured_from
    return report(stats, requests, seconds, header)


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} CPUs ({model}), {system}, Python {platform.python_version()}"


async def run(args: argparse.Namespace) -> int:
    header = [f"machine         {machine()}"]
    common = (
        f"load            {args.users} users, {args.duration:.0f} s measured after "
        f"{args.warmup:.0f} s warm-up; weights " + ", ".join(f"{k} {v}" for k, v in WEIGHTS.items())
    )
    if args.url is not None:
        settings = Settings(database_url=args.database_url)
        settings.signing_key()
        header += [
            f"server          {args.url} (running; its own rate limits apply)",
            f"database        {make_url(args.database_url).render_as_string(hide_password=True)}",
            common,
        ]
        return await drive(args.url, args.database_url, settings, args, header)
    workdir = Path(tempfile.mkdtemp(prefix="tenantgraph-load-"))
    async with scratch_database(args.database_url, workdir, "load") as database_url:
        upgrade(database_url)
        secret = secrets.token_urlsafe(48)
        settings = Settings(database_url=database_url, secret_key=secret)
        engine = create_engine(database_url)
        try:
            await seed_demo(create_sessionmaker(engine))
        finally:
            await engine.dispose()
        env = server_env(database_url, secret=secret, extra=RAISED_LIMITS, inherit=True)
        header += [
            f"server          tenantgraph serve --workers {args.workers} (uvicorn), log "
            f"{workdir / 'server.log'}",
            f"database        {make_url(database_url).get_backend_name()} "
            f"({make_url(database_url).render_as_string(hide_password=True)}), demo data",
            "rate limits     raised so one-address users are never refused: "
            + ", ".join(f"{k}={v}" for k, v in RAISED_LIMITS.items()),
            common,
        ]
        try:
            async with running_server(
                env, log=workdir / "server.log", workers=args.workers
            ) as server:
                return await drive(server.url, database_url, settings, args, header)
        except ServerFailed as exc:
            raise SystemExit(str(exc)) from None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running server; default: start one")
    parser.add_argument(
        "--database-url",
        help="own server: PostgreSQL server for a temporary database (default: a new SQLite "
        "file); with --url: that server's database",
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds run before measuring")
    parser.add_argument("--workers", type=int, default=2, help="server processes (own server)")
    args = parser.parse_args()
    if args.url is not None and args.database_url is None:
        parser.error("--url needs --database-url: the users are set up from the server's database")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
