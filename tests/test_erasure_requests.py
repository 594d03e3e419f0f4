"""Erasure as the person asks for it: one request per business, previewed and approved
by the business (or approved automatically), with a receipt, then the purge."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select, update

from privacy.retention import purge
from store.engine import create_sessionmaker
from store.models import Document, Tenant
from tests.conftest import Backend
from tests.graphql_client import gql
from tests.privacy_world import PrivacyWorld, build_privacy_world

REQUEST = "mutation($slug: String) { requestErasure(tenantSlug: $slug) { requests { id status type customer { id } } } }"
PREVIEW = "query($id: ID!) { previewErasure(customerId: $id) { counts { entity outcome count legalBasis retainUntil } } }"
RESOLVE = "mutation($id: ID!) { resolvePrivacyRequest(id: $id, approve: true) { request { status outcome resolvedAt } } }"


@pytest.fixture
async def pw(backend: Backend) -> PrivacyWorld:
    return await build_privacy_world(create_sessionmaker(backend.engine), backend.settings, "erase")


async def test_request_preview_approve_receipt_then_purge(
    client: httpx.AsyncClient, pw: PrivacyWorld, backend: Backend
) -> None:
    opened = (await gql(client, REQUEST, {"slug": pw.first.slug}, token=pw.subject)).ok()
    (request,) = opened["requestErasure"]["requests"]
    assert (
        request["status"] == "PENDING_CONTROLLER" and request["customer"]["id"] == pw.first.customer
    )

    preview = (await gql(client, PREVIEW, {"id": pw.first.customer}, token=pw.first.admin)).ok()
    counts = {(c["entity"], c["outcome"]): c for c in preview["previewErasure"]["counts"]}
    retained = counts[("Document", "RETAINED")]
    assert retained["count"] == 1 and "bogføringsloven" in retained["legalBasis"]
    assert counts[("Booking", "ANONYMISED")]["count"] == 2

    resolved = (await gql(client, RESOLVE, {"id": request["id"]}, token=pw.first.admin)).ok()
    done = resolved["resolvePrivacyRequest"]["request"]
    assert done["status"] == "PARTIALLY_COMPLETED" and done["resolvedAt"]
    outcomes = {(r["entity"], r["outcome"]) for r in done["outcome"]["records"]}
    assert ("Customer", "DELETED") in outcomes and ("Document", "RETAINED") in outcomes

    mine = (
        await gql(client, "{ myData { controllers { tenant { slug } } } }", token=pw.subject)
    ).ok()
    assert [c["tenant"]["slug"] for c in mine["myData"]["controllers"]] == [pw.second.slug]
    invoice = "query($id: ID!) { document(id: $id) { title sha256 } }"
    assert (await gql(client, invoice, {"id": pw.first.invoice}, token=pw.first.staff)).codes == [
        "NOT_FOUND"
    ]
    kept = (await gql(client, invoice, {"id": pw.first.invoice}, token=pw.first.admin)).ok()
    assert kept["document"]["title"] == "Faktura 1"
    listing = "{ privacyRequests(filter: {type: [ERASURE]}) { edges { node { id status customer { id } } } } }"
    row = (await gql(client, listing, token=pw.first.admin)).ok()["privacyRequests"]["edges"][0][
        "node"
    ]
    assert row == {"id": request["id"], "status": "PARTIALLY_COMPLETED", "customer": None}

    sessions = create_sessionmaker(backend.engine)
    await purge(sessions, now=datetime(2031, 1, 2, tzinfo=UTC))
    async with sessions() as session:
        gone = (
            await session.execute(select(Document.id).where(Document.tenant_id == pw.first.id))
        ).all()
    assert gone == []
    assert (await gql(client, invoice, {"id": pw.first.invoice}, token=pw.first.admin)).codes == [
        "NOT_FOUND"
    ]


async def test_a_business_may_approve_erasure_automatically(
    client: httpx.AsyncClient, pw: PrivacyWorld, backend: Backend
) -> None:
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        await session.execute(
            update(Tenant).where(Tenant.id == pw.second.id).values(auto_approve_erasure=True)
        )
    opened = (await gql(client, REQUEST, {"slug": pw.second.slug}, token=pw.subject)).ok()
    (request,) = opened["requestErasure"]["requests"]
    assert request["status"] == "PARTIALLY_COMPLETED" and request["customer"] is None
    mine = (
        await gql(client, "{ myData { controllers { tenant { slug } } } }", token=pw.subject)
    ).ok()
    assert [c["tenant"]["slug"] for c in mine["myData"]["controllers"]] == [pw.first.slug]


async def test_requesting_erasure_everywhere_opens_one_request_per_business(
    client: httpx.AsyncClient, pw: PrivacyWorld
) -> None:
    opened = (await gql(client, REQUEST, token=pw.subject)).ok()["requestErasure"]["requests"]
    assert len(opened) == 2 and {r["customer"]["id"] for r in opened} == {
        pw.first.customer,
        pw.second.customer,
    }
    for business, request in ((pw.first, opened[0]), (pw.second, opened[1])):
        other = pw.second if business is pw.first else pw.first
        wrong = await gql(client, RESOLVE, {"id": request["id"]}, token=other.admin)
        if request["customer"]["id"] == business.customer:
            assert wrong.codes == ["NOT_FOUND"]
