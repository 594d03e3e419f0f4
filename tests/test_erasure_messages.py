"""Messages around an erasure: none left to any address the person ever had, a receipt
sent to the person before their address goes, the request's own record kept without
identifiers, and a time limit for messages that were never sent."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from basics.ids import decode_id, encode_id
from identity import tokens
from privacy.retention import UNSENT_MESSAGE_DAYS, purge
from store.engine import create_sessionmaker
from store.models import OutboxMessage, PrivacyRequest
from store.types import new_id, utcnow
from tests.conftest import Backend
from tests.graphql_client import gql
from tests.privacy_world import PrivacyWorld, build_privacy_world
from tests.test_erasure import use_test_erasure_key

LOGIN = "mutation($email: String!) { requestSubjectLogin(email: $email) { accepted } }"
RECTIFY = """mutation($input: RectifyMyDataInput!) {
  rectifyMyData(input: $input) { pendingConfirmation } }"""
CONFIRM = """mutation($code: String!) { confirmRectification(code: $code) { changedFields } }"""
REQUEST = """mutation($slug: String) { requestErasure(tenantSlug: $slug) {
  requests { id status } } }"""
RESOLVE = """mutation($id: ID!) { resolvePrivacyRequest(id: $id, approve: true) {
  request { id type status receivedAt dueAt resolvedAt outcome customer { id } } } }"""


@pytest.fixture
async def pw(backend: Backend) -> PrivacyWorld:
    use_test_erasure_key(backend.settings)
    return await build_privacy_world(create_sessionmaker(backend.engine), backend.settings, "msg")


async def _messages(backend: Backend, recipient: str) -> list[OutboxMessage]:
    async with create_sessionmaker(backend.engine)() as session:
        rows = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.created_at)
        )
        return list(rows.scalars())


async def _code(backend: Backend, recipient: str) -> str:
    found = re.search(r"\b([0-9]{6})\b", (await _messages(backend, recipient))[-1].body)
    assert found
    return found.group(1)


async def _change_email(
    client: httpx.AsyncClient, backend: Backend, pw: PrivacyWorld, new_email: str
) -> None:
    """Sign in (a code goes to the old address, and is sent), then move the first
    business's record to a new address, confirmed with the code sent there."""
    (await gql(client, LOGIN, {"email": pw.email})).ok()
    (login,) = await _messages(backend, pw.email)
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == login.id).values(sent_at=utcnow())
        )
    changing = {"email": new_email, "tenantSlug": pw.first.slug}
    (await gql(client, RECTIFY, {"input": changing}, token=pw.subject)).ok()
    code = await _code(backend, new_email)
    (await gql(client, CONFIRM, {"code": code}, token=pw.subject)).ok()


async def test_erasure_removes_messages_to_a_former_address_and_sends_the_receipt(
    client: httpx.AsyncClient, backend: Backend, pw: PrivacyWorld
) -> None:
    new_email = f"ny.{uuid.uuid4().hex[:8]}@example.org"
    await _change_email(client, backend, pw, new_email)
    (old_message,) = await _messages(backend, pw.email)
    assert old_message.sent_at is not None

    subject = tokens.subject_token(backend.settings, email=new_email)
    opened = (await gql(client, REQUEST, {"slug": pw.first.slug}, token=subject)).ok()
    (request,) = opened["requestErasure"]["requests"]
    before_receipt = {m.id for m in await _messages(backend, new_email)}
    resolved = (await gql(client, RESOLVE, {"id": request["id"]}, token=pw.first.admin)).ok()
    done = resolved["resolvePrivacyRequest"]["request"]
    records = {r["id"]: r for r in done["outcome"]["records"]}

    # No message to the address the person had before the rectification is left,
    # and the receipt names the one that went.
    assert await _messages(backend, pw.email) == []
    assert records[encode_id("OutboxMessage", old_message.id)]["outcome"] == "DELETED"

    # The receipt went to the address on the request, before that address was erased,
    # and is the one message the receipt itself lists as kept (until it is sent).
    (receipt,) = [m for m in await _messages(backend, new_email) if m.id not in before_receipt]
    kept = records[encode_id("OutboxMessage", receipt.id)]
    assert kept["outcome"] == "RETAINED" and "Art. 12" in kept["legalBasis"]
    assert kept["retainUntil"] is not None
    for line in ("Deleted", "Anonymised", "Retained", "2030-12-31", "Customer"):
        assert line in receipt.body, line
    leftovers = [
        r
        for r in done["outcome"]["records"]
        if r["entity"] == "OutboxMessage" and r["outcome"] != "DELETED"
    ]
    assert leftovers == [kept]

    # The request's own record: type, dates and outcome, and nothing that identifies.
    assert done["type"] == "ERASURE" and done["status"] == "PARTIALLY_COMPLETED"
    assert done["receivedAt"] and done["dueAt"] and done["resolvedAt"]
    assert done["customer"] is None
    async with create_sessionmaker(backend.engine)() as session:
        row = await session.get(PrivacyRequest, decode_id("id", request["id"], "PrivacyRequest"))
        assert row is not None and row.customer_id is None
        text = json.dumps(
            [row.requested_by, row.parameters, row.outcome, row.rejection_reason], default=str
        )
    for value in (pw.email, new_email, "+4531234567", "PX11111", "Pia Privat"):
        assert value.lower() not in text.lower(), value


async def test_purge_deletes_unsent_messages_after_their_limit(backend: Backend) -> None:
    now = utcnow()
    ids = {"old": new_id(), "recent": new_id()}
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        for label, age in (("old", UNSENT_MESSAGE_DAYS + 1), ("recent", 1)):
            session.add(
                OutboxMessage(
                    id=ids[label],
                    channel="email",
                    recipient=f"{label}.{uuid.uuid4().hex[:6]}@example.org",
                    subject="Kode",
                    body="never delivered",
                    created_at=now - timedelta(days=age),
                )
            )
    report = await purge(create_sessionmaker(backend.engine), now=now)
    assert report.outbox_messages >= 1
    async with create_sessionmaker(backend.engine)() as session:
        assert await session.get(OutboxMessage, ids["old"]) is None
        assert await session.get(OutboxMessage, ids["recent"]) is not None
