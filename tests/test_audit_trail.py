"""The audit trail: every write to personal data, append-only, tamper-evident."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import text

from tenantgraph.privacy.audit import verify_chain
from tenantgraph.store.engine import create_sessionmaker
from tests.conftest import Backend
from tests.graphql_client import gql
from tests.privacy_world import PrivacyWorld, build_privacy_world


@pytest.fixture(scope="module")
async def pw(backend: Backend) -> PrivacyWorld:
    return await build_privacy_world(create_sessionmaker(backend.engine), backend.settings, "audit")


EVENTS = "query($f: AuditEventFilter) { auditEvents(first: 500, filter: $f) { edges { node { seq action actor entityType entityId fields details } } } }"


async def test_writes_to_personal_data_are_audited_by_field_name(
    client: httpx.AsyncClient, pw: PrivacyWorld
) -> None:
    update = 'mutation($id: ID!) { updateCustomer(id: $id, input: {city: "Kolding", street: "Nyvej 1"}) { customer { id } } }'
    (await gql(client, update, {"id": pw.first.customer}, token=pw.first.staff)).ok()
    events = (
        await gql(client, EVENTS, {"f": {"entityId": pw.first.customer}}, token=pw.first.admin)
    ).ok()
    (event,) = [
        e["node"]
        for e in events["auditEvents"]["edges"]
        if e["node"]["action"] == "customer.update"
    ]
    assert event["fields"] == ["city", "street"]
    assert event["actor"] == f"staff:staff@{pw.first.slug}"
    assert event["entityId"] == pw.first.customer
    assert "Kolding" not in json.dumps(event) and "Nyvej" not in json.dumps(event)
    other = (
        await gql(client, EVENTS, {"f": {"entityId": pw.first.customer}}, token=pw.second.admin)
    ).ok()
    assert other["auditEvents"]["edges"] == []


async def test_the_database_refuses_to_change_audit_events(
    backend: Backend, pw: PrivacyWorld
) -> None:
    async with backend.engine.connect() as connection:
        with pytest.raises(Exception, match="append-only"):
            await connection.execute(text("UPDATE audit_events SET action = 'nothing'"))
        await connection.rollback()
        with pytest.raises(Exception, match="append-only"):
            await connection.execute(text("DELETE FROM audit_events"))
        await connection.rollback()


def _verify_cli(url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TENANTGRAPH_DATABASE_URL": url, "TENANTGRAPH_SECRET_KEY": "x" * 40}
    return subprocess.run(
        [sys.executable, "-m", "tenantgraph.server.cli", "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


async def test_tampering_is_detected_at_the_first_broken_link(
    client: httpx.AsyncClient, backend: Backend, pw: PrivacyWorld
) -> None:
    """Someone with database access drops the guard and edits an event: verify says where."""
    for city in ("Odense", "Horsens", "Skive"):
        update = "mutation($id: ID!, $c: String) { updateCustomer(id: $id, input: {city: $c}) { customer { id } } }"
        (
            await gql(client, update, {"id": pw.second.customer, "c": city}, token=pw.second.staff)
        ).ok()
    sessions = create_sessionmaker(backend.engine)
    async with sessions() as session:
        assert (await verify_chain(session, pw.second.id)).intact
    assert _verify_cli(backend.url).returncode == 0

    sqlite = backend.name == "sqlite"
    async with backend.engine.begin() as connection:
        if sqlite:
            await connection.execute(text("DROP TRIGGER audit_events_no_update"))
        else:
            await connection.execute(
                text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
            )
        await connection.execute(
            text("UPDATE audit_events SET fields = '[\"name\"]' WHERE chain = :c AND seq = 2"),
            {"c": pw.second.id},
        )
        if sqlite:
            await connection.execute(
                text(
                    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
                )
            )
        else:
            await connection.execute(
                text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
            )
    async with sessions() as session:
        report = await verify_chain(session, pw.second.id)
    assert (
        not report.intact
        and report.first_broken_seq == 2
        and report.problem == "the event was altered"
    )
    cli = _verify_cli(backend.url)
    assert cli.returncode == 2 and f"BROKEN  {pw.second.id}: first broken event #2" in cli.stdout
