"""Production refuses to start without its secrets, and says which ones, all at once."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from basics.settings import Settings, SettingsError
from server.app import create_app
from store.engine import create_engine
from tests.cli import run_cli
from tests.conftest import TEST_SECRET, Backend
from tests.fixtures import World
from tests.graphql_client import gql


def _serve_in_production(tmp_path: Path, **env: str) -> tuple[int, list[str], Path]:
    database = tmp_path / "production.db"
    result = run_cli(
        f"sqlite+aiosqlite:///{database}",
        "serve",
        "--port",
        "1",
        TENANTGRAPH_ENV="production",
        **env,
    )
    return result.returncode, result.stderr.strip().splitlines(), database


def test_serve_names_every_missing_secret_and_exits_2(tmp_path: Path) -> None:
    status, lines, database = _serve_in_production(
        tmp_path, TENANTGRAPH_SECRET_KEY="", TENANTGRAPH_ERASURE_KEY=""
    )
    assert status == 2
    assert len(lines) == 2, lines
    assert lines[0].startswith("tenantgraph: TENANTGRAPH_SECRET_KEY is required in production")
    assert lines[1].startswith("tenantgraph: TENANTGRAPH_ERASURE_KEY is required in production")
    assert not database.exists(), "nothing is migrated before the configuration is complete"


def test_serve_without_the_erasure_key_alone(tmp_path: Path) -> None:
    status, lines, database = _serve_in_production(tmp_path, TENANTGRAPH_ERASURE_KEY="")
    assert status == 2
    assert lines == [
        "tenantgraph: TENANTGRAPH_ERASURE_KEY is required in production "
        "(the erasure journal's key, kept outside the database and its backups)"
    ]
    assert not database.exists()


def test_a_weak_secret_is_named_too(tmp_path: Path) -> None:
    status, lines, _ = _serve_in_production(
        tmp_path, TENANTGRAPH_SECRET_KEY="short", TENANTGRAPH_ERASURE_KEY=TEST_SECRET
    )
    assert status == 2
    assert lines == ["tenantgraph: TENANTGRAPH_SECRET_KEY must be at least 32 characters"]


def test_the_app_itself_refuses_without_the_erasure_key() -> None:
    with pytest.raises(SettingsError, match="TENANTGRAPH_ERASURE_KEY is required"):
        create_app(Settings(env="production", secret_key=TEST_SECRET))
    complete = Settings(env="production", secret_key=TEST_SECRET, erasure_key=TEST_SECRET)
    assert complete.production_problems() == []


async def test_the_log_counts_a_masked_error_as_internal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unexpected failure is logged with the code the client got, not a guess."""
    settings = Settings(
        database_url="sqlite+aiosqlite:////nonexistent/dir/x.db",
        secret_key=TEST_SECRET,
        erasure_key=TEST_SECRET,
        env="production",
    )
    app = create_app(settings, engine=create_engine(settings.database_url))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.INFO, logger="tenantgraph.access"):
        async with httpx.AsyncClient(transport=transport, base_url="https://api") as http:
            result = await gql(http, '{ tenant(slug: "alpha-syn") { name } }')
    assert result.codes == ["INTERNAL_SERVER_ERROR"]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tenantgraph.access"]
    assert [line["error_codes"] for line in lines] == [["INTERNAL_SERVER_ERROR"]]


async def test_a_masked_resolver_error_is_logged_as_internal(
    backend: Backend, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The key withdrawn after start (as a broken secret store would): the resolver's
    ``SettingsError`` is masked, and the log line says ``INTERNAL_SERVER_ERROR``."""
    settings = Settings(
        database_url=backend.url, secret_key=TEST_SECRET, erasure_key=TEST_SECRET, env="production"
    )
    app = create_app(settings, engine=backend.engine)
    settings.erasure_key = ""
    erase = "mutation($id: ID!) { eraseCustomer(id: $id) { receipt { customerId } } }"
    customer = next(iter(world.a.customers.values()))
    with caplog.at_level(logging.INFO, logger="tenantgraph.access"):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://api"
        ) as http:
            result = await gql(http, erase, {"id": customer}, token=world.a.tokens["tenant_admin"])
            still_there = await gql(
                http,
                "query($id: ID!) { customer(id: $id) { id } }",
                {"id": customer},
                token=world.a.tokens["tenant_admin"],
            )
    assert result.codes == ["INTERNAL_SERVER_ERROR"]
    assert "ERASURE_KEY" not in str(result.body)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tenantgraph.access"]
    assert lines[0]["error_codes"] == ["INTERNAL_SERVER_ERROR"]
    assert still_there.ok() == {"customer": {"id": customer}}
