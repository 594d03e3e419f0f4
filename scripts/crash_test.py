#!/usr/bin/env python
"""Crash safety: SIGKILL the server under write load, restart it, lose nothing.

A booking whose confirmation a client has seen must survive the server being
killed at any instant, and a slot must never end up holding more than its
capacity. This script starts ``tenantgraph serve`` (uvicorn, ``--workers 2``
by default), drives concurrent writes at a handful of popular slots, staff
``createBooking`` and online ``startBooking`` + ``completeBooking`` mixed, and
records every booking whose confirmation came back. In the middle of the load
it kills the server's whole process group with SIGKILL, so transactions are
cut off wherever they are. Then, on the database exactly as the crash left it:

* every confirmed booking is there, ``CONFIRMED``;
* no slot holds more active bookings plus live holds than its capacity;
* the database is intact: SQLite ``PRAGMA integrity_check`` and
  ``foreign_key_check``; PostgreSQL ``bt_index_check`` (amcheck) on every
  index when the extension can be created, otherwise a full scan of every
  table compared with a scan of its primary key, and an orphan check of every
  foreign key;
* every tenant's audit hash chain still verifies;

and after the restart the server lists every confirmed booking over HTTP.
This repeats for ``--kills`` kills; a summary follows, exit status 1 on any loss.

    .venv/bin/python scripts/crash_test.py                    # a new SQLite file
    .venv/bin/python scripts/crash_test.py --kills 5 --seconds 4
    .venv/bin/python scripts/crash_test.py --database-url "$(./scripts/postgres-for-tests)"

With a PostgreSQL ``--database-url`` (a role that may create databases) a
temporary database is created on that server and dropped afterwards. The
server's booking rate limit is raised so the single-address clients are never
refused for it; that is said in the output.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# The repository root, for the live-server helper the tests share.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from crash_checks import check_database
from sqlalchemy.engine import make_url

from basics.ids import encode_id
from basics.settings import Settings
from demo.rows import insert_shop
from identity import tokens
from store.migrate import upgrade
from tests.live_server import LiveServer, ServerFailed, scratch_database, server_env, start_server

ZONE = ZoneInfo("Europe/Copenhagen")
ALL_DAY = {d: [["06:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
RAISED_LIMITS = {
    "TENANTGRAPH_BOOKING_RATE_LIMIT": str(10**9),
    "TENANTGRAPH_PRINCIPAL_RATE_LIMIT": str(10**9),
}
CREATE_CUSTOMER = """mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } } }"""
CREATE_BOOKING = """mutation($input: CreateBookingInput!) {
  createBooking(input: $input) { booking { reference } } }"""
START = """mutation($slug: String!, $service: ID!, $at: DateTime!) {
  startBooking(tenantSlug: $slug, serviceId: $service, startsAt: $at) { draft { holdLive } } }"""
COMPLETE = """mutation($input: CompleteBookingInput!) {
  completeBooking(input: $input) { reference } }"""
LIST = """query($after: String) {
  bookings(first: 500, after: $after) {
    edges { node { reference status } } pageInfo { hasNextPage endCursor } } }"""
HOT_SLOTS = 4
HOT_SHARE = 0.25
# The one refusal a write may get here: the slot is full.
EXPECTED_REFUSAL = "CONFLICT"
KILLED = "no answer (server killed)"


@dataclass
class Shop:
    slug: str
    service_id: str
    service_gid: str
    capacity: int
    staff_token: str
    slots: list[str]
    customers: list[str] = field(default_factory=list)

    def pick(self, rng: random.Random) -> str:
        """A quarter of the writes race for the first few slots; the rest spread out."""
        return rng.choice(self.slots[:HOT_SLOTS] if rng.random() < HOT_SHARE else self.slots)


@dataclass
class Load:
    """What the clients saw; ``confirmed`` maps a booking reference to its slot."""

    confirmed: dict[str, str] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    # Set at each confirmation: the load is flowing, the kill timer may start.
    flowing: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Round:
    kill: int
    load_seconds: float
    confirmed: int
    outcomes: Counter[str]
    missing: list[str]
    overbooked: int
    integrity: list[str]
    restart_seconds: float
    unlisted: list[str]

    @property
    def unexpected(self) -> int:
        return sum(
            n
            for outcome, n in self.outcomes.items()
            if outcome != KILLED and outcome.split()[-1] not in {"confirmed", EXPECTED_REFUSAL}
        )

    @property
    def ok(self) -> bool:
        return not (
            self.missing or self.overbooked or self.integrity or self.unlisted or self.unexpected
        )


def slot_times(first_day: date, days: int, per_day: int, minutes: int) -> Iterator[datetime]:
    """Grid times from 08:00 local on consecutive days."""
    for d in range(days):
        start = datetime.combine(first_day + timedelta(days=d), datetime.min.time(), tzinfo=ZONE)
        for i in range(per_day):
            yield (start + timedelta(hours=8, minutes=minutes * i)).astimezone(UTC)


async def create_shop(database_url: str, secret: str, args: argparse.Namespace) -> Shop:
    """A tenant of the crash test's own, open all day every day, one service."""
    slug, tenant_id, service_id = await insert_shop(
        database_url, "crash", ALL_DAY, 15, args.capacity
    )
    settings = Settings(database_url=database_url, secret_key=secret)
    token = tokens.staff_token(
        settings, subject="crash@test", tenant_id=tenant_id, tenant_slug=slug, role="staff"
    )
    first_day = datetime.now(ZONE).date() + timedelta(days=2)
    slots = [t.isoformat() for t in slot_times(first_day, args.days, args.slots_per_day, 15)]
    return Shop(slug, service_id, encode_id("Service", service_id), args.capacity, token, slots)


