#!/usr/bin/env python
"""Load test of the online booking flow over HTTP, and a check that no slot was overbooked.

Many concurrent clients (default 50), each a browser with its own cookie jar,
repeat the flow a person goes through: ``availableSlots`` for a day, pick a
free slot, ``startBooking``, ``completeBooking``. Half of the flows (``--hot``)
go for the same day, so clients really race for the same slots; the rest
spread over the next year. Afterwards the database is read directly and every
slot is checked: active bookings plus live holds never above capacity.

    # start a server itself, on a fresh SQLite file
    .venv/bin/python scripts/load_booking.py --seconds 20
    # ... or on PostgreSQL (an existing, empty or migrated database)
    .venv/bin/python scripts/load_booking.py --database-url postgresql+asyncpg://u:p@host/db
    # against a running server: give its URL and its database
    .venv/bin/python scripts/load_booking.py --url http://127.0.0.1:8000 \\
        --database-url sqlite+aiosqlite:///./tenantgraph.db

A running server counts the public booking mutations per client address
(``TENANTGRAPH_BOOKING_RATE_LIMIT``) and every anonymous request per address
(``TENANTGRAPH_PRINCIPAL_RATE_LIMIT``); all clients here share one address, so
raise both on the server under test, or the report shows RATE_LIMITED.
The script sets up a shop of its own (a new tenant ``load-...``) and leaves it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# The repository root, for the live-server helper the tests share.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import select

from basics.ids import encode_id
from demo.rows import insert_shop
from store.engine import create_engine, create_sessionmaker
from store.migrate import upgrade
from store.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingDraft,
)
from store.types import utcnow
from tests.live_server import ServerFailed, running_server, server_env

ZONE = ZoneInfo("Europe/Copenhagen")
HOURS = {d: [["07:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SLOTS = """query($slug: String!, $service: ID!, $from: DateTime!, $to: DateTime!) {
  availableSlots(tenantSlug: $slug, serviceId: $service, from: $from, to: $to) {
    startsAt remaining } }"""
START = """mutation($slug: String!, $service: ID!, $at: DateTime!) {
  startBooking(tenantSlug: $slug, serviceId: $service, startsAt: $at) { draft { holdLive } } }"""
COMPLETE = """mutation($input: CompleteBookingInput!) {
  completeBooking(input: $input) { reference } }"""


@dataclass
class Shop:
    slug: str
    service_id: str
    service_gid: str
    capacity: int
    duration_minutes: int


@dataclass
class HotDay:
    """The day hot flows race for; moved on to the next day once it is full."""

    day: date

    def full(self, day: date) -> None:
        if day == self.day:
            self.day += timedelta(days=1)


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: Counter[str] = field(default_factory=Counter)


async def create_shop(database_url: str, capacity: int, duration: int) -> Shop:
    """A tenant of the load test's own, open every day, with one service."""
    slug, _, service_id = await insert_shop(database_url, "load", HOURS, duration, capacity)
    return Shop(slug, service_id, encode_id("Service", service_id), capacity, duration)


