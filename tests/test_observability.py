"""Request logs without personal values, Prometheus metrics, security headers."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from tests.fixtures import World
from tests.graphql_client import gql


async def test_every_response_carries_security_headers_and_a_request_id(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ viewer { kind } }"}, headers={"X-Request-Id": "abc-123"}
    )
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert "strict-transport-security" not in response.headers  # development
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32


async def test_log_line_names_principal_operation_and_outcome_but_no_values(
    client: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    query = "query Lookup($id: ID!) { customer(id: $id) { name email phone } }"
    with caplog.at_level(logging.INFO, logger="tenantgraph.access"):
        (
            await gql(
                client, query, {"id": world.a.customers["anna"]}, token=world.a.tokens["staff"]
            )
        ).ok()
        await gql(
            client,
            "query Denied($id: ID!) { customer(id: $id) { email } }",
            {"id": world.a.customers["anna"]},
            token=world.a.tokens["inspector"],
        )
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tenantgraph.access"]
    ok, denied = lines[-2], lines[-1]
    assert ok["principal_kind"] == "STAFF" and ok["tenant"] == world.a.id
    assert ok["operation"] == "Lookup" and ok["error_codes"] == [] and ok["status"] == 200
    assert denied["operation"] == "Denied" and denied["error_codes"] == ["FORBIDDEN"]
    text = json.dumps(lines)
    for value in ("Anna", "anna@example.dk", world.a.customers["anna"], world.a.tokens["staff"]):
        assert value not in text


async def test_metrics_count_requests_and_denials(client: httpx.AsyncClient, world: World) -> None:
    await gql(
        client, "{ customers { edges { node { email } } } }", token=world.a.tokens["inspector"]
    )
    body = (await client.get("/metrics")).text
    assert 'tenantgraph_requests_total{route="/graphql",status="200"}' in body
    assert "tenantgraph_request_seconds_bucket" in body
    assert 'tenantgraph_authorization_denials_total{principal_kind="STAFF"}' in body


async def test_oversized_body_is_refused(client: httpx.AsyncClient, world: World) -> None:
    huge = "x" * (world.settings.max_body_bytes + 10)
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": huge}),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


async def test_no_logger_repeats_the_operation_or_its_values(
    client: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Expected errors (bad input, not found) leave no log line with the query text or values."""
    secret = "Hemmelig Hansen"
    create = """mutation Leak($input: CreateCustomerInput!) {
      createCustomer(input: $input) { customer { id } } }"""
    with caplog.at_level(logging.DEBUG):
        bad = await gql(
            client,
            create,
            {"input": {"name": secret, "email": "hemmelig@example.dk", "phone": "12"}},
            token=world.a.tokens["staff"],
        )
        missing = await gql(
            client,
            '{ customer(id: "Q3VzdG9tZXI6SGVtbWVsaWdIYW5zZW4") { name } }',
            token=world.a.tokens["staff"],
        )
    assert bad.codes == ["BAD_USER_INPUT"] and missing.data == {"customer": None}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for value in (secret, "hemmelig@example.dk", "createCustomer(input", "Q3VzdG9tZXI6"):
        assert value not in logged, value
