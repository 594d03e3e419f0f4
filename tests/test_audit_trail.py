"""The audit trail: every write to personal data, append-only, tamper-evident."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from sqlalchemy import text

from audit.trail import verify_chain
from identity import tokens
from store.engine import create_sessionmaker
from store.models import Tenant, TenantKind
from store.types import new_id
from tests.cli import run_cli
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
    assert run_cli(backend.url, "audit", "verify").returncode == 0

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
    cli = run_cli(backend.url, "audit", "verify")
    assert cli.returncode == 2 and f"BROKEN  {pw.second.id}: first broken event #2" in cli.stdout


async def test_a_new_tenants_first_writes_may_race(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    """Concurrent first writes of a tenant with no audit chain yet: all land, one chain."""
    slug = f"audit-race-{uuid.uuid4().hex[:8]}"
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        tenant = Tenant(id=new_id(), slug=slug, name="Kapløb", kind=TenantKind.WORKSHOP)
        session.add(tenant)
    staff = tokens.staff_token(
        backend.settings,
        subject=f"staff@{slug}",
        tenant_id=tenant.id,
        tenant_slug=slug,
        role="staff",
    )
    query = """mutation($input: CreateCustomerInput!) {
      createCustomer(input: $input) { customer { id } } }"""
    results = await asyncio.gather(
        *(
            gql(
                client,
                query,
                {"input": {"name": f"Kunde {n}", "email": f"k{n}@example.dk"}},
                token=staff,
            )
            for n in range(10)
        )
    )
    assert [r.codes for r in results] == [[]] * 10, [r.body for r in results if r.codes]
    async with create_sessionmaker(backend.engine)() as session:
        report = await verify_chain(session, tenant.id)
    assert report.intact and report.events == 10, report