def code_of(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return str(errors[0].get("extensions", {}).get("code")) if errors else None


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return body


async def add_customers(url: str, shop: Shop, count: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        http.headers["Authorization"] = f"Bearer {shop.staff_token}"
        for i in range(count):
            person = {"name": f"Kunde {i}", "phone": f"+4528{i:06d}", "createdVia": "PHONE"}
            body = await post(http, CREATE_CUSTOMER, {"input": person})
            if code_of(body):
                raise SystemExit(f"could not create a customer: {body}")
            shop.customers.append(body["data"]["createCustomer"]["customer"]["id"])


@dataclass(frozen=True)
class Answer:
    """The slot asked for, and the reference of the confirmed booking or the error code."""

    at: str
    reference: str | None = None
    code: str | None = None


async def staff_booking(http: httpx.AsyncClient, shop: Shop, rng: random.Random) -> Answer:
    at = shop.pick(rng)
    values = {
        "customerId": rng.choice(shop.customers),
        "serviceId": shop.service_gid,
        "startsAt": at,
    }
    body = await post(http, CREATE_BOOKING, {"input": values})
    if code := code_of(body):
        return Answer(at, code=code)
    return Answer(at, reference=body["data"]["createBooking"]["booking"]["reference"])


async def online_booking(http: httpx.AsyncClient, shop: Shop, rng: random.Random) -> Answer:
    """A new browser (an empty cookie jar): hold a slot, then complete the booking."""
    http.cookies.clear()
    at = shop.pick(rng)
    body = await post(http, START, {"slug": shop.slug, "service": shop.service_gid, "at": at})
    if code := code_of(body):
        return Answer(at, code=code)
    tag = uuid.uuid4().hex[:10]
    person = {
        "name": f"Online {tag}",
        "email": f"crash-{tag}@example.dk",
        "phone": f"+4528{rng.randint(0, 999_999):06d}",
    }
    body = await post(http, COMPLETE, {"input": person})
    if code := code_of(body):
        return Answer(at, code=code)
    return Answer(at, reference=body["data"]["completeBooking"]["reference"])


async def client(url: str, shop: Shop, load: Load, stop: asyncio.Event) -> None:
    """Books until the server dies under it; only answered bookings count as confirmed."""
    rng = random.Random()
    async with (
        httpx.AsyncClient(base_url=url, timeout=30) as staff,
        httpx.AsyncClient(base_url=url, timeout=30) as browser,
    ):
        staff.headers["Authorization"] = f"Bearer {shop.staff_token}"
        while not stop.is_set():
            kind = "createBooking" if rng.random() < 0.5 else "completeBooking"
            try:
                if kind == "createBooking":
                    answer = await staff_booking(staff, shop, rng)
                else:
                    answer = await online_booking(browser, shop, rng)
            except (httpx.TransportError, ValueError):
                # Cut off by the kill, or refused once the server is down: outcome unknown.
                load.outcomes[KILLED] += 1
                await stop.wait()
                return
            if answer.reference is None:
                load.outcomes[f"{kind} {answer.code}"] += 1
            else:
                load.confirmed[answer.reference] = answer.at
                load.flowing.set()
                load.outcomes[f"{kind} confirmed"] += 1


async def listed_over_http(url: str, shop: Shop) -> set[str]:
    found: set[str] = set()
    after = None
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        http.headers["Authorization"] = f"Bearer {shop.staff_token}"
        while True:
            body = await post(http, LIST, {"after": after})
            if code_of(body):
                raise SystemExit(f"listing bookings failed: {body}")
            page = body["data"]["bookings"]
            found |= {
                e["node"]["reference"] for e in page["edges"] if e["node"]["status"] == "CONFIRMED"
            }
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="tenantgraph-crash-"))
    rng = random.Random(args.seed)
    async with scratch_database(args.database_url, workdir, "crash") as database_url:
        upgrade(database_url)
        secret = secrets.token_urlsafe(48)
        env = server_env(database_url, secret=secret, extra=RAISED_LIMITS, inherit=True)
        shop = await create_shop(database_url, secret, args)
        log = workdir / "server.log"

        async def serve() -> tuple[LiveServer, float]:
            began = time.perf_counter()
            try:
                server = await start_server(env, log=log, workers=args.workers)
            except ServerFailed as exc:
                raise SystemExit(f"the server did not come back: {exc}") from None
            return server, time.perf_counter() - began

        server, _ = await serve()
        await add_customers(server.url, shop, args.customers)
        print(f"database       {redact(database_url)}")
        print(
            f"server         tenantgraph serve --workers {args.workers}; rate limits raised "
            f"({', '.join(f'{k}={v}' for k, v in RAISED_LIMITS.items())}) so "
            f"the one-address clients are not refused; log {log}"
        )
        print(
            f"load           {args.clients} clients, staff createBooking and online "
            f"startBooking+completeBooking, {len(shop.slots)} slots of capacity {shop.capacity}"
        )
        load = Load()
        rounds: list[Round] = []
        for kill in range(1, args.kills + 1):
            stop = asyncio.Event()
            before = Counter(load.outcomes)
            confirmed_before = len(load.confirmed)
            clients = [
                asyncio.create_task(client(server.url, shop, load, stop))
                for _ in range(args.clients)
            ]
            began = time.perf_counter()
            load.flowing.clear()
            # A fresh server answers its first writes slowly; kill once bookings flow.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(load.flowing.wait(), timeout=60)
            await asyncio.sleep(rng.uniform(args.seconds / 2, args.seconds))
            seconds = time.perf_counter() - began
            stop.set()
            await server.kill()  # SIGKILL to the whole process group, mid-write
            await asyncio.gather(*clients)
            missing, overbooked, integrity, method = await check_database(
                database_url, shop.slug, shop.service_id, shop.capacity, load.confirmed
            )
            server, restart = await serve()
            listed = await listed_over_http(server.url, shop)
            unlisted = sorted(set(load.confirmed) - listed)
            round_ = Round(
                kill,
                seconds,
                len(load.confirmed) - confirmed_before,
                load.outcomes - before,
                missing,
                overbooked,
                integrity,
                restart,
                unlisted,
            )
            rounds.append(round_)
            print(
                f"kill {kill}/{args.kills}    after {seconds:.1f} s: "
                f"{round_.confirmed} confirmed, {dict(sorted(round_.outcomes.items()))}; "
                f"missing {len(missing)}, overbooked slots {overbooked}, "
                f"integrity {integrity or 'ok'}, "
                f"back in {restart:.1f} s, not served {len(unlisted)}",
                flush=True,
            )
        await server.stop()
    return summarise(rounds, load, method)


def redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def summarise(rounds: list[Round], load: Load, method: str) -> int:
    failed = [r for r in rounds if not r.ok]
    print(f"integrity      {method}")
    print(
        f"summary        {len(rounds)} kills, {len(load.confirmed)} confirmed bookings, "
        f"{sum(len(r.missing) for r in rounds)} lost, "
        f"{sum(r.overbooked for r in rounds)} overbooked slots, "
        f"{sum(len(r.integrity) for r in rounds)} integrity problems, "
        f"{sum(len(r.unlisted) for r in rounds)} not served after restart, "
        f"{sum(r.unexpected for r in rounds)} unexpected answers"
    )
    for r in failed:
        print(
            f"FAILED kill {r.kill}: missing {r.missing[:10]}, integrity {r.integrity[:10]}, "
            f"not served {r.unlisted[:10]}, outcomes {dict(r.outcomes)}"
        )
    print("result         " + ("FAILED" if failed else "nothing lost"))
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server (a temporary database is made); default: a new SQLite file",
    )
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument(
        "--seconds",
        type=float,
        default=4.0,
        help="load before each kill, once bookings flow: a random time between half this and this",
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--capacity", type=int, default=2, help="places per slot")
    parser.add_argument("--days", type=int, default=14, help="days of slots to book")
    parser.add_argument("--slots-per-day", type=int, default=24)
    parser.add_argument("--customers", type=int, default=20, help="customers staff book for")
    parser.add_argument("--seed", type=int, help="seed for the kill times")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
