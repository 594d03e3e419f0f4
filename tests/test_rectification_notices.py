"""Art. 19 after a rectification: exactly the recipients that received a changed field of
that person are told, and notices name fields one way everywhere (``Customer.city``)."""

from __future__ import annotations

import httpx

from tests.conftest import Backend
from tests.graphql_client import gql
from tests.test_rectification import (
    RECTIFY_CUSTOMER,
    RECTIFY_MINE,
    Scene,
    make_person,
    notices_for,
    scene,
)

__all__ = ["scene"]

READ = "query($id: ID!) { customer(id: $id) { %s } }"


async def test_only_recipients_that_received_the_field_are_told(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    station = scene.station
    person = await make_person(backend, [station])
    record, raw = person.records[station.slug], person.raw[station.slug]
    reminders = station.key_ids["partner_reminders"]
    accounting = station.key_ids["partner_accounting"]
    # The reminders partner receives name and phone; the accounting partner name and email.
    read = {"partner_reminders": "name phone", "partner_accounting": "name email"}
    for role, fields in read.items():
        (await gql(client, READ % fields, {"id": record}, token=station.keys[role])).ok()

    # Nobody received the city: nobody is told of it.
    (await gql(client, RECTIFY_MINE, {"input": {"city": "Randers"}}, token=person.token)).ok()
    assert await notices_for(backend, raw) == []

    (
        await gql(
            client,
            RECTIFY_MINE,
            {"input": {"name": "Petra Rettet", "street": "Nyvej 2"}},
            token=person.token,
        )
    ).ok()
    notices = await notices_for(backend, raw)
    assert sorted((n.api_key_id, n.fields) for n in notices) == sorted(
        [(reminders, ["Customer.name"]), (accounting, ["Customer.name"])]
    )

    (
        await gql(
            client,
            RECTIFY_CUSTOMER,
            {"id": record, "input": {"phone": "+4540998811"}},
            token=station.tokens["staff"],
        )
    ).ok()
    phone_notices = [n for n in await notices_for(backend, raw) if n.fields == ["Customer.phone"]]
    assert [n.api_key_id for n in phone_notices] == [reminders]
    assert all(f.startswith("Customer.") for n in await notices_for(backend, raw) for f in n.fields)
