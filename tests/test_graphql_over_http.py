"""GraphQL over HTTP as the specification has it: media types, status codes, error
bodies for every refusal, CSRF prevention for GET in production, GraphiQL's CSP."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from basics.settings import Settings
from server.app import create_app
from server.media import negotiate
from tests.conftest import TEST_SECRET, Backend
from tests.fixtures import World

MODERN = "application/graphql-response+json"
APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"


async def post(
    client: httpx.AsyncClient,
    body: Any,
    *,
    accept: str | None = MODERN,
    token: str | None = None,
) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if accept is not None:
        headers["accept"] = accept
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return await client.post("/graphql", content=json.dumps(body), headers=headers)


def test_negotiation_follows_the_accept_header() -> None:
    assert negotiate(None) == "application/json"
    assert negotiate("*/*") == "application/json"
    assert negotiate(MODERN) == MODERN
    assert negotiate(APOLLO_ACCEPT) == MODERN
    assert negotiate("application/json, application/graphql-response+json;q=0.5") == (
        "application/json"
    )
    assert negotiate("text/html") == "application/json"


async def test_the_modern_media_type_when_accepted(client: httpx.AsyncClient, world: World) -> None:
    response = await post(client, {"query": "{ viewer { kind } }"}, accept=APOLLO_ACCEPT)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(MODERN)
    assert response.json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}
    legacy = await post(client, {"query": "{ viewer { kind } }"}, accept=None)
    assert legacy.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{", None),
        ("{ noSuchField }", None),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": None}),
    ],
    ids=["parse", "validation", "variables"],
)
async def test_request_errors_are_400_without_data(
    client: httpx.AsyncClient, world: World, query: str, variables: dict[str, Any] | None
) -> None:
    body = {"query": query, "variables": variables}
    modern = await post(client, body, token=world.a.tokens["staff"])
    assert modern.status_code == 400, modern.text
    assert modern.headers["content-type"].startswith(MODERN)
    assert "data" not in modern.json()
    assert modern.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    legacy = await post(client, body, accept="application/json", token=world.a.tokens["staff"])
    assert legacy.status_code == 200 and legacy.json()["data"] is None
    assert legacy.headers["content-type"].startswith("application/json")


async def test_a_bad_token_is_401_with_a_readable_code(client: httpx.AsyncClient) -> None:
    for accept, media in ((APOLLO_ACCEPT, MODERN), ("application/json", "application/json")):
        response = await post(
            client, {"query": "{ viewer { kind } }"}, accept=accept, token="x.y.z"
        )
        assert response.status_code == 401
        assert response.headers["content-type"].startswith(media)
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_refused_operation_is_403_when_the_client_accepts_it(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {"query": "{ customers(first: 1) { edges { node { street } } } }"}
    key = world.a.api_keys["partner_reminders"]
    modern = await post(client, body, token=key)
    assert modern.status_code == 403, modern.text
    assert "data" not in modern.json()
    assert [e["extensions"]["code"] for e in modern.json()["errors"]] == ["FORBIDDEN"]
    legacy = await post(client, body, accept="application/json", token=key)
    assert legacy.status_code == 200 and legacy.json()["errors"][0]["extensions"]["code"] == (
        "FORBIDDEN"
    )


async def test_field_errors_keep_200_and_data(client: httpx.AsyncClient, world: World) -> None:
    missing = base64.urlsafe_b64encode(b"Customer:nope").decode()
    body = {"query": "query($id: ID!) { customer(id: $id) { id } }", "variables": {"id": missing}}
    response = await post(client, body, token=world.a.tokens["staff"])
    assert response.status_code == 200
    assert "data" in response.json()


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=UTF-8", None])
async def test_a_text_body_gets_a_graphql_error_body(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"accept": MODERN}
    if content_type is not None:
        headers["content-type"] = content_type
    response = await client.post(
        "/graphql", content=json.dumps({"query": "{ viewer { kind } }"}), headers=headers
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(MODERN)
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["message"]


async def test_malformed_json_is_400_with_an_error_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=b'{ "not a JSON',
        headers={"content-type": "application/json", "accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_mutation_over_get_is_405(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": "mutation { __typename }"}, headers={"accept": MODERN}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


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


async def test_get_in_production_needs_a_preflight_proof(
    production: httpx.AsyncClient, client: httpx.AsyncClient, world: World
) -> None:
    params = {"query": "{ viewer { kind } }"}
    auth = {"authorization": f"Bearer {world.a.tokens['staff']}"}
    bare = await production.get("/graphql", params=params, headers=auth)
    assert bare.status_code == 400
    error = bare.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "headers"}
    assert "GraphQL-Require-Preflight" in error["message"]
    form = await production.get(
        "/graphql", params=params, headers={**auth, "content-type": "text/plain"}
    )
    assert form.status_code == 400
    for proof in ({"graphql-require-preflight": "1"}, {"content-type": "application/json"}):
        answered = await production.get("/graphql", params=params, headers={**auth, **proof})
        assert answered.status_code == 200, answered.text
        assert answered.json() == {"data": {"viewer": {"kind": "STAFF"}}}
    development = await client.get("/graphql", params=params, headers=auth)
    assert development.status_code == 200


async def test_graphiql_carries_a_csp_that_lets_it_run(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    csp = page.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert inline, "the page has its inline script"
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in directives["script-src"].split()
    external = re.findall(r'<script\s+crossorigin\s+src="([^"]+)"', page.text)
    assert external and all(src.startswith("https://unpkg.com/") for src in external)
    assert "https://unpkg.com" in directives["script-src"].split()
    assert "'unsafe-eval'" not in csp
