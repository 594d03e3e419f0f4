"""Access, portability, restriction, objection and the request lifecycle, over HTTP,
for a person who booked at two businesses with the same email."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from store.engine import create_sessionmaker
from store.models import OutboxMessage, PrivacyRequest
from store.types import utcnow
from tests.conftest import Backend
from tests.graphql_client import gql
from tests.privacy_world import PrivacyWorld, build_privacy_world

MY_DATA = """query($slug: String) { myData(tenantSlug: $slug) { email rights controllers {
  tenant { slug name } source
  customer { name email phone street bookings { reference customerNotes } vehicles { registration vin }
             documents { kind title downloadUrl } }
  privacyRequests { type status dueAt }
  recipients { name role fields firstReadAt }
  facts { entity categories purposes { purpose legalBasis retention } } } } }"""


@pytest.fixture(scope="module")
async def pw(backend: Backend) -> PrivacyWorld:
    return await build_privacy_world(
        create_sessionmaker(backend.engine), backend.settings, "rights"
    )


async def _outbox(backend: Backend, recipient: str) -> list[OutboxMessage]:
    async with create_sessionmaker(backend.engine)() as session:
        rows = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.created_at)
        )
        return list(rows.scalars())


async def test_my_data_spans_both_businesses_with_art_15_facts(
    client: httpx.AsyncClient, pw: PrivacyWorld
) -> None:
    # A partner reads the person first: it must show up as a recipient.
    (
        await gql(
            client,
            "query($id: ID!) { customer(id: $id) { name phone } }",
            {"id": pw.first.customer},
            token=pw.first.reminders_key,
        )
    ).ok()
    data = (await gql(client, MY_DATA, token=pw.subject)).ok()["myData"]
    assert data["email"] == pw.email
    slugs = {c["tenant"]["slug"] for c in data["controllers"]}
    assert slugs == {pw.first.slug, pw.second.slug}
    first = next(c for c in data["controllers"] if c["tenant"]["slug"] == pw.first.slug)
    assert first["customer"]["name"] == "Pia Privat"
    assert {b["customerNotes"] for b in first["customer"]["bookings"]} == {"Bremserne hviner", None}
    assert first["customer"]["vehicles"] == [
        {"registration": "PX11111", "vin": first["customer"]["vehicles"][0]["vin"]}
    ]
    assert {d["kind"] for d in first["customer"]["documents"]} == {"INVOICE", "OTHER"}
    assert first["source"].startswith("Given by you")
    assert [r["role"] for r in first["recipients"]] == ["partner_reminders"]
    assert {"Customer.name", "Customer.phone"} <= set(first["recipients"][0]["fields"])
    facts = {f["entity"]: f for f in first["facts"]}
    assert "contact.email" in facts["Customer"]["categories"]
    assert any("Bookkeeping" in p["legalBasis"] for p in facts["Document"]["purposes"])
    assert any("Datatilsynet" in right for right in data["rights"])
    one = (await gql(client, MY_DATA, {"slug": pw.second.slug}, token=pw.subject)).ok()["myData"]
    assert [c["tenant"]["slug"] for c in one["controllers"]] == [pw.second.slug]


async def test_my_data_never_shows_internal_notes(
    client: httpx.AsyncClient, pw: PrivacyWorld
) -> None:
    query = "{ myData { controllers { customer { bookings { internalNotes } } } } }"
    result = await gql(client, query, token=pw.subject)
    assert result.data is None and result.codes == ["FORBIDDEN"]


async def test_my_data_unknown_business_is_not_found(
    client: httpx.AsyncClient, pw: PrivacyWorld
) -> None:
    result = await gql(client, MY_DATA, {"slug": "no-such-business"}, token=pw.subject)
    assert result.codes == ["NOT_FOUND"]


@pytest.mark.parametrize("who", ["admin", "staff", "partner", "anonymous"])
async def test_my_data_is_for_data_subjects_only(
    client: httpx.AsyncClient, pw: PrivacyWorld, who: str
) -> None:
    token = {
        "admin": pw.first.admin,
        "staff": pw.first.staff,
        "partner": pw.first.reminders_key,
    }.get(who)
    result = await gql(client, "{ myData { email } }", token=token)
    assert result.data is None and result.codes == ["FORBIDDEN"]


async def test_export_my_data_json_and_html(client: httpx.AsyncClient, pw: PrivacyWorld) -> None:
    mutation = "mutation($f: ExportFormat!) { exportMyData(format: $f) { format contentType filename formatVersion content } }"
    exported = (await gql(client, mutation, {"f": "JSON"}, token=pw.subject)).ok()["exportMyData"]
    assert exported["contentType"] == "application/json" and exported["formatVersion"] == "1.1"
    document = json.loads(exported["content"])
    assert document["format"] == "tenantgraph.subject-export" and document["version"] == "1.1"
    assert {c["controller"]["slug"] for c in document["controllers"]} == {
        pw.first.slug,
        pw.second.slug,
    }
    controller = document["controllers"][0]
    assert controller["customer"]["email"] == pw.email
    assert len(controller["bookings"]) == 2 and len(controller["vehicles"]) == 1
    assert all("internal_notes" not in b for b in controller["bookings"])
    assert all(d["download_path"].startswith("/documents/") for d in controller["documents"])
    html_export = (await gql(client, mutation, {"f": "HTML"}, token=pw.subject)).ok()[
        "exportMyData"
    ]
    assert html_export["contentType"].startswith("text/html")
    assert "Pia Privat" in html_export["content"] and "<script" not in html_export["content"]
    history = (await gql(client, MY_DATA, token=pw.subject)).ok()["myData"]["controllers"][0][
        "privacyRequests"
    ]
    assert {"type": "PORTABILITY", "status": "COMPLETED"} in [
        {"type": r["type"], "status": r["status"]} for r in history
    ]


async def test_admin_answers_an_access_request(client: httpx.AsyncClient, pw: PrivacyWorld) -> None:
    mutation = "mutation($id: ID!) { exportSubjectData(customerId: $id) { content } }"
    content = (await gql(client, mutation, {"id": pw.first.customer}, token=pw.first.admin)).ok()
    document = json.loads(content["exportSubjectData"]["content"])
    assert [c["controller"]["slug"] for c in document["controllers"]] == [pw.first.slug]
    assert "Kunden er utilfreds" in {
        b.get("internal_notes") for b in document["controllers"][0]["bookings"]
    }
    other = await gql(client, mutation, {"id": pw.second.customer}, token=pw.first.admin)
    assert other.codes == ["NOT_FOUND"]
    staff = await gql(client, mutation, {"id": pw.first.customer}, token=pw.first.staff)
    assert staff.codes == ["FORBIDDEN"]


RESTRICT_REQUEST = 'mutation($slug: String) { requestRestriction(reason: "Oplysningerne er forkerte", tenantSlug: $slug) { requests { id status type dueAt } } }'
RESOLVE = "mutation($id: ID!, $ok: Boolean!, $r: String, $l: String) { resolvePrivacyRequest(id: $id, approve: $ok, reason: $r, legalReference: $l) { request { status rejectionReason legalReference } } }"
PARTNER_VIEW = "query($id: ID!) { customer(id: $id) { name } customers(first: 500) { edges { node { id } } } bookings(first: 500) { edges { node { customer { id } } } } }"


async def test_restriction_hides_from_partners_and_blocks_changes(
    client: httpx.AsyncClient, pw: PrivacyWorld, backend: Backend
) -> None:
    opened = (await gql(client, RESTRICT_REQUEST, {"slug": pw.second.slug}, token=pw.subject)).ok()
    (request,) = opened["requestRestriction"]["requests"]
    assert request["status"] == "PENDING_CONTROLLER"
    resolved = (
        await gql(client, RESOLVE, {"id": request["id"], "ok": True}, token=pw.second.admin)
    ).ok()
    assert resolved["resolvePrivacyRequest"]["request"]["status"] == "COMPLETED"

    for key in (pw.second.reminders_key, pw.second.accounting_key):
        seen = await gql(
            client,
            "query($id: ID!) { customer(id: $id) { name } }",
            {"id": pw.second.customer},
            token=key,
        )
        assert seen.codes == ["NOT_FOUND"]
        lists = await gql(
            client,
            "{ customers(first: 500) { edges { node { id } } } bookings(first: 500) { edges { node { id } } } }",
            token=key,
        )
        assert pw.second.customer not in str(lists.data)
        assert not set(pw.second.bookings) & {
            e["node"]["id"] for e in lists.ok()["bookings"]["edges"]
        }
    staff_view = (
        await gql(
            client,
            "query($id: ID!) { customer(id: $id) { name restrictedAt restrictionReason } }",
            {"id": pw.second.customer},
            token=pw.second.staff,
        )
    ).ok()["customer"]
    assert (
        staff_view["restrictedAt"]
        and staff_view["restrictionReason"] == "Oplysningerne er forkerte"
    )

    edit = await gql(
        client,
        'mutation($id: ID!) { updateCustomer(id: $id, input: {city: "Aarhus"}) { customer { id } } }',
        {"id": pw.second.customer},
        token=pw.second.staff,
    )
    assert edit.codes == ["CONFLICT"]
    book = await gql(
        client,
        "mutation($c: ID!, $s: ID!, $t: DateTime!) { createBooking(input: {customerId: $c, serviceId: $s, startsAt: $t}) { booking { id } } }",
        {
            "c": pw.second.customer,
            "s": pw.second.service,
            "t": (utcnow() + timedelta(days=90)).replace(microsecond=0).isoformat(),
        },
        token=pw.second.staff,
    )
    assert book.codes == ["CONFLICT"]

    before = len(await _outbox(backend, pw.email))
    lifted = await gql(
        client,
        "mutation($id: ID!) { liftRestriction(customerId: $id) { customer { restrictedAt } } }",
        {"id": pw.second.customer},
        token=pw.second.admin,
    )
    assert lifted.ok()["liftRestriction"]["customer"]["restrictedAt"] is None
    messages = await _outbox(backend, pw.email)
    assert len(messages) == before + 1 and "lifted" in messages[-1].subject
    again = await gql(
        client,
        "query($id: ID!) { customer(id: $id) { name } }",
        {"id": pw.second.customer},
        token=pw.second.reminders_key,
    )
    assert again.errors == []


async def test_objection_to_reminders_hides_from_the_reminder_partner_only(
    client: httpx.AsyncClient, pw: PrivacyWorld
) -> None:
    objected = (
        await gql(
            client,
            "mutation($slug: String) { objectToProcessing(purpose: SERVICE_REMINDERS, tenantSlug: $slug) { requests { type status } } }",
            {"slug": pw.first.slug},
            token=pw.subject,
        )
    ).ok()
    assert objected["objectToProcessing"]["requests"] == [
        {"type": "OBJECTION", "status": "COMPLETED"}
    ]
    lookup = "query($id: ID!) { customer(id: $id) { name } }"
    assert (
        await gql(client, lookup, {"id": pw.first.customer}, token=pw.first.reminders_key)
    ).codes == ["NOT_FOUND"]
    assert (
        await gql(client, lookup, {"id": pw.first.customer}, token=pw.first.accounting_key)
    ).errors == []
    assert (
        await gql(client, lookup, {"id": pw.second.customer}, token=pw.second.reminders_key)
    ).errors == []
    (
        await gql(
            client,
            "mutation($slug: String) { withdrawObjection(purpose: SERVICE_REMINDERS, tenantSlug: $slug) { requests { status } } }",
            {"slug": pw.first.slug},
            token=pw.subject,
        )
    ).ok()
    assert (
        await gql(client, lookup, {"id": pw.first.customer}, token=pw.first.reminders_key)
    ).errors == []


async def test_request_lifecycle_filter_extend_and_reject(
    client: httpx.AsyncClient, pw: PrivacyWorld, backend: Backend
) -> None:
    opened = (await gql(client, RESTRICT_REQUEST, {"slug": pw.first.slug}, token=pw.subject)).ok()
    (request,) = opened["requestRestriction"]["requests"]
    listing = "query($f: PrivacyRequestFilter) { privacyRequests(filter: $f) { totalCount edges { node { id type status overdue } } } }"
    pending = (
        await gql(
            client,
            listing,
            {"f": {"status": ["PENDING_CONTROLLER"], "type": ["RESTRICTION"]}},
            token=pw.first.admin,
        )
    ).ok()
    assert request["id"] in {e["node"]["id"] for e in pending["privacyRequests"]["edges"]}
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        from basics.ids import decode_id

        key = decode_id("id", request["id"], "PrivacyRequest")
        await session.execute(
            update(PrivacyRequest)
            .where(PrivacyRequest.id == key)
            .values(due_at=utcnow() - timedelta(days=1))
        )
    overdue = (await gql(client, listing, {"f": {"overdue": True}}, token=pw.first.admin)).ok()
    assert [e["node"]["id"] for e in overdue["privacyRequests"]["edges"]] == [request["id"]]
    assert overdue["privacyRequests"]["edges"][0]["node"]["overdue"] is True

    extend = 'mutation($id: ID!) { extendPrivacyRequest(id: $id, reason: "Mange sager i december") { request { dueAt extensionReason } } }'
    extended = (await gql(client, extend, {"id": request["id"]}, token=pw.first.admin)).ok()
    assert (
        extended["extendPrivacyRequest"]["request"]["extensionReason"] == "Mange sager i december"
    )
    assert (await gql(client, extend, {"id": request["id"]}, token=pw.first.admin)).codes == [
        "CONFLICT"
    ]
    assert "More time" in (await _outbox(backend, pw.email))[-1].subject

    missing = await gql(
        client,
        RESOLVE,
        {"id": request["id"], "ok": False, "r": "Ikke begrundet"},
        token=pw.first.admin,
    )
    assert (
        missing.codes == ["BAD_USER_INPUT"]
        and missing.errors[0]["extensions"]["field"] == "legalReference"
    )
    rejected = (
        await gql(
            client,
            RESOLVE,
            {
                "id": request["id"],
                "ok": False,
                "r": "Oplysningerne er korrekte",
                "l": "GDPR Art. 18(1)(a)",
            },
            token=pw.first.admin,
        )
    ).ok()
    assert rejected["resolvePrivacyRequest"]["request"] == {
        "status": "REJECTED",
        "rejectionReason": "Oplysningerne er korrekte",
        "legalReference": "GDPR Art. 18(1)(a)",
    }
    assert "refused" in (await _outbox(backend, pw.email))[-1].subject
    twice = await gql(client, RESOLVE, {"id": request["id"], "ok": True}, token=pw.first.admin)
    assert twice.codes == ["CONFLICT"]
    other_admin = await gql(
        client, RESOLVE, {"id": request["id"], "ok": True}, token=pw.second.admin
    )
    assert other_admin.codes == ["NOT_FOUND"]


@pytest.mark.parametrize("who", ["staff", "partner", "subject", "anonymous"])
async def test_business_privacy_tools_are_for_tenant_admin_only(
    client: httpx.AsyncClient, pw: PrivacyWorld, who: str
) -> None:
    token = {
        "staff": pw.first.staff,
        "partner": pw.first.accounting_key,
        "subject": pw.subject,
    }.get(who)
    for query in ("{ privacyRequests { totalCount } }", "{ auditEvents { totalCount } }"):
        assert (await gql(client, query, token=token)).codes == ["FORBIDDEN"]
    restrict = await gql(
        client,
        'mutation($id: ID!) { restrictProcessing(customerId: $id, reason: "x") { customer { id } } }',
        {"id": pw.first.customer},
        token=token,
    )
    assert restrict.codes == ["FORBIDDEN"]


async def test_audit_trail_records_request_steps_without_values(
    client: httpx.AsyncClient, pw: PrivacyWorld
) -> None:
    (await gql(client, "{ myData { email } }", token=pw.subject)).ok()
    export = "mutation($slug: String) { exportMyData(tenantSlug: $slug) { format } }"
    (await gql(client, export, {"slug": pw.first.slug}, token=pw.subject)).ok()
    query = '{ auditEvents(first: 500, filter: {entityType: "PrivacyRequest"}) { edges { node { action actor fields details seq hash prevHash } } } }'
    events = [
        e["node"]
        for e in (await gql(client, query, token=pw.first.admin)).ok()["auditEvents"]["edges"]
    ]
    actions = [e["action"] for e in events]
    assert "privacy_request.received" in actions and "privacy_request.verified" in actions
    assert "privacy_request.completed" in actions
    text = json.dumps(events)
    for value in (pw.email, "Pia Privat", "Hemmeligvej", "+4531234567"):
        assert value not in text
