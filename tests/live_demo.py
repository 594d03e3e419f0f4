"""A live ``tenantgraph serve --demo`` shared by the tests that act as real clients.

The graphql-http audit, Apollo Client, Python ``gql`` and the README's own
shell blocks all talk to a real server over a real socket, seeded with the demo
data a newcomer gets from ``./scripts/serve``. Also: the JavaScript clients,
installed from ``tests/js/package-lock.json`` when ``node`` is present.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.conftest import TEST_SECRET
from tests.live_server import LiveServer, server_env, start_server

JS_DIR = Path(__file__).resolve().parent / "js"
ERASURE_KEY = "demo-erasure-key-for-the-live-client-tests-0123456789"


@dataclass
class DemoServer:
    live: LiveServer
    database_url: str
    workdir: Path

    @property
    def graphql_url(self) -> str:
        return f"{self.live.url}/graphql"

    def cli(self, *args: str) -> str:
        """``tenantgraph ARGS`` against the server's database; its stdout, stripped."""
        result = run_cli(self.database_url, *args, TENANTGRAPH_ERASURE_KEY=ERASURE_KEY)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def staff_token(self, tenant: str = "aarhus-syn", role: str = "staff") -> str:
        return self.cli("token", "staff", "--tenant", tenant, "--role", role)


@pytest.fixture(scope="session")
async def demo_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoServer]:
    workdir = tmp_path_factory.mktemp("demo-server")
    database_url = f"sqlite+aiosqlite:///{workdir / 'tenantgraph.db'}"
    env = server_env(
        database_url, secret=TEST_SECRET, extra={"TENANTGRAPH_ERASURE_KEY": ERASURE_KEY}
    )
    live = await start_server(
        env, log=workdir / "server.log", workers=1, cwd=workdir, extra_args=["--demo"]
    )
    try:
        yield DemoServer(live, database_url, workdir)
    finally:
        await live.stop()


def node() -> str | None:
    return shutil.which("node")


def js_clients() -> Path:
    """``tests/js`` with its pinned packages installed (``npm ci`` once per lock file)."""
    lock = JS_DIR / "package-lock.json"
    stamp = JS_DIR / "node_modules" / ".installed-lock"
    wanted = lock.read_text()
    if not stamp.exists() or stamp.read_text() != wanted:
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("node is present but npm is not")
        subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=JS_DIR,
            check=True,
            env={**os.environ, "npm_config_update_notifier": "false"},
            timeout=600,
        )
        stamp.write_text(wanted)
    return JS_DIR


def run_node(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``node tests/js/SCRIPT ARGS``; skips the test when node is missing."""
    binary = node()
    if binary is None:
        pytest.skip("node is not installed (.ci/run installs it)")
    directory = js_clients()
    return subprocess.run(  # noqa: S603 - node from PATH, our own script
        [binary, str(directory / script), *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
