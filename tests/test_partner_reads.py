"""Partner reads are recorded: which key received which personal fields of whom (Art. 15(1)(c))."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from identity.apikeys import create_api_key
from store.engine import create_sessionmaker
from store.models import ApiKey, PartnerRead, Tenant
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import gql


async def _reads(backend: Backend, key: str, customer_id: str) -> list[PartnerRead]:
    async with create_sessionmaker(backend.engine)() as session:
        key_id = (
            await session.execute(select(ApiKey.id).where(ApiKey.prefix == key[4:16]))
        ).scalar_one()
        rows = await session.execute(
            select(PartnerRead).where(
                PartnerRead.api_key_id == key_id, PartnerRead.customer_id == customer_id
            )
        )
        return list(rows.scalars())


async def test_partner_read_is_recorded_with_field_names(
    client: httpx.AsyncClient, world: World, backend: Backend
) -> None:
    key = world.b.api_keys["partner_reminders"]
    carl = world.b.raw_ids["customer-carl"]
    query = "query($id: ID!) { customer(id: $id) { id name phone bookings { startsAt service { name } } } }"
    (await gql(client, query, {"id": world.b.customers["carl"]}, token=key)).ok()
    (
        await gql(
            client,
            "query($id: ID!) { customer(id: $id) { email } }",
            {"id": world.b.customers["carl"]},
            token=key,
        )
    ).ok()
    rows = await _reads(backend, key, carl)
    assert len(rows) == 1
    expected = {
        "Booking.startsAt",
        "Customer.bookings",
        "Customer.email",
        "Customer.name",
        "Customer.phone",
    }
    # Other tests may have had this key read more of Carl today: a superset is fine,
    # but only of fields the role may read at all.
    assert expected <= set(rows[0].fields)
    assert not {"Customer.street", "Booking.internalNotes", "Customer.id"} & set(rows[0].fields)
    assert rows[0].tenant_id == world.b.id


async def test_staff_and_partner_ids_only_reads_are_not_recorded(
    client: httpx.AsyncClient, world: World, backend: Backend
) -> None:
    sessions = create_sessionmaker(backend.engine)
    async with sessions() as session, session.begin():
        tenant = await session.get(Tenant, world.a.id)
        assert tenant is not None
        created = await create_api_key(
            session, tenant=tenant, role="partner_accounting", name="ids only"
        )
    key = created.plaintext
    (
        await gql(
            client,
            "query($id: ID!) { customer(id: $id) { name email } }",
            {"id": world.a.customers["anna"]},
            token=world.a.tokens["staff"],
        )
    ).ok()
    (
        await gql(
            client,
            "query($id: ID!) { customer(id: $id) { id } }",
            {"id": world.a.customers["anna"]},
            token=key,
        )
    ).ok()
    async with sessions() as session:
        rows = await session.execute(
            select(PartnerRead).where(PartnerRead.api_key_id == created.key.id)
        )
        assert list(rows.scalars()) == []