async def overbooked_slots(database_url: str, shop: Shop) -> tuple[int, int, int]:
    """(slots above capacity, active bookings, live holds), counting every overlap."""
    engine = create_engine(database_url)
    now = utcnow()
    try:
        async with create_sessionmaker(engine)() as session:
            bookings = (
                await session.execute(
                    select(Booking.starts_at, Booking.ends_at).where(
                        Booking.service_id == shop.service_id,
                        Booking.status.in_(ACTIVE_BOOKING_STATUSES),
                    )
                )
            ).all()
            holds = (
                await session.execute(
                    select(BookingDraft.starts_at, BookingDraft.ends_at).where(
                        BookingDraft.service_id == shop.service_id,
                        BookingDraft.completed_at.is_(None),
                        BookingDraft.hold_expires_at > now,
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    # Sweep: the most intervals open at once within each slot's start.
    events = sorted(
        [(start, 1) for start, _ in [*bookings, *holds]]
        + [(end, -1) for _, end in [*bookings, *holds]]
    )
    over: set[datetime] = set()
    open_now = 0
    for moment, delta in events:
        open_now += delta
        if open_now > shop.capacity:
            over.add(moment)
    return len(over), len(bookings), len(holds)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def post(
    http: httpx.AsyncClient, stats: Stats, label: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    began = time.perf_counter()
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    stats.latencies[label].append(time.perf_counter() - began)
    body: dict[str, Any] = response.json()
    return body


def code_of(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return str(errors[0].get("extensions", {}).get("code")) if errors else None


async def client_loop(
    url: str, shop: Shop, deadline: float, hot: HotDay, hot_share: float, stats: Stats
) -> None:
    """One browser booking again and again until the deadline.

    A hot flow picks among the first few free slots of the hot day, so several
    clients go for the same slot at the same moment; a cold one picks any free
    slot of a random day in the next year.
    """
    rng = random.Random()
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        while time.perf_counter() < deadline:
            is_hot = rng.random() < hot_share
            day = hot.day if is_hot else hot.day + timedelta(days=rng.randint(30, 365))
            began = time.perf_counter()
            start = datetime.combine(day, datetime.min.time(), tzinfo=ZONE).astimezone(UTC)
            body = await post(
                http,
                stats,
                "availableSlots",
                SLOTS,
                {
                    "slug": shop.slug,
                    "service": shop.service_gid,
                    "from": start.isoformat(),
                    "to": (start + timedelta(days=1)).isoformat(),
                },
            )
            if code_of(body):
                stats.outcomes[f"availableSlots {code_of(body)}"] += 1
                continue
            free = [s["startsAt"] for s in body["data"]["availableSlots"] if s["remaining"] > 0]
            if not free:
                stats.outcomes["day full"] += 1
                if is_hot:
                    hot.full(day)
                continue
            chosen = rng.choice(free[:4] if is_hot else free)
            variables = {"slug": shop.slug, "service": shop.service_gid, "at": chosen}
            body = await post(http, stats, "startBooking", START, variables)
            if code_of(body):
                stats.outcomes[f"startBooking {code_of(body)}"] += 1
                continue
            tag = uuid.uuid4().hex[:10]
            person = {
                "name": f"Last Test {tag}",
                "email": f"load-{tag}@example.dk",
                "phone": f"+4528{rng.randint(0, 999_999):06d}",
            }
            body = await post(http, stats, "completeBooking", COMPLETE, {"input": person})
            if code_of(body):
                stats.outcomes[f"completeBooking {code_of(body)}"] += 1
                continue
            stats.outcomes["booked"] += 1
            stats.latencies["whole flow"].append(time.perf_counter() - began)


@asynccontextmanager
async def own_server(database_url: str, workers: int, log: Path) -> AsyncIterator[str]:
    """``tenantgraph serve`` on a free port, the rate limit raised for one-address clients."""
    env = server_env(
        database_url,
        secret=secrets.token_urlsafe(48),
        extra={
            "TENANTGRAPH_BOOKING_RATE_LIMIT": str(10**9),
            "TENANTGRAPH_PRINCIPAL_RATE_LIMIT": str(10**9),
        },
        inherit=True,
    )
    try:
        async with running_server(env, log=log, workers=workers) as server:
            yield server.url
    except ServerFailed as exc:
        raise SystemExit(str(exc)) from None


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="tenantgraph-load-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'load.db'}"
    if args.url is None:
        upgrade(database_url)
    shop = await create_shop(database_url, args.capacity, args.duration)
    hot = HotDay(datetime.now(ZONE).date() + timedelta(days=2))
    first_hot_day = hot.day
    stats = Stats()

    async def drive(url: str) -> float:
        async with httpx.AsyncClient(base_url=url) as http:  # warm every worker up
            for _ in range(args.workers * 4):
                await http.get("/readyz")
        began = time.perf_counter()
        deadline = began + args.seconds
        await asyncio.gather(
            *(client_loop(url, shop, deadline, hot, args.hot, stats) for _ in range(args.clients))
        )
        return time.perf_counter() - began

    if args.url is None:
        async with own_server(database_url, args.workers, workdir / "server.log") as url:
            elapsed = await drive(url)
    else:
        elapsed = await drive(args.url)

    over, bookings, holds = await overbooked_slots(database_url, shop)
    backend = database_url.split(":", 1)[0]
    server = f"own server, {args.workers} workers" if args.url is None else args.url
    booked = stats.outcomes["booked"]
    print(f"backend            {backend} ({server})")
    print(f"clients / seconds  {args.clients} / {elapsed:.1f}")
    print(
        f"shop               {shop.slug}: {shop.duration_minutes}-minute slots, "
        f"capacity {shop.capacity}; hot days {first_hot_day}..{hot.day} "
        f"({args.hot:.0%} of flows)"
    )
    print(f"bookings           {booked} ({booked / elapsed:.1f} per second)")
    for outcome, count in sorted(stats.outcomes.items()):
        if outcome != "booked":
            print(f"  {outcome:<28} {count}")
    print("latency (ms)           p50      p95    count")
    for label in ("availableSlots", "startBooking", "completeBooking", "whole flow"):
        values = stats.latencies.get(label, [])
        p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
        print(f"  {label:<18} {p50:7.1f}  {p95:7.1f}  {len(values):7d}")
    print(f"database check     {bookings} active bookings, {holds} live holds")
    print(f"overbooked slots   {over}")
    return 1 if over else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running server; default: start one")
    parser.add_argument("--database-url", help="the server's database (default: a new SQLite file)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="server processes (own server only)")
    parser.add_argument("--capacity", type=int, default=2, help="places per slot")
    parser.add_argument("--duration", type=int, default=15, help="slot length in minutes")
    parser.add_argument("--hot", type=float, default=0.5, help="share of flows racing for one day")
    args = parser.parse_args()
    if args.url is not None and args.database_url is None:
        parser.error("--url needs --database-url: the check reads the server's database")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
