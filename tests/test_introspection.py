"""Each principal its own schema: introspection shows only what the caller's roles may use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from basics.settings import Settings
from server.app import create_app
from tests.conftest import TEST_SECRET, Backend
from tests.fixtures import World
from tests.graphql_client import gql

SCHEMA_QUERY = """{ __schema {
  queryType { name fields { name args { name } } }
  mutationType { name fields { name } }
  types { name kind fields { name } inputFields { name } possibleTypes { name } }
} }"""


def _types(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in data["__schema"]["types"]}


def _fields(data: dict[str, Any], type_name: str) -> set[str]:
    found = _types(data).get(type_name)
    return {f["name"] for f in (found or {}).get("fields") or ()}


def _mutations(data: dict[str, Any]) -> set[str]:
    mutation = data["__schema"]["mutationType"]
    return {f["name"] for f in mutation["fields"]} if mutation else set()


async def test_partner_reminders_sees_only_its_own_schema(
    client: httpx.AsyncClient, world: World
) -> None:
    data = (await gql(client, SCHEMA_QUERY, token=world.a.api_keys["partner_reminders"])).ok()
    types = _types(data)
    assert "Document" not in types and "Vehicle" not in types
    assert "registration" not in _fields(data, "Vehicle")
    assert {"name", "phone", "email"} <= _fields(data, "Customer")
    assert not {"street", "city", "documents", "vehicles"} & _fields(data, "Customer")
    assert not {"internalNotes", "customerNotes", "vehicle", "documents"} & _fields(data, "Booking")
    query_fields = _fields(data, "Query")
    assert {"customers", "bookings", "viewer"} <= query_fields
    assert not {"documents", "document", "vehicles", "auditEvents", "myData"} & query_fields
    # Only mutations it may run: no staff write, no grant, no privacy tool.
    mutations = _mutations(data)
    assert "acknowledgeRecipientNotices" in mutations
    assert not {"createCustomer", "addDocument", "grantPartnerField", "eraseCustomer"} & mutations
    assert {"name": "Document"} not in (types["Node"]["possibleTypes"] or [])
    by_type = (
        await gql(
            client,
            '{ a: __type(name: "Document") { name } b: __type(name: "Customer") { name } }',
            token=world.a.api_keys["partner_reminders"],
        )
    ).ok()
    assert by_type == {"a": None, "b": {"name": "Customer"}}


async def test_tenant_admin_sees_every_tenant_field(
    client: httpx.AsyncClient, world: World
) -> None:
    data = (await gql(client, SCHEMA_QUERY, token=world.a.tokens["tenant_admin"])).ok()
    assert {"registration", "vin"} <= _fields(data, "Vehicle")
    assert {"content", "kind", "sha256"} <= _fields(data, "Document")
    assert {"internalNotes", "customerNotes"} <= _fields(data, "Booking")
    assert {"auditEvents", "privacyRequests", "apiKeys", "partnerGrants"} <= _fields(data, "Query")
    assert {"createCustomer", "addDocument", "grantPartnerField", "eraseCustomer"} <= _mutations(
        data
    )


async def test_anonymous_sees_the_public_schema(client: httpx.AsyncClient) -> None:
    data = (await gql(client, SCHEMA_QUERY)).ok()
    types = _types(data)
    assert "Customer" not in types and "Document" not in types and "Booking" not in types
    assert {"tenant", "availableSlots", "viewer"} <= _fields(data, "Query")
    assert "startBooking" in _mutations(data) and "createCustomer" not in _mutations(data)


async def test_inspector_sees_no_price_or_notes_it_may_not_read(
    client: httpx.AsyncClient, world: World
) -> None:
    token = world.a.tokens["inspector"]
    data = (await gql(client, SCHEMA_QUERY, token=token)).ok()
    denied = (await gql(client, "{ bookings { edges { node { priceOre } } } }", token=token)).codes
    assert ("priceOre" in _fields(data, "Booking")) is (denied != ["FORBIDDEN"])


def _production(backend: Backend, introspection: str) -> Settings:
    return Settings(
        database_url=backend.url,
        secret_key=TEST_SECRET,
        erasure_key=TEST_SECRET,
        env="production",
        introspection=introspection,  # type: ignore[arg-type]
    )


@pytest.fixture
async def principal_introspection(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_production(backend, "principal"), engine=backend.engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://api"
    ) as http:
        yield http


async def test_production_introspection_is_per_signed_in_principal(
    principal_introspection: httpx.AsyncClient, world: World
) -> None:
    anonymous = await gql(principal_introspection, "{ __schema { types { name } } }")
    assert anonymous.data is None and anonymous.codes == ["FORBIDDEN"]
    assert "introspection" in anonymous.errors[0]["message"]
    data = (
        await gql(
            principal_introspection, SCHEMA_QUERY, token=world.a.api_keys["partner_reminders"]
        )
    ).ok()
    assert "Document" not in _types(data) and "Customer" in _types(data)
    assert (await gql(principal_introspection, "{ __typename }")).ok() == {"__typename": "Query"}


async def test_introspection_follows_a_grant(client: httpx.AsyncClient, world: World) -> None:
    """A tenant's grant shows up in its partner's schema; another tenant's partner sees no change."""
    admin = world.b.tokens["tenant_admin"]
    grant = """mutation($role: String!, $field: String!) {
      grantPartnerField(role: $role, field: $field) { grant { field } } }"""
    revoke = """mutation($role: String!, $field: String!) {
      revokePartnerField(role: $role, field: $field) { grant { field } } }"""
    variables = {"role": "partner_reminders", "field": "Booking.priceOre"}
    key_b, key_a = world.b.api_keys["partner_reminders"], world.a.api_keys["partner_reminders"]
    before = (await gql(client, SCHEMA_QUERY, token=key_b)).ok()
    assert "priceOre" not in _fields(before, "Booking")
    (await gql(client, grant, variables, token=admin)).ok()
    try:
        after = (await gql(client, SCHEMA_QUERY, token=key_b)).ok()
        other = (await gql(client, SCHEMA_QUERY, token=key_a)).ok()
    finally:
        (await gql(client, revoke, variables, token=admin)).ok()
    assert "priceOre" in _fields(after, "Booking")
    assert "priceOre" not in _fields(other, "Booking")


