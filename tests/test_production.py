"""Production mode: real secrets required, no introspection, suggestions or GraphiQL,
masked unexpected errors, HSTS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from basics.settings import Settings, SettingsError
from server.app import create_app
from store.engine import create_engine
from tests.conftest import TEST_SECRET, Backend
from tests.fixtures import World
from tests.graphql_client import gql


@pytest.fixture
async def production(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=backend.url, secret_key=TEST_SECRET, erasure_key=TEST_SECRET, env="production"
    )
    app = create_app(settings, engine=backend.engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://api"
    ) as http:
        yield http


def test_production_refuses_missing_or_weak_secrets() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is required"):
        Settings(env="production", secret_key="").signing_key()
    with pytest.raises(SettingsError, match="at least 32"):
        Settings(env="production", secret_key="short").signing_key()
    with pytest.raises(SettingsError, match="ERASURE_KEY is required"):
        Settings(env="production", secret_key=TEST_SECRET).erasure_journal_key()
    with pytest.raises(SettingsError):
        create_app(Settings(env="production", secret_key=""))


async def test_no_introspection_suggestions_or_graphiql(
    production: httpx.AsyncClient, world: World
) -> None:
    introspection = await gql(production, "{ __schema { types { name } } }")
    assert (
        introspection.data is None and "introspection" in introspection.errors[0]["message"].lower()
    )
    typo = await gql(production, "{ bookingz { totalCount } }", token=world.a.tokens["staff"])
    assert "Did you mean" not in typo.errors[0]["message"]
    page = await production.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in page.text.lower()
    assert (await gql(production, "{ viewer { kind } }")).ok() == {"viewer": {"kind": "ANONYMOUS"}}


async def test_hsts_and_strict_csp(production: httpx.AsyncClient) -> None:
    response = await production.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_unexpected_errors_are_masked_with_a_request_id(
    tmp_path: object, world: World
) -> None:
    """A database that cannot be reached: the client learns nothing about it."""
    settings = Settings(
        database_url="sqlite+aiosqlite:////nonexistent/dir/x.db",
        secret_key=TEST_SECRET,
        erasure_key=TEST_SECRET,
        env="production",
    )
    app = create_app(settings, engine=create_engine(settings.database_url))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://api") as http:
        result = await gql(http, '{ tenant(slug: "alpha-syn") { name } }')
        ready = await http.get("/readyz")
    assert result.codes == ["INTERNAL_SERVER_ERROR"]
    error = result.errors[0]
    assert (
        error["message"] == "Internal server error" and len(error["extensions"]["requestId"]) == 32
    )
    assert "sqlite" not in str(result.body).lower() and "Traceback" not in str(result.body)
    assert ready.status_code == 503
