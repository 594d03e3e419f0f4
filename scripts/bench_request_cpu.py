"""The server's CPU time per request, for one operation of ``scripts/bench_peer.py``.

Requests per second on a machine shared with other work move by a third from
one run to the next; the CPU time the server process spends per request moves
far less, and it is what the fixed cost of a request (HTTP, authentication,
limits, extensions, the session) adds up to. The script seeds a temporary
PostgreSQL database with the benchmark data, serves it as ``tenantgraph serve``
does (one uvicorn process, production settings, a staff token), warms it up,
then loads one operation with N connections for a few rounds and prints, per
round, requests per second and the server's user + system CPU time per
request (``/proc/<pid>/stat``, Linux). Usage::

    .venv/bin/python scripts/bench_request_cpu.py [--operation lookup] [--connections 10]
        [--seconds 5] [--rounds 3] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path

import bench_peer
import peer_setup
from benchdata import seed
from benchkit import say, temporary_database

from store.engine import create_engine
from store.migrate import upgrade

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def server_pid(url: str) -> int:
    """The uvicorn process listening on ``url``'s port (started by ``peer_setup``)."""
    port = url.rsplit(":", 1)[1].split("/")[0]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"server.app:serve_app" in command and port.encode() in command:
            return int(entry.name)
    raise SystemExit(f"no server process found for {url}")


async def run(args: argparse.Namespace) -> None:
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(temporary_database(args.database_url))
        upgrade(database.url)
        engine = create_engine(database.url)
        dataset = await seed(engine, tenants=3, bookings_per_tenant=args.bookings // 3, erasable=0)
        await engine.dispose()
        with ExitStack() as servers:
            ours = servers.enter_context(
                peer_setup.tenantgraph(bench_peer.server_env(database.url))
            )
            target = bench_peer.targets_for(ours, "http://unused", database.url, dataset)
            tenantgraph = target["tenantgraph"]
            pid = server_pid(ours)
            await bench_peer.run_cell(tenantgraph, args.operation, args.connections, 2.0, 10**6)
            say(f"before    {bench_peer.load_average()}")
            for _ in range(args.rounds):
                used = cpu_seconds(pid)
                cell = await bench_peer.run_cell(
                    tenantgraph, args.operation, args.connections, args.seconds, 10**6
                )
                used = cpu_seconds(pid) - used
                count = len(cell.latencies_ms)
                say(
                    f"{args.operation} at {args.connections} connections: "
                    f"{cell.rate:.0f} req/s, {1000 * used / max(count, 1):.2f} ms CPU per request"
                    f" ({count} requests)"
                )
            say(f"after     {bench_peer.load_average()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", default=None, help="admin URL that can create databases")
    parser.add_argument("--operation", default="lookup", choices=sorted(bench_peer.OPERATIONS))
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bookings", type=int, default=30_000, help="bookings in all (30,000)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        parser.error("reads the server's CPU time from /proc: Linux only")
    args.database_url = args.database_url or bench_peer.default_database_url()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
