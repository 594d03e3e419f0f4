"""``tenantgraph serve`` as a real process tree on a free port, for tests and scripts.

The in-process ASGI client of ``conftest.py`` cannot show what only separate
processes do: requests spread over uvicorn workers by the kernel, state each
worker keeps for itself, a server killed mid-write. This module starts the
real command in a session of its own (so the whole tree can be killed at once),
waits until it answers, and tells which worker process served a connection.
It needs nothing of pytest, so the scripts in ``scripts/`` use it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ENV_PREFIX = "TENANTGRAPH_"


class ServerFailed(RuntimeError):
    """The server exited or never got ready; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    port: int
    log: Path
    process: asyncio.subprocess.Process

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def wait_ready(self, path: str = "/readyz", within: float = 60.0) -> None:
        """Until ``path`` answers 200; ``ServerFailed`` if the server exits or times out."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise ServerFailed(
                        f"server exited ({self.process.returncode}):\n" + self.log_tail()
                    )
                try:
                    if (await http.get(path)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise ServerFailed(
            f"server did not answer {path} within {within:.0f} s:\n" + self.log_tail()
        )

    def worker_pids(self) -> set[int]:
        """The uvicorn worker processes (with one worker: the server process itself)."""
        children = {pid for pid in _descendants(self.process.pid) if _is_worker(pid)}
        return children or {self.process.pid}

    def serving_pid(self, client_port: int) -> int | None:
        """The process holding the server end of the connection from ``client_port``."""
        inode = _server_socket_inode(self.port, client_port)
        if inode is None:
            return None
        wanted = f"socket:[{inode}]"
        for pid in [self.process.pid, *_descendants(self.process.pid)]:
            with contextlib.suppress(OSError):
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        if os.readlink(f"/proc/{pid}/fd/{fd}") == wanted:
                            return pid
        return None

    async def stop(self, grace: float = 20.0) -> None:
        """A graceful stop (SIGTERM to uvicorn's supervisor), then SIGKILL if it hangs."""
        if self.process.returncode is None:
            self.process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), timeout=grace)
        await self.kill()

    async def kill(self) -> None:
        """SIGKILL to every process of the server's session: a crash, not a shutdown."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        await self.process.wait()


def server_env(
    database_url: str,
    *,
    secret: str,
    extra: Mapping[str, str] | None = None,
    inherit: bool = False,
) -> dict[str, str]:
    """The server's environment; ``TENANTGRAPH_*`` of the caller only with ``inherit``."""
    env = {k: v for k, v in os.environ.items() if inherit or not k.startswith(ENV_PREFIX)}
    env.update(
        {
            "TENANTGRAPH_DATABASE_URL": database_url,
            "TENANTGRAPH_SECRET_KEY": secret,
            "TENANTGRAPH_ENV": "development",
        }
    )
    env.update(extra or {})
    return env


async def start_server(
    env: Mapping[str, str],
    *,
    log: Path,
    workers: int = 2,
    port: int | None = None,
    cwd: Path | None = None,
    ready_path: str | None = "/readyz",
    extra_args: Sequence[str] = (),
) -> LiveServer:
    """``tenantgraph serve --workers N [extra_args]`` in a new session, logging to ``log``."""
    port = port or free_port()
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *extra_args,
            env=dict(env),
            cwd=cwd or log.parent,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", port, log, process)
    if ready_path is not None:
        try:
            await server.wait_ready(ready_path)
        except BaseException:
            await server.kill()
            raise
    return server


@asynccontextmanager
async def running_server(
    env: Mapping[str, str], *, log: Path, workers: int = 2, cwd: Path | None = None
) -> AsyncIterator[LiveServer]:
    server = await start_server(env, log=log, workers=workers, cwd=cwd)
    try:
        yield server
    finally:
        await server.stop()


@asynccontextmanager
async def scratch_database(server_url: str | None, workdir: Path, label: str) -> AsyncIterator[str]:
    """A new, empty database: a SQLite file in ``workdir`` without ``server_url``,
    else a temporary PostgreSQL database on that server, dropped afterwards."""
    if server_url is None or server_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{workdir / (label + '.db')}"
        return
    name = f"tenantgraph_{label}_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                # The command name may hold spaces; the fields after it do not.
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the accepted socket ``127.0.0.1:server_port <- :client_port``."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if (
                    int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port
                ):
                    return inode
    return None
