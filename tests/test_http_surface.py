"""The HTTP contract: health, readiness, GET for queries only, downloads, error masking."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import httpx
import pytest

from basics.settings import Settings
from schema.build import build_schema
from tests.fixtures import World
from tests.graphql_client import gql

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "up"


async def test_get_serves_queries_but_refuses_mutations(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = {"Authorization": f"Bearer {world.a.tokens['staff']}"}
    query = await client.get("/graphql", params={"query": "{ viewer { kind } }"}, headers=headers)
    assert query.status_code == 200 and query.json()["data"]["viewer"]["kind"] == "STAFF"
    mutation = 'mutation { createCustomer(input: {name: "Via Get", email: "get@example.com"}) { customer { id } } }'
    refused = await client.get("/graphql", params={"query": mutation}, headers=headers)
    assert refused.status_code in (400, 405)
    search = (
        await gql(
            client, '{ customers(search: "Via Get") { totalCount } }', token=world.a.tokens["staff"]
        )
    ).ok()
    assert search["customers"]["totalCount"] == 0


async def test_graphiql_in_development(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_document_download_matches_content_field(
    client: httpx.AsyncClient, world: World
) -> None:
    doc_id = world.a.documents["anna-invoice"]
    query = f'{{ document(id: "{doc_id}") {{ content sha256 sizeBytes mimeType downloadUrl }} }}'
    data = (await gql(client, query, token=world.a.tokens["staff"])).ok()["document"]
    raw = base64.b64decode(data["content"])
    assert hashlib.sha256(raw).hexdigest() == data["sha256"] and len(raw) == data["sizeBytes"]
    response = await client.get(
        data["downloadUrl"], headers={"Authorization": f"Bearer {world.a.tokens['staff']}"}
    )
    assert response.status_code == 200 and response.content == raw
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in response.headers["content-disposition"]


@pytest.mark.parametrize("who", ["other tenant", "other subject", "anonymous", "platform"])
async def test_document_download_refused_outside_scope(
    client: httpx.AsyncClient, world: World, who: str
) -> None:
    tokens = {
        "other tenant": world.b.tokens["tenant_admin"],
        "other subject": world.subject_tokens["carl"],
        "platform": world.platform_token,
    }
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who in tokens else {}
    response = await client.get(f"/documents/{world.a.documents['anna-invoice']}", headers=headers)
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_document_download_by_subject_and_bad_ids(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = {"Authorization": f"Bearer {world.subject_tokens['anna']}"}
    own = await client.get(f"/documents/{world.b.documents['anna-report']}", headers=headers)
    assert own.status_code == 200
    for bad in ("garbage", world.a.bookings["anna-past"]):
        response = await client.get(f"/documents/{bad}", headers=headers)
        assert response.status_code == 404
    bad_token = await client.get(
        f"/documents/{world.a.documents['anna-invoice']}", headers={"Authorization": "Bearer nope"}
    )
    assert bad_token.status_code == 401


async def test_unknown_field_is_a_client_error_not_500(
    client: httpx.AsyncClient, world: World
) -> None:
    result = await gql(
        client, "{ bookings { edges { node { secret } } } }", token=world.a.tokens["staff"]
    )
    assert result.status in (200, 400)
    assert result.codes == ["BAD_USER_INPUT"]


async def test_depth_and_alias_limits(client: httpx.AsyncClient, world: World) -> None:
    inner = "id"
    for _ in range(6):
        inner = f"customer {{ bookings {{ {inner} }} }}"
    deep = f"{{ bookings {{ edges {{ node {{ {inner} }} }} }} }}"
    result = await gql(client, deep, token=world.a.tokens["staff"])
    assert result.errors and "depth" in result.errors[0]["message"].lower()
    aliases = "{ " + " ".join(f"a{i}: viewer {{ kind }}" for i in range(40)) + " }"
    result = await gql(client, aliases, token=world.a.tokens["staff"])
    assert result.errors and "alias" in result.errors[0]["message"].lower()


def test_committed_schema_matches_code() -> None:
    """`tenantgraph schema export > schema.graphql` after every schema change."""
    exported = build_schema(Settings(secret_key="x" * 40)).as_str() + "\n"
    assert SCHEMA_FILE.read_text() == exported, (
        "schema.graphql is stale: run `tenantgraph schema export > schema.graphql`"
    )
