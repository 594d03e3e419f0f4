"""A retained invoice stands on its own after erasure: its own reference, date and amount,
no way from the anonymised booking to it (or back), kept until its date, then purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from basics.ids import encode_id
from identity import tokens
from privacy.retention import purge
from privacy.retention_dates import BOOKKEEPING_BASIS
from store.engine import create_sessionmaker
from store.models import Document
from tests.conftest import Backend
from tests.graphql_client import gql
from tests.test_erasure import (
    ERASE,
    INVOICE_ISSUED,
    INVOICE_KEPT_UNTIL,
    Shop,
    add_person,
    open_shop,
    use_test_erasure_key,
)

BOOKING_DOCUMENTS = """query($id: ID!) { booking(id: $id) {
  reference customer { id } documents { id kind title } } }"""
INVOICE = """query($id: ID!) { document(id: $id) {
  id kind issuedAt reference amountOre retainUntil booking { id } customer { id } } }"""


@pytest.fixture(scope="module")
async def shop(backend: Backend) -> Shop:
    use_test_erasure_key(backend.settings)
    return await open_shop(backend.engine, backend.settings, "faktura-syn")


async def test_the_anonymised_booking_no_longer_leads_to_the_invoice(
    client: httpx.AsyncClient, backend: Backend, shop: Shop
) -> None:
    person = await add_person(backend.engine, backend.settings, shop)
    admin = shop.tokens["tenant_admin"]
    booking_id = encode_id("Booking", person.past_booking)
    invoice_id = encode_id("Document", person.invoice)
    before = (await gql(client, BOOKING_DOCUMENTS, {"id": booking_id}, token=admin)).ok()
    assert invoice_id in {d["id"] for d in before["booking"]["documents"]}

    erased = await gql(client, ERASE, {"id": person.gid}, token=admin)
    records = erased.ok()["eraseCustomer"]["receipt"]["records"]
    invoice_record = next(r for r in records if r["id"] == invoice_id)
    assert invoice_record["outcome"] == "RETAINED"
    assert invoice_record["legalBasis"] == BOOKKEEPING_BASIS
    assert invoice_record["retainUntil"] == INVOICE_KEPT_UNTIL.isoformat()

    after = (await gql(client, BOOKING_DOCUMENTS, {"id": booking_id}, token=admin)).ok()
    assert after["booking"]["customer"] is None
    assert after["booking"]["documents"] == []
    invoice = (await gql(client, INVOICE, {"id": invoice_id}, token=admin)).ok()["document"]
    assert invoice["booking"] is None and invoice["customer"] is None
    # The bookkeeping facts stay on the invoice itself: the reference it was issued
    # under, the day and the amount.
    assert invoice["reference"] == person.old_references[0]
    assert invoice["amountOre"] == 55000
    assert datetime.fromisoformat(invoice["issuedAt"]) == INVOICE_ISSUED
    assert invoice["retainUntil"] == INVOICE_KEPT_UNTIL.isoformat()
    assert after["booking"]["reference"] != invoice["reference"]

    # The new fields answer as the rest of the document: not to another business, a
    # partner without documents, or the person (whose invoice is now hidden from them).
    other = await open_shop(backend.engine, backend.settings, "anden-faktura")
    for token, code in (
        (other.tokens["tenant_admin"], "NOT_FOUND"),
        (shop.api_keys["partner_reminders"], "FORBIDDEN"),
        (tokens.subject_token(backend.settings, email=person.email), "NOT_FOUND"),
        (tokens.subject_token(backend.settings, email="someone.else@example.org"), "NOT_FOUND"),
    ):
        refused = await gql(client, INVOICE, {"id": invoice_id}, token=token)
        assert refused.codes == [code], refused.body

    sessions = create_sessionmaker(backend.engine)
    kept_until = datetime.combine(INVOICE_KEPT_UNTIL, datetime.min.time(), tzinfo=UTC)
    await purge(sessions, now=kept_until)
    async with sessions() as session:
        assert await session.get(Document, person.invoice) is not None
    await purge(sessions, now=kept_until + timedelta(days=1))
    async with sessions() as session:
        assert await session.get(Document, person.invoice) is None
