"""Test harness: a real SQLite file and a real PostgreSQL database, real HTTP through the ASGI app.

Every test that takes ``client`` runs once per backend. PostgreSQL comes from
``TENANTGRAPH_TEST_POSTGRES_URL`` (``scripts/test`` finds or starts a server);
with ``TENANTGRAPH_REQUIRE_POSTGRES=1`` (CI) its absence is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from basics.settings import Settings
from schema.compiled_reads import MISMATCHES
from server.app import create_app
from store.engine import create_engine, create_sessionmaker
from store.migrate import upgrade
from tests.fixtures import World, build_world

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"


@dataclass
class Backend:
    name: str
    url: str
    settings: Settings
    engine: AsyncEngine
    world: World
    statements: list[str]


async def _create_postgres_database(admin_url: str) -> tuple[str, str]:
    name = f"tenantgraph_test_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    await admin.dispose()
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(admin_url: str, name: str) -> None:
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.dispose()


def pytest_report_header() -> str:
    url = os.environ.get("TENANTGRAPH_TEST_POSTGRES_URL")
    return f"tenantgraph backends: sqlite{', postgresql' if url else ' (no PostgreSQL)'}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Backend]:
    pg_name: str | None = None
    admin_url = os.environ.get("TENANTGRAPH_TEST_POSTGRES_URL")
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "tenantgraph.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        if not admin_url:
            if os.environ.get("TENANTGRAPH_REQUIRE_POSTGRES") == "1":
                pytest.fail("TENANTGRAPH_REQUIRE_POSTGRES=1 but no TENANTGRAPH_TEST_POSTGRES_URL")
            pytest.skip("no PostgreSQL server available")
        pg_name, url = await _create_postgres_database(admin_url)
    upgrade(url)
    # The shared app is driven far faster than any client would be: the limits
    # stay on (their code runs on every request) but high; their own tests use
    # apps with low ones.
    settings = Settings(
        database_url=url,
        secret_key=TEST_SECRET,
        env="development",
        code_rate_limit=1_000_000,
        principal_rate_limit=1_000_000,
    )
    engine = create_engine(url)
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    world = await build_world(create_sessionmaker(engine), settings)
    yield Backend(request.param, url, settings, engine, world, statements)
    await engine.dispose()
    if pg_name is not None and admin_url:
        await _drop_postgres_database(admin_url, pg_name)


@pytest.fixture(scope="session")
async def client(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(backend.settings, engine=backend.engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(autouse=True)
def compiled_reads_agree() -> Iterator[None]:
    """With TENANTGRAPH_COMPILED_READS=compare, every read the test makes is answered by
    both paths; any difference between them fails the test."""
    MISMATCHES.clear()
    yield
    assert not MISMATCHES, MISMATCHES[:3]


@pytest.fixture
def world(backend: Backend) -> World:
    return backend.world


@pytest.fixture
def count_statements(backend: Backend) -> Iterator[list[str]]:
    """The SQL statements run while the test uses it (reset at the start)."""
    backend.statements.clear()
    yield backend.statements
