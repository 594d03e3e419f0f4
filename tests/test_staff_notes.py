"""Staff notes about a person are part of the person's copy (GDPR Art. 15(1) and (3)),
marked as staff notes; a note staff withhold (Art. 15(4)) is named as withheld, with why."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from identity import tokens
from store.engine import create_sessionmaker
from tests.conftest import Backend
from tests.graphql_client import gql
from tests.privacy_world import PrivacyWorld, build_privacy_world

NOTE = "Kunden er utilfreds"
REASON = "Noten nævner en anden kunde"
NOTES = """{ myData { controllers { tenant { slug }
  staffNotes { bookingId note withheld withheldReason } } } }"""
EXPORT = """mutation($f: ExportFormat!) { exportMyData(format: $f) { formatVersion content } }"""
WITHHOLD = """mutation($id: ID!, $reason: String!) {
  withholdStaffNote(bookingId: $id, reason: $reason) { bookingId withheld withheldReason } }"""


@pytest.fixture
async def pw(backend: Backend) -> PrivacyWorld:
    return await build_privacy_world(create_sessionmaker(backend.engine), backend.settings, "note")


async def _notes(client: httpx.AsyncClient, token: str) -> dict[str, list[dict[str, object]]]:
    data = (await gql(client, NOTES, token=token)).ok()["myData"]["controllers"]
    return {c["tenant"]["slug"]: c["staffNotes"] for c in data}


async def test_staff_notes_are_in_my_data_and_the_export(
    client: httpx.AsyncClient, pw: PrivacyWorld
) -> None:
    notes = await _notes(client, pw.subject)
    assert notes[pw.first.slug] == [
        {"bookingId": pw.first.bookings[0], "note": NOTE, "withheld": False, "withheldReason": None}
    ]
    exported = (await gql(client, EXPORT, {"f": "JSON"}, token=pw.subject)).ok()["exportMyData"]
    assert exported["formatVersion"] == "1.1"
    document = json.loads(exported["content"])
    first = next(c for c in document["controllers"] if c["controller"]["slug"] == pw.first.slug)
    assert first["staff_notes"] == [
        {
            "booking_id": pw.first.bookings[0],
            "staff_note": NOTE,
            "withheld": False,
            "withheld_reason": None,
        }
    ]
    page = (await gql(client, EXPORT, {"f": "HTML"}, token=pw.subject)).ok()["exportMyData"]
    assert "Notes the business's staff wrote about you" in page["content"]
    assert NOTE in page["content"]


async def test_a_withheld_note_is_named_with_its_reason_and_not_shown(
    client: httpx.AsyncClient, pw: PrivacyWorld
) -> None:
    done = await gql(
        client, WITHHOLD, {"id": pw.first.bookings[0], "reason": REASON}, token=pw.first.staff
    )
    assert done.ok()["withholdStaffNote"] == {
        "bookingId": pw.first.bookings[0],
        "withheld": True,
        "withheldReason": REASON,
    }
    notes = await _notes(client, pw.subject)
    assert notes[pw.first.slug] == [
        {
            "bookingId": pw.first.bookings[0],
            "note": None,
            "withheld": True,
            "withheldReason": REASON,
        }
    ]
    # The other business's note is not affected.
    assert notes[pw.second.slug][0]["note"] == NOTE
    for fmt in ("JSON", "HTML"):
        content = (await gql(client, EXPORT, {"f": fmt}, token=pw.subject)).ok()["exportMyData"][
            "content"
        ]
        assert content.count(NOTE) == 1  # the second business's note only
        assert REASON in content
    exported = json.loads(
        (await gql(client, EXPORT, {"f": "JSON"}, token=pw.subject)).ok()["exportMyData"]["content"]
    )
    first = next(c for c in exported["controllers"] if c["controller"]["slug"] == pw.first.slug)
    assert first["staff_notes"][0] | {"booking_id": None} == {
        "booking_id": None,
        "staff_note": None,
        "withheld": True,
        "withheld_reason": REASON,
    }


async def test_only_the_business_may_withhold_its_notes(
    client: httpx.AsyncClient, backend: Backend, pw: PrivacyWorld
) -> None:
    booking = pw.first.bookings[0]
    variables = {"id": booking, "reason": REASON}
    other_tenant = await gql(client, WITHHOLD, variables, token=pw.second.admin)
    assert other_tenant.codes == ["NOT_FOUND"], other_tenant.body
    other_subject = tokens.subject_token(
        backend.settings, email=f"anden.{uuid.uuid4().hex[:8]}@example.org"
    )
    for token in (
        pw.first.reminders_key,
        pw.first.accounting_key,
        pw.subject,
        other_subject,
        None,
    ):
        refused = await gql(client, WITHHOLD, variables, token=token)
        assert refused.codes == ["FORBIDDEN"], refused.body
    blank = await gql(client, WITHHOLD, {"id": booking, "reason": "  "}, token=pw.first.admin)
    assert blank.codes == ["BAD_USER_INPUT"] and blank.errors[0]["extensions"]["field"] == "reason"
    no_note = await gql(
        client, WITHHOLD, {"id": pw.first.bookings[1], "reason": REASON}, token=pw.first.admin
    )
    assert no_note.codes == ["BAD_USER_INPUT"]
    assert no_note.errors[0]["extensions"]["field"] == "bookingId"
    # Nothing was withheld by the refused calls; another subject sees none of the notes.
    assert (await _notes(client, pw.subject))[pw.first.slug][0]["withheld"] is False
    assert await _notes(client, other_subject) == {}
    for who in (pw.first.staff, pw.first.reminders_key, None):
        assert (await gql(client, NOTES, token=who)).codes == ["FORBIDDEN"]
