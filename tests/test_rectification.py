"""Rectification (Art. 16) by the data subject and by staff, and notices to recipients (Art. 19).

Everything happens in two tenants of this module's own; every test makes its
own people, so no test depends on another's changes.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from audit.trail import verify_chain
from basics.ids import encode_id
from identity import tokens
from identity.apikeys import create_api_key
from store.engine import create_sessionmaker, write_transaction
from store.models import (
    AuditEvent,
    CreatedVia,
    Customer,
    Document,
    DocumentKind,
    OutboxMessage,
    PartnerRead,
    RecipientNotice,
    Tenant,
    TenantKind,
)
from store.types import new_id
from tests.conftest import Backend
from tests.graphql_client import Result, gql

RECTIFY_MINE = """mutation($input: RectifyMyDataInput!) {
  rectifyMyData(input: $input) {
    customers { id name email phone street postalCode city tenant { slug } }
    changedFields pendingConfirmation } }"""
CONFIRM = """mutation($code: String!) {
  confirmRectification(code: $code) { customers { id email phone } changedFields } }"""
RECTIFY_CUSTOMER = """mutation($id: ID!, $input: RectifyCustomerInput!) {
  rectifyCustomer(id: $id, input: $input) {
    customer { id name email phone street postalCode city } changedFields } }"""
CUSTOMER = "query($id: ID!) { customer(id: $id) { id name email phone street postalCode city } }"
NOTICES = "{ recipientNotices { id kind customerId fields createdAt acknowledgedAt } }"
ACKNOWLEDGE = """mutation($ids: [ID!]!) {
  acknowledgeRecipientNotices(ids: $ids) { notices { id acknowledgedAt } } }"""


@dataclass
class Business:
    id: str
    slug: str
    tokens: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)


@dataclass
class Scene:
    station: Business
    workshop: Business


@dataclass
class Person:
    email: str
    token: str
    # tenant slug -> global Customer id
    records: dict[str, str]
    raw: dict[str, str]
    invoice: str | None = None


@pytest.fixture(scope="module")
async def scene(backend: Backend) -> Scene:
    """A station and a workshop with staff tokens and two partner keys each."""
    suffix = uuid.uuid4().hex[:8]
    businesses = []
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        for slug, kind in (
            (f"ret-syn-{suffix}", TenantKind.INSPECTION_STATION),
            (f"ret-vaerksted-{suffix}", TenantKind.WORKSHOP),
        ):
            tenant = Tenant(id=new_id(), slug=slug, name=f"Rettelse {slug}", kind=kind)
            session.add(tenant)
            await session.flush()
            business = Business(tenant.id, slug)
            for role in ("partner_reminders", "partner_accounting"):
                created = await create_api_key(session, tenant=tenant, role=role, name=role)
                await session.flush()
                business.keys[role] = created.plaintext
                business.key_ids[role] = created.key.id
            businesses.append(business)
    for business in businesses:
        for role in ("tenant_admin", "staff", "inspector"):
            business.tokens[role] = tokens.staff_token(
                backend.settings,
                subject=f"{role}@{business.slug}",
                tenant_id=business.id,
                tenant_slug=business.slug,
                role=role,
            )
    return Scene(*businesses)


async def make_person(
    backend: Backend, businesses: list[Business], *, invoice: bool = False
) -> Person:
    """A person with one customer record at each business, all with the same email."""
    hexa = uuid.uuid4().hex[:10]
    email = f"petra.{hexa}@example.dk"
    records: dict[str, str] = {}
    raw: dict[str, str] = {}
    invoice_id = None
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        for business in businesses:
            customer = Customer(
                id=new_id(),
                tenant_id=business.id,
                name="Petra Persen",
                email=email,
                phone="+4531000003",
                street="Gammelvej 1",
                postal_code="8000",
                city="Aarhus C",
                created_via=CreatedVia.ONLINE,
            )
            session.add(customer)
            await session.flush()
            records[business.slug] = encode_id("Customer", customer.id)
            raw[business.slug] = customer.id
            if invoice and invoice_id is None:
                content = b"Faktura: Petra Persen, Gammelvej 1, 8000 Aarhus C, 550,00 kr"
                document = Document(
                    id=new_id(),
                    tenant_id=business.id,
                    customer_id=customer.id,
                    kind=DocumentKind.INVOICE,
                    title="Faktura Petra Persen",
                    issued_at=datetime(2025, 3, 3, 10, 0, tzinfo=UTC),
                    mime_type="text/plain",
                    size_bytes=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    content=content,
                    retain_until=date(2030, 12, 31),
                    created_by="test",
                )
                session.add(document)
                invoice_id = document.id
    token = tokens.subject_token(backend.settings, email=email)
    return Person(email, token, records, raw, invoice_id)


async def invoice_of(backend: Backend, person: Person) -> tuple[str, str, bytes]:
    async with create_sessionmaker(backend.engine)() as session:
        row = (
            await session.execute(
                select(Document.title, Document.sha256, Document.content).where(
                    Document.id == person.invoice
                )
            )
        ).one()
    return row.title, row.sha256, row.content


def marker() -> str:
    return uuid.uuid4().hex[:8]


async def staff_view(
    client: httpx.AsyncClient, business: Business, person: Person
) -> dict[str, Any]:
    result = await gql(
        client, CUSTOMER, {"id": person.records[business.slug]}, token=business.tokens["staff"]
    )
    return result.ok()["customer"]  # type: ignore[no-any-return]


async def audit_events(backend: Backend, raw_ids: list[str]) -> list[AuditEvent]:
    async with create_sessionmaker(backend.engine)() as session:
        rows = await session.execute(
            select(AuditEvent)
            .where(AuditEvent.entity_id.in_(raw_ids), AuditEvent.action == "customer.rectify")
            .order_by(AuditEvent.occurred_at, AuditEvent.seq)
        )
        return list(rows.scalars())


async def all_audit_text(backend: Backend) -> str:
    """Every audit row, as text, to search for values that must not be there."""
    async with create_sessionmaker(backend.engine)() as session:
        rows = (await session.execute(select(AuditEvent))).scalars()
        return "\n".join(
            json.dumps(
                [e.actor, e.action, e.entity_type, e.entity_id, e.fields, e.details],
                ensure_ascii=False,
            )
            for e in rows
        )


async def latest_code(backend: Backend, recipient: str) -> str:
    async with create_sessionmaker(backend.engine)() as session:
        message = (
            await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == recipient)
                .order_by(OutboxMessage.created_at.desc())
                .limit(1)
            )
        ).scalar_one()
    found = re.search(r"\b([0-9]{6})\b", message.body)
    assert found, message.body
    return found.group(1)


async def messages_to(backend: Backend, recipient: str) -> list[OutboxMessage]:
    async with create_sessionmaker(backend.engine)() as session:
        rows = await session.execute(
            select(OutboxMessage).where(OutboxMessage.recipient == recipient)
        )
        return list(rows.scalars())


async def notices_for(backend: Backend, raw_customer_id: str) -> list[RecipientNotice]:
    async with create_sessionmaker(backend.engine)() as session:
        rows = await session.execute(
            select(RecipientNotice).where(
                RecipientNotice.customer_ref == encode_id("Customer", raw_customer_id)
            )
        )
        return list(rows.scalars())


def assert_bad_input(result: Result, field_name: str) -> None:
    assert result.codes == ["BAD_USER_INPUT"], result.body
    assert result.errors[0]["extensions"]["field"] == field_name
    assert result.data is None


# --- the data subject ----------------------------------------------------------------


async def test_subject_corrects_name_and_address_at_every_business(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    businesses = [scene.station, scene.workshop]
    person = await make_person(backend, businesses, invoice=True)
    tag = marker()
    new = {
        "name": f"Petra Rettet {tag}",
        "street": f"Nyvej {tag}",
        "postalCode": "8200",
        "city": f"Aarhus N {tag}",
    }
    invoice_before = await invoice_of(backend, person)

    data = (await gql(client, RECTIFY_MINE, {"input": new}, token=person.token)).ok()[
        "rectifyMyData"
    ]
    assert data["changedFields"] == ["name", "street", "postalCode", "city"]
    assert data["pendingConfirmation"] == []
    assert sorted(c["tenant"]["slug"] for c in data["customers"]) == sorted(
        b.slug for b in businesses
    )
    for business in businesses:
        view = await staff_view(client, business, person)
        assert {k: view[k] for k in new} == new
        assert view["email"] == person.email and view["phone"] == "+4531000003"

    events = await audit_events(backend, list(person.raw.values()))
    assert len(events) == 2
    assert {e.tenant_id for e in events} == {b.id for b in businesses}
    for event in events:
        assert event.fields == ["city", "name", "postal_code", "street"]
        assert event.actor.startswith("subject:") and person.email not in event.actor
        assert event.entity_type == "Customer"
    audit_text = await all_audit_text(backend)
    for value in (new["name"], new["street"], new["city"], tag):
        assert value not in audit_text
    for business in businesses:
        async with create_sessionmaker(backend.engine)() as session:
            assert (await verify_chain(session, business.id)).intact

    # Issued invoices are bookkeeping records: never rewritten.
    assert await invoice_of(backend, person) == invoice_before


async def test_subject_may_limit_the_change_to_one_business(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    person = await make_person(backend, [scene.station, scene.workshop])
    name = f"Petra Kun Her {marker()}"
    data = (
        await gql(
            client,
            RECTIFY_MINE,
            {"input": {"name": name, "tenantSlug": scene.workshop.slug}},
            token=person.token,
        )
    ).ok()["rectifyMyData"]
    assert [c["tenant"]["slug"] for c in data["customers"]] == [scene.workshop.slug]
    assert (await staff_view(client, scene.workshop, person))["name"] == name
    assert (await staff_view(client, scene.station, person))["name"] == "Petra Persen"

    unknown = await gql(
        client,
        RECTIFY_MINE,
        {"input": {"name": name, "tenantSlug": "ingen-saadan"}},
        token=person.token,
    )
    assert (
        unknown.codes == ["NOT_FOUND"]
        and unknown.errors[0]["extensions"]["field"] == "input.tenantSlug"
    )


async def test_subject_without_records_finds_nothing(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    token = tokens.subject_token(backend.settings, email=f"ingen.{marker()}@example.dk")
    result = await gql(client, RECTIFY_MINE, {"input": {"name": "Nogen"}}, token=token)
    assert result.codes == ["NOT_FOUND"]


async def test_new_email_is_applied_only_with_the_code_sent_to_it(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    businesses = [scene.station, scene.workshop]
    person = await make_person(backend, businesses)
    new_email = f"petra.ny.{marker()}@example.dk"
    old_messages = len(await messages_to(backend, person.email))

    data = (
        await gql(client, RECTIFY_MINE, {"input": {"email": new_email.upper()}}, token=person.token)
    ).ok()["rectifyMyData"]
    assert data["changedFields"] == [] and data["pendingConfirmation"] == ["email"]
    # Nothing applied yet: both records keep the old address.
    for business in businesses:
        assert (await staff_view(client, business, person))["email"] == person.email
    sent = await messages_to(backend, new_email)
    assert len(sent) == 1 and sent[0].channel == "email"
    assert len(await messages_to(backend, person.email)) == old_messages
    code = await latest_code(backend, new_email)

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert_bad_input(await gql(client, CONFIRM, {"code": wrong}, token=person.token), "code")
    for business in businesses:
        assert (await staff_view(client, business, person))["email"] == person.email

    confirmed = (await gql(client, CONFIRM, {"code": code}, token=person.token)).ok()
    assert confirmed["confirmRectification"]["changedFields"] == ["email"]
    for business in businesses:
        assert (await staff_view(client, business, person))["email"] == new_email
    events = await audit_events(backend, list(person.raw.values()))
    assert [e.fields for e in events] == [["email"], ["email"]]
    assert new_email not in await all_audit_text(backend)
    # A code works once.
    assert_bad_input(await gql(client, CONFIRM, {"code": code}, token=person.token), "code")
    # The records now belong to the new address: the old token no longer reaches them.
    old = (await gql(client, "{ customers { totalCount } }", token=person.token)).ok()
    assert old["customers"]["totalCount"] == 0
    fresh = tokens.subject_token(backend.settings, email=new_email)
    assert (await gql(client, "{ customers { totalCount } }", token=fresh)).ok()["customers"][
        "totalCount"
    ] == 2


async def test_new_phone_is_confirmed_by_sms(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    person = await make_person(backend, [scene.station])
    data = (
        await gql(
            client,
            RECTIFY_MINE,
            {"input": {"phone": "20 99 88 77", "name": "Petra Telefon"}},
            token=person.token,
        )
    ).ok()["rectifyMyData"]
    assert data["changedFields"] == ["name"] and data["pendingConfirmation"] == ["phone"]
    assert (await staff_view(client, scene.station, person))["phone"] == "+4531000003"
    sent = await messages_to(backend, "+4520998877")
    assert [m.channel for m in sent] == ["sms"]
    code = await latest_code(backend, "+4520998877")
    assert (await gql(client, CONFIRM, {"code": code}, token=person.token)).ok()[
        "confirmRectification"
    ]["changedFields"] == ["phone"]
    assert (await staff_view(client, scene.station, person))["phone"] == "+4520998877"


async def test_unchanged_values_change_nothing(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    person = await make_person(backend, [scene.station])
    data = (
        await gql(
            client,
            RECTIFY_MINE,
            {"input": {"name": "Petra Persen", "email": person.email, "city": "Aarhus C"}},
            token=person.token,
        )
    ).ok()["rectifyMyData"]
    assert data["changedFields"] == [] and data["pendingConfirmation"] == []
    assert await audit_events(backend, list(person.raw.values())) == []
    assert await messages_to(backend, person.email) == []


SUBJECT_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("email without at", {"email": "petra.example.dk"}, "input.email"),
    ("email null", {"email": None}, "input.email"),
    ("phone letters", {"phone": "ring til mig"}, "input.phone"),
    ("phone too short", {"phone": "1234"}, "input.phone"),
    ("name null", {"name": None}, "input.name"),
    ("empty name", {"name": "  "}, "input.name"),
    ("name of 201 characters", {"name": "P" * 201}, "input.name"),
    ("NUL in name", {"name": "Petra\x00"}, "input.name"),
    ("bidi override in street", {"street": "Nyvej \u202e1"}, "input.street"),
    ("line break in city", {"city": "Aarhus\nN"}, "input.city"),
    ("postal code of five digits", {"postalCode": "82000"}, "input.postalCode"),
    ("full-width postal code", {"postalCode": "\uff18\uff12\uff10\uff10"}, "input.postalCode"),
    ("nothing to change", {}, "input"),
    ("only a business", {"tenantSlug": "x"}, "input"),
]


@pytest.mark.parametrize(
    ("case", "values", "field_name"), SUBJECT_CASES, ids=[c[0] for c in SUBJECT_CASES]
)
async def test_subject_validation_names_the_field_and_changes_nothing(
    client: httpx.AsyncClient,
    backend: Backend,
    scene: Scene,
    case: str,
    values: dict[str, Any],
    field_name: str,
) -> None:
    person = await make_person(backend, [scene.station])
    before = await staff_view(client, scene.station, person)
    # A valid change alongside the bad one must not be applied either.
    given = values if field_name == "input" else {"city": "Odense", **values}
    result = await gql(client, RECTIFY_MINE, {"input": given}, token=person.token)
    assert_bad_input(result, field_name)
    assert await staff_view(client, scene.station, person) == before
    assert await audit_events(backend, list(person.raw.values())) == []
    if values.get("email"):
        assert await messages_to(backend, values["email"]) == []


async def test_restricted_records_cannot_be_rectified(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    person = await make_person(backend, [scene.station, scene.workshop])
    async with write_transaction(create_sessionmaker(backend.engine)) as tx:
        await tx.execute(
            update(Customer)
            .where(Customer.id == person.raw[scene.workshop.slug])
            .values(restricted_at=datetime.now(UTC), restriction_reason="accuracy contested")
        )
    new_email = f"petra.spaerret.{marker()}@example.dk"
    mine = await gql(
        client,
        RECTIFY_MINE,
        {"input": {"name": "Petra Spærret", "email": new_email}},
        token=person.token,
    )
    assert mine.codes == ["CONFLICT"], mine.body
    assert mine.errors[0]["extensions"]["restrictedTenants"] == [scene.workshop.slug]
    assert await messages_to(backend, new_email) == []
    staff = await gql(
        client,
        RECTIFY_CUSTOMER,
        {"id": person.records[scene.workshop.slug], "input": {"name": "Petra Spærret"}},
        token=scene.workshop.tokens["staff"],
    )
    assert staff.codes == ["CONFLICT"]
    for business in (scene.station, scene.workshop):
        assert (await staff_view(client, business, person))["name"] == "Petra Persen"
    assert await audit_events(backend, list(person.raw.values())) == []
    # The unrestricted record at the other business can still be corrected on its own.
    only_station = await gql(
        client,
        RECTIFY_MINE,
        {"input": {"name": "Petra Station", "tenantSlug": scene.station.slug}},
        token=person.token,
    )
    assert only_station.ok()["rectifyMyData"]["changedFields"] == ["name"]


# --- staff ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "tenant_admin"])
async def test_staff_rectify_a_customer(
    client: httpx.AsyncClient, backend: Backend, scene: Scene, role: str
) -> None:
    person = await make_person(backend, [scene.station, scene.workshop])
    new_email = f"petra.staff.{marker()}@example.dk"
    result = await gql(
        client,
        RECTIFY_CUSTOMER,
        {
            "id": person.records[scene.station.slug],
            "input": {"email": new_email, "phone": None, "street": None, "postalCode": "8200"},
        },
        token=scene.station.tokens[role],
    )
    data = result.ok()["rectifyCustomer"]
    assert data["changedFields"] == ["email", "phone", "street", "postalCode"]
    assert data["customer"] | {"id": None} == {
        "id": None,
        "name": "Petra Persen",
        "email": new_email,
        "phone": None,
        "street": None,
        "postalCode": "8200",
        "city": "Aarhus C",
    }
    # Only that business's record changed.
    assert (await staff_view(client, scene.workshop, person))["email"] == person.email
    events = await audit_events(backend, list(person.raw.values()))
    assert [(e.tenant_id, e.fields, e.actor) for e in events] == [
        (
            scene.station.id,
            ["email", "phone", "postal_code", "street"],
            f"staff:{role}@{scene.station.slug}",
        )
    ]
    assert new_email not in await all_audit_text(backend)


async def test_staff_rectification_is_validated_like_create_customer(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    person = await make_person(backend, [scene.station])
    before = await staff_view(client, scene.station, person)
    for values, field_name in (
        ({"email": "petra@"}, "input.email"),
        ({"email": None, "phone": None}, "input.email"),
        ({"name": None}, "input.name"),
        ({"postalCode": "DK-8000"}, "input.postalCode"),
        ({}, "input"),
    ):
        result = await gql(
            client,
            RECTIFY_CUSTOMER,
            {"id": person.records[scene.station.slug], "input": values},
            token=scene.station.tokens["staff"],
        )
        assert_bad_input(result, field_name)
    assert_bad_input(
        await gql(
            client,
            RECTIFY_CUSTOMER,
            {"id": "bm90LWFuLWlk", "input": {"name": "X"}},
            token=scene.station.tokens["staff"],
        ),
        "id",
    )
    assert await staff_view(client, scene.station, person) == before
    assert await audit_events(backend, list(person.raw.values())) == []


async def test_another_tenants_staff_get_not_found(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    person = await make_person(backend, [scene.station])
    for role in ("staff", "tenant_admin"):
        result = await gql(
            client,
            RECTIFY_CUSTOMER,
            {"id": person.records[scene.station.slug], "input": {"name": "Fremmed"}},
            token=scene.workshop.tokens[role],
        )
        assert result.codes == ["NOT_FOUND"] and result.errors[0]["extensions"]["field"] == "id"
    assert (await staff_view(client, scene.station, person))["name"] == "Petra Persen"


async def test_other_principals_are_forbidden(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    person = await make_person(backend, [scene.station])
    station = scene.station
    staff_op = (RECTIFY_CUSTOMER, {"id": person.records[station.slug], "input": {"name": "Nej"}})
    subject_ops = [(RECTIFY_MINE, {"input": {"name": "Nej"}}), (CONFIRM, {"code": "123456"})]
    refused: list[tuple[str | None, tuple[str, dict[str, Any]]]] = [
        (station.tokens["inspector"], staff_op),
        (station.keys["partner_reminders"], staff_op),
        (station.keys["partner_accounting"], staff_op),
        (person.token, staff_op),
        (backend.world.platform_token, staff_op),
        (None, staff_op),
    ]
    for credential in (
        station.tokens["staff"],
        station.tokens["tenant_admin"],
        station.tokens["inspector"],
        station.keys["partner_reminders"],
        backend.world.platform_token,
        None,
    ):
        refused += [(credential, op) for op in subject_ops]
    for credential, (query, variables) in refused:
        result = await gql(client, query, variables, token=credential)
        assert result.codes == ["FORBIDDEN"], (credential, query, result.body)
        assert result.data is None
    assert (await staff_view(client, station, person))["name"] == "Petra Persen"
    assert await audit_events(backend, list(person.raw.values())) == []


# --- Art. 19: recipients are told ------------------------------------------------------


async def partner_reads(backend: Backend, raw_customer_id: str) -> list[PartnerRead]:
    async with create_sessionmaker(backend.engine)() as session:
        rows = await session.execute(
            select(PartnerRead).where(PartnerRead.customer_id == raw_customer_id)
        )
        return list(rows.scalars())


async def test_partners_that_read_the_customer_are_notified(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    station, workshop = scene.station, scene.workshop
    person = await make_person(backend, [station, workshop])
    other = await make_person(backend, [station])
    station_record = person.raw[station.slug]

    # The reminders partner reads the person's record; the accounting partner never does.
    (
        await gql(
            client,
            CUSTOMER.replace("street postalCode city", ""),
            {"id": person.records[station.slug]},
            token=station.keys["partner_reminders"],
        )
    ).ok()
    reads = await partner_reads(backend, station_record)
    assert [r.api_key_id for r in reads] == [station.key_ids["partner_reminders"]]
    # The workshop's reminders partner read the other record of the same person.
    (
        await gql(
            client,
            "query($id: ID!) { customer(id: $id) { name } }",
            {"id": person.records[workshop.slug]},
            token=workshop.keys["partner_reminders"],
        )
    ).ok()
    # ... and the station's accounting partner read someone else entirely.
    (
        await gql(
            client,
            "query($id: ID!) { customer(id: $id) { name } }",
            {"id": other.records[station.slug]},
            token=station.keys["partner_accounting"],
        )
    ).ok()

    (
        await gql(
            client,
            RECTIFY_MINE,
            {"input": {"name": "Petra Rettet", "city": "Randers"}},
            token=person.token,
        )
    ).ok()
    notices = await notices_for(backend, station_record)
    assert [(n.api_key_id, n.kind, n.fields, n.tenant_id) for n in notices] == [
        (station.key_ids["partner_reminders"], "RECTIFICATION", ["Customer.name"], station.id)
    ]
    workshop_notices = await notices_for(backend, person.raw[workshop.slug])
    assert [n.api_key_id for n in workshop_notices] == [workshop.key_ids["partner_reminders"]]
    assert await notices_for(backend, other.raw[station.slug]) == []
    events = await audit_events(backend, [station_record])
    assert events[0].details == {"recipientsNotified": 1}

    # Staff rectification notifies the same way.
    (
        await gql(
            client,
            RECTIFY_CUSTOMER,
            {"id": person.records[station.slug], "input": {"phone": "+4540998877"}},
            token=station.tokens["staff"],
        )
    ).ok()
    notices = await notices_for(backend, station_record)
    assert sorted(n.fields for n in notices) == [["Customer.name"], ["Customer.phone"]]


async def test_partner_fetches_and_acknowledges_only_its_own_notices(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    station = scene.station
    reminders, accounting = station.keys["partner_reminders"], station.keys["partner_accounting"]
    person = await make_person(backend, [station])
    record = person.raw[station.slug]
    # Both partners received the person's data (recorded as partner reads).
    for key in (reminders, accounting):
        (
            await gql(
                client,
                "query($id: ID!) { customer(id: $id) { name email } }",
                {"id": person.records[station.slug]},
                token=key,
            )
        ).ok()
    assert {r.api_key_id for r in await partner_reads(backend, record)} == {
        station.key_ids["partner_reminders"],
        station.key_ids["partner_accounting"],
    }
    (
        await gql(client, RECTIFY_MINE, {"input": {"name": "Petra Kvittering"}}, token=person.token)
    ).ok()

    async def mine(key: str) -> list[dict[str, Any]]:
        listed = (await gql(client, NOTICES, token=key)).ok()["recipientNotices"]
        return [n for n in listed if n["customerId"] == person.records[station.slug]]

    own = await mine(reminders)
    theirs = await mine(accounting)
    assert len(own) == len(theirs) == 1
    assert own[0]["id"] != theirs[0]["id"]
    assert own[0] | {"id": None, "createdAt": None} == {
        "id": None,
        "kind": "RECTIFICATION",
        "customerId": person.records[station.slug],
        "fields": ["Customer.name"],
        "createdAt": None,
        "acknowledgedAt": None,
    }
    # Another tenant's partner sees none of them.
    elsewhere = (await gql(client, NOTICES, token=scene.workshop.keys["partner_reminders"])).ok()
    assert all(
        n["customerId"] != person.records[station.slug] for n in elsewhere["recipientNotices"]
    )

    # Acknowledging another key's notice does nothing; one's own works, twice is harmless.
    ack = (
        await gql(client, ACKNOWLEDGE, {"ids": [own[0]["id"], theirs[0]["id"]]}, token=reminders)
    ).ok()
    acknowledged = ack["acknowledgeRecipientNotices"]["notices"]
    assert [n["id"] for n in acknowledged] == [own[0]["id"]]
    assert acknowledged[0]["acknowledgedAt"] is not None
    again = (await gql(client, ACKNOWLEDGE, {"ids": [own[0]["id"]]}, token=reminders)).ok()
    assert (
        again["acknowledgeRecipientNotices"]["notices"][0]["acknowledgedAt"]
        == acknowledged[0]["acknowledgedAt"]
    )
    assert await mine(reminders) == []
    assert [n["id"] for n in await mine(accounting)] == [theirs[0]["id"]]

    malformed = await gql(
        client, ACKNOWLEDGE, {"ids": [person.records[station.slug]]}, token=reminders
    )
    assert_bad_input(malformed, "ids")


async def test_notices_are_for_partner_keys_only(
    client: httpx.AsyncClient, backend: Backend, scene: Scene
) -> None:
    person = await make_person(backend, [scene.station])
    for credential in (
        scene.station.tokens["tenant_admin"],
        scene.station.tokens["staff"],
        scene.station.tokens["inspector"],
        person.token,
        backend.world.platform_token,
        None,
    ):
        listed = await gql(client, NOTICES, token=credential)
        assert listed.codes == ["FORBIDDEN"], listed.body
    for credential in (
        scene.station.tokens["staff"],
        person.token,
        None,
        scene.station.tokens["tenant_admin"],
    ):
        ack = await gql(client, ACKNOWLEDGE, {"ids": []}, token=credential)
        assert ack.codes == ["FORBIDDEN"], ack.body
