"""Cross-site request forgery: what a page on another origin can make a browser send.

A browser sends "simple" requests cross-site without asking: GET, and POST with
``text/plain``, ``application/x-www-form-urlencoded`` or ``multipart/form-data``
bodies. None of them may run a mutation: GET serves queries only, the first two
content types are not accepted at all, and multipart (needed for uploads) must
carry a header no form can set, which makes the browser ask first (CORS).
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from starlette.applications import Starlette

from identity import tokens
from server.app import create_app
from store.engine import create_sessionmaker
from store.models import Tenant, TenantKind
from store.types import new_id
from tests.conftest import Backend
from tests.graphql_client import gql

TRUSTED = "https://booking.example.dk"


def create_customer(name: str) -> str:
    return (
        f'mutation {{ createCustomer(input: {{name: "{name}", email: "x@example.com"}}) '
        "{ customer { id } } }"
    )


@pytest.fixture(scope="module")
async def staff(backend: Backend) -> str:
    """A staff token of a tenant of this module's own (the forged writes target it)."""
    slug = f"csrf-{uuid.uuid4().hex[:8]}"
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        tenant = Tenant(id=new_id(), slug=slug, name="Csrf Syn", kind=TenantKind.INSPECTION_STATION)
        session.add(tenant)
    return tokens.staff_token(
        backend.settings,
        subject=f"staff@{slug}",
        tenant_id=tenant.id,
        tenant_slug=slug,
        role="staff",
    )


async def stored(client: httpx.AsyncClient, staff: str, name: str) -> int:
    query = "query($s: String) { customers(search: $s) { totalCount } }"
    result = await gql(client, query, {"s": name}, token=staff)
    return int(result.ok()["customers"]["totalCount"])


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "text/plain;charset=UTF-8"]
)
async def test_simple_content_types_are_refused(
    client: httpx.AsyncClient, staff: str, content_type: str
) -> None:
    name = f"Csrf {uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": create_customer(name)}),
        headers={
            "authorization": f"Bearer {staff}",
            "content-type": content_type,
        },
    )
    assert response.status_code in (400, 415)
    assert await stored(client, staff, name) == 0


async def test_multipart_without_a_preflight_header_is_refused(
    client: httpx.AsyncClient, staff: str
) -> None:
    name = f"Csrf {uuid.uuid4().hex[:8]}"
    form = {"operations": json.dumps({"query": create_customer(name)}), "map": "{}"}
    auth = {"authorization": f"Bearer {staff}"}
    refused = await client.post("/graphql", data=form, files={"x": ("x", b"")}, headers=auth)
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "headers"}
    assert "GraphQL-Require-Preflight" in error["message"]
    assert await stored(client, staff, name) == 0
    # The same request from a client that can set headers goes through.
    allowed = await client.post(
        "/graphql",
        data=form,
        files={"x": ("x", b"")},
        headers={**auth, "GraphQL-Require-Preflight": "1"},
    )
    assert allowed.status_code == 200 and not allowed.json().get("errors"), allowed.text
    assert await stored(client, staff, name) == 1


async def test_get_never_runs_a_mutation(client: httpx.AsyncClient, staff: str) -> None:
    name = f"Csrf {uuid.uuid4().hex[:8]}"
    response = await client.get(
        "/graphql",
        params={"query": create_customer(name)},
        headers={"authorization": f"Bearer {staff}"},
    )
    assert response.status_code in (400, 405)
    assert await stored(client, staff, name) == 0


@pytest.fixture
def cors_app(backend: Backend) -> Starlette:
    settings = backend.settings.model_copy(update={"cors_origins": [TRUSTED]})
    return create_app(settings, engine=backend.engine)


async def preflight(app: Starlette, origin: str, headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.options(
            "/graphql",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": headers,
            },
        )


async def test_cors_admits_only_the_allow_list(cors_app: Starlette) -> None:
    asked = "content-type, authorization, graphql-require-preflight"
    trusted = await preflight(cors_app, TRUSTED, asked)
    assert trusted.status_code == 200
    assert trusted.headers["access-control-allow-origin"] == TRUSTED
    allowed = trusted.headers["access-control-allow-headers"].lower()
    assert "graphql-require-preflight" in allowed and "authorization" in allowed
    stranger = await preflight(cors_app, "https://evil.example", asked)
    assert stranger.status_code == 400
    assert "access-control-allow-origin" not in stranger.headers