PERMISSIONS = "{ viewer { permissions { read write grantable } } }"


async def test_viewer_permissions_match_the_callers_schema(
    client: httpx.AsyncClient, world: World
) -> None:
    key = world.a.api_keys["partner_reminders"]
    permissions = (await gql(client, PERMISSIONS, token=key)).ok()["viewer"]["permissions"]
    assert "Customer.phone" in permissions["read"] and "Query.customers" in permissions["read"]
    assert not {"Vehicle.registration", "Document.content", "Customer.street"} & set(
        permissions["read"]
    )
    mutations = {c for c in permissions["write"] if c.startswith("Mutation.")}
    assert mutations == {
        "Mutation.acknowledgeRecipientNotices",
        "Mutation.completeBooking",
        "Mutation.startBooking",
    }
    assert not any(c.startswith("Mutation.create") for c in permissions["write"])
    # Within the ceiling, not yet granted: price and channel of a booking.
    assert {"Booking.priceOre", "Booking.channel"} <= set(permissions["grantable"])
    assert not {"Booking.internalNotes", "Vehicle.registration"} & set(permissions["grantable"])
    staff = (await gql(client, PERMISSIONS, token=world.a.tokens["staff"])).ok()
    assert staff["viewer"]["permissions"]["grantable"] == []
    assert "Mutation.createCustomer" in staff["viewer"]["permissions"]["write"]
    anonymous = (await gql(client, PERMISSIONS)).ok()["viewer"]["permissions"]
    assert not any(c.startswith(("Customer.", "Booking.", "Document.")) for c in anonymous["read"])


async def test_viewer_permissions_follow_only_the_own_tenants_grant(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world.b.tokens["tenant_admin"]
    grant = 'mutation { grantPartnerField(role: "partner_reminders", field: "Booking.channel") { grant { field } } }'
    revoke = 'mutation { revokePartnerField(role: "partner_reminders", field: "Booking.channel") { grant { field } } }'
    (await gql(client, grant, token=admin)).ok()
    try:
        own = (await gql(client, PERMISSIONS, token=world.b.api_keys["partner_reminders"])).ok()
        other = (await gql(client, PERMISSIONS, token=world.a.api_keys["partner_reminders"])).ok()
    finally:
        (await gql(client, revoke, token=admin)).ok()
    assert "Booking.channel" in own["viewer"]["permissions"]["read"]
    assert "Booking.channel" not in own["viewer"]["permissions"]["grantable"]
    assert "Booking.channel" not in other["viewer"]["permissions"]["read"]
    assert "Booking.channel" in other["viewer"]["permissions"]["grantable"]
