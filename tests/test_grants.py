"""Tenant grants: a tenant_admin widens a partner role within the platform ceiling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select, update

from audit.trail import verify_chain
from authz.decisions import REFRESH_SECONDS, Authorizer
from server.app import create_app
from store.engine import create_sessionmaker, write_transaction
from store.models import AuditEvent, PolicyRule, PolicyState
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import gql

GRANT = "mutation($r: String!, $f: String!) { grantPartnerField(role: $r, field: $f) { grant { role field } policyVersion } }"
REVOKE = "mutation($r: String!, $f: String!) { revokePartnerField(role: $r, field: $f) { policyVersion } }"
STREET = "query($id: ID!) { customer(id: $id) { name street } }"


@pytest.fixture
async def street_grant(client: httpx.AsyncClient, world: World) -> AsyncIterator[dict[str, object]]:
    """Tenant B grants its accounting partner Customer.street; revoked afterwards."""
    admin = world.b.tokens["tenant_admin"]
    variables = {"r": "partner_accounting", "f": "Customer.street"}
    granted = (await gql(client, GRANT, variables, token=admin)).ok()
    yield granted["grantPartnerField"]
    (await gql(client, REVOKE, variables, token=admin)).ok()


async def test_grant_widens_only_that_tenants_partner(
    client: httpx.AsyncClient, world: World, street_grant: dict[str, object]
) -> None:
    assert street_grant["grant"] == {"role": "partner_accounting", "field": "Customer.street"}
    own = await gql(
        client,
        STREET,
        {"id": world.b.customers["carl"]},
        token=world.b.api_keys["partner_accounting"],
    )
    assert own.errors == [] and own.data["customer"]["name"] == "Carl Larsen"
    other_tenant = await gql(
        client,
        STREET,
        {"id": world.a.customers["anna"]},
        token=world.a.api_keys["partner_accounting"],
    )
    assert other_tenant.codes == ["FORBIDDEN"]
    other_role = await gql(
        client,
        STREET,
        {"id": world.b.customers["carl"]},
        token=world.b.api_keys["partner_reminders"],
    )
    assert other_role.codes == ["FORBIDDEN"]


async def test_revoke_takes_effect_at_once(client: httpx.AsyncClient, world: World) -> None:
    admin = world.b.tokens["tenant_admin"]
    key = world.b.api_keys["partner_accounting"]
    variables = {"r": "partner_accounting", "f": "Customer.city"}
    (await gql(client, GRANT, variables, token=admin)).ok()
    assert (
        await gql(
            client,
            "query($id: ID!) { customer(id: $id) { city } }",
            {"id": world.b.customers["carl"]},
            token=key,
        )
    ).errors == []
    (await gql(client, REVOKE, variables, token=admin)).ok()
    again = await gql(
        client,
        "query($id: ID!) { customer(id: $id) { city } }",
        {"id": world.b.customers["carl"]},
        token=key,
    )
    assert again.codes == ["FORBIDDEN"]
    twice = await gql(client, REVOKE, variables, token=admin)
    assert twice.errors == []


async def test_grant_listing_and_ceiling(
    client: httpx.AsyncClient, world: World, street_grant: dict[str, object]
) -> None:
    data = (
        await gql(
            client,
            "{ partnerGrants { role field } grantableFields { role field } }",
            token=world.b.tokens["tenant_admin"],
        )
    ).ok()
    assert {"role": "partner_accounting", "field": "Customer.street"} in data["partnerGrants"]
    assert {"role": "partner_reminders", "field": "Booking.priceOre"} in data["grantableFields"]
    assert all(g["field"] != "Booking.internalNotes" for g in data["grantableFields"])
    other = (
        await gql(client, "{ partnerGrants { role field } }", token=world.a.tokens["tenant_admin"])
    ).ok()
    assert {"role": "partner_accounting", "field": "Customer.street"} not in other["partnerGrants"]


@pytest.mark.parametrize(
    ("role", "field", "code", "named"),
    [
        ("partner_reminders", "Booking.internalNotes", "FORBIDDEN", None),
        ("partner_reminders", "Booking.customerNotes", "FORBIDDEN", None),
        ("partner_accounting", "Vehicle.vin", "FORBIDDEN", None),
        ("staff", "Customer.street", "BAD_USER_INPUT", "role"),
        ("partner_accounting", "Customer street", "BAD_USER_INPUT", "field"),
        ("partner_accounting", "Customer.*", "BAD_USER_INPUT", "field"),
        ("partner_accounting", "Customer.street, read", "BAD_USER_INPUT", "field"),
    ],
)
async def test_grants_outside_the_ceiling_are_refused(
    client: httpx.AsyncClient, world: World, role: str, field: str, code: str, named: str | None
) -> None:
    result = await gql(client, GRANT, {"r": role, "f": field}, token=world.b.tokens["tenant_admin"])
    assert result.data is None and result.codes == [code]
    if named:
        assert result.errors[0]["extensions"]["field"] == named
    listing = (
        await gql(client, "{ partnerGrants { field } }", token=world.b.tokens["tenant_admin"])
    ).ok()
    assert field not in {g["field"] for g in listing["partnerGrants"]}


@pytest.mark.parametrize(
    "who", ["staff", "inspector", "partner", "subject", "platform", "anonymous"]
)
async def test_only_tenant_admin_may_grant(
    client: httpx.AsyncClient, world: World, who: str
) -> None:
    token = {
        "staff": world.b.tokens["staff"],
        "inspector": world.b.tokens["inspector"],
        "partner": world.b.api_keys["partner_accounting"],
        "subject": world.subject_tokens["carl"],
        "platform": world.platform_token,
        "anonymous": None,
    }[who]
    result = await gql(
        client, GRANT, {"r": "partner_accounting", "f": "Customer.postalCode"}, token=token
    )
    assert result.data is None and result.codes == ["FORBIDDEN"]
    listing = await gql(client, "{ partnerGrants { field } }", token=token)
    assert listing.codes == ["FORBIDDEN"]


async def test_grants_are_audited_without_values(
    client: httpx.AsyncClient, world: World, backend: Backend, street_grant: dict[str, object]
) -> None:
    async with create_sessionmaker(backend.engine)() as session:
        events = (
            (
                await session.execute(
                    select(AuditEvent).where(
                        AuditEvent.tenant_id == world.b.id, AuditEvent.action == "policy.grant"
                    )
                )
            )
            .scalars()
            .all()
        )
        # Other tests grant other fields in this tenant: find this grant's event.
        street = [e for e in events if e.details.get("field") == "Customer.street"]
        assert street and street[-1].details == {
            "role": "partner_accounting",
            "field": "Customer.street",
        }
        assert street[-1].actor == "staff:tenant_admin@beta-vaerksted"
        report = await verify_chain(session, world.b.id)
    assert report.intact, report


async def test_another_process_picks_up_a_grant_within_a_second(
    client: httpx.AsyncClient, world: World, backend: Backend
) -> None:
    """A second app with its own Authorizer stands in for a second server process."""
    other = create_app(backend.settings, engine=backend.engine, authorizer=Authorizer())
    key = world.b.api_keys["partner_accounting"]
    query = "query($id: ID!) { customer(id: $id) { postalCode } }"
    variables = {"r": "partner_accounting", "f": "Customer.postalCode"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other), base_url="http://other"
    ) as second:
        assert (await gql(second, query, {"id": world.b.customers["carl"]}, token=key)).codes == [
            "FORBIDDEN"
        ]
        (await gql(client, GRANT, variables, token=world.b.tokens["tenant_admin"])).ok()
        try:
            await asyncio.sleep(REFRESH_SECONDS + 0.1)
            seen = await gql(second, query, {"id": world.b.customers["carl"]}, token=key)
            assert seen.errors == [], seen.body
        finally:
            (await gql(client, REVOKE, variables, token=world.b.tokens["tenant_admin"])).ok()
        await asyncio.sleep(REFRESH_SECONDS + 0.1)
        assert (await gql(second, query, {"id": world.b.customers["carl"]}, token=key)).codes == [
            "FORBIDDEN"
        ]


async def test_database_lines_beyond_the_ceiling_are_ignored(
    client: httpx.AsyncClient, world: World, backend: Backend
) -> None:
    """Someone with database access adds lines the ceiling forbids: none takes effect."""
    sessions = create_sessionmaker(backend.engine)
    forged = [
        ["partner_reminders", world.b.id, "Booking.internalNotes", "read", "tenant", "allow"],
        ["partner_reminders", "*", "Customer.street", "read", "tenant", "allow"],
        ["partner_reminders", world.b.id, "Customer.street", "read", "tenant", "deny"],
    ]
    async with write_transaction(sessions) as tx:
        for line in forged:
            tx.add(PolicyRule(ptype="p", **{f"v{i}": v for i, v in enumerate(line)}))
        await tx.execute(update(PolicyState).values(version=PolicyState.version + 1))
    try:
        await asyncio.sleep(REFRESH_SECONDS + 0.1)
        result = await gql(
            client,
            "query($id: ID!) { booking(id: $id) { internalNotes } }",
            {"id": world.b.bookings["carl-past"]},
            token=world.b.api_keys["partner_reminders"],
        )
        assert result.codes == ["FORBIDDEN"]
        street = await gql(
            client,
            "query($id: ID!) { customer(id: $id) { street } }",
            {"id": world.b.customers["carl"]},
            token=world.b.api_keys["partner_reminders"],
        )
        assert street.codes == ["FORBIDDEN"]
    finally:
        async with write_transaction(sessions) as tx:
            for line in forged:
                rows = (
                    await tx.execute(
                        select(PolicyRule).where(
                            PolicyRule.v2 == line[2],
                            PolicyRule.v1 == line[1],
                            PolicyRule.v5 == line[5],
                        )
                    )
                ).scalars()
                for row in rows:
                    await tx.delete(row)
            await tx.execute(update(PolicyState).values(version=PolicyState.version + 1))
