"""Erasure (GDPR Art. 17): preview, receipt, what is left afterwards, and who may do it.

Every test erases a person of this module's own businesses (``Shop``), made
with distinctive values, so the checks can scan the whole database for them.
The byte scan and the journal replay work on SQLite files of their own.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from audit.trail import verify_chain
from basics.ids import encode_id
from basics.settings import Settings
from identity import tokens
from identity.apikeys import create_api_key
from privacy import anonymise, codes
from privacy import erasure as erasure_module
from privacy.erasure import HANDLED_ROWS, erase_customer
from privacy.erasure_receipt import ErasureReceipt
from privacy.flush import flush_erased_pages
from privacy.identities import identity_keys
from privacy.journal import replay_journal
from privacy.retention import purge
from privacy.retention_dates import BOOKKEEPING_BASIS, report_basis
from server.app import create_app
from store.data_map import DATA_MAP, Category, RowErasure
from store.engine import create_engine, create_sessionmaker, write_transaction
from store.migrate import upgrade
from store.models import (
    AuditEvent,
    Base,
    Booking,
    BookingChannel,
    BookingStatus,
    CreatedVia,
    Customer,
    Document,
    DocumentKind,
    ErasureJournalEntry,
    OneTimeCode,
    OutboxMessage,
    PartnerRead,
    PrivacyRequest,
    PrivacyRequestStatus,
    PrivacyRequestType,
    RecipientNotice,
    Service,
    Tenant,
    TenantKind,
    Vehicle,
)
from store.types import new_id, utcnow
from tests.conftest import TEST_SECRET, Backend
from tests.graphql_client import gql

TEST_ERASURE_KEY = "test-erasure-journal-key-kept-outside-the-database-0123456789"
INVOICE_ISSUED = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
# 31 December of the issue year + 5 (Danish Bookkeeping Act).
INVOICE_KEPT_UNTIL = date(2030, 12, 31)
REPORT_YEARS = 10

PREVIEW = """query($id: ID!) { previewErasure(customerId: $id) {
  customerId cancelledBookings recipients
  counts { entity outcome count legalBasis retainUntil } } }"""
ERASE = """mutation($id: ID!) { eraseCustomer(id: $id) { receipt {
  customerId erasedAt cancelledBookings recipientsNotified
  records { entity id outcome legalBasis retainUntil }
  counts { entity outcome count legalBasis retainUntil } } } }"""
DOCUMENT = "query($id: ID!) { document(id: $id) { id kind title sha256 content retainUntil } }"
BOOKING = """query($id: ID!) { booking(id: $id) {
  reference status startsAt endsAt priceOre channel customerNotes internalNotes
  customer { id } vehicle { id } service { id } } }"""

ROLES = ("tenant_admin", "staff", "inspector")
PARTNERS = ("partner_accounting", "partner_reminders")


@dataclass
class Shop:
    """A business of this module's own, with a credential for every role."""

    id: str
    slug: str
    service_id: str
    tokens: dict[str, str] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)
    api_key_ids: dict[str, str] = field(default_factory=dict)


@dataclass
class Person:
    """A customer with everything that can hang off one, and the values that identify them."""

    shop: Shop
    customer: str
    vehicle: str
    past_booking: str
    future_booking: str
    invoice: str
    report: str
    other_document: str
    partner_read: str
    outbox_message: str
    code: str
    privacy_request: str
    name: str
    email: str
    phone: str
    registration: str
    vin: str
    customer_notes: str
    internal_notes: str
    report_text: str
    invoice_bytes: bytes
    old_references: tuple[str, str]
    bystander: str

    @property
    def gid(self) -> str:
        return encode_id("Customer", self.customer)

    @property
    def identifiers(self) -> list[str]:
        return [self.email, self.phone, self.registration, self.vin]


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


async def run_cli(env: dict[str, str], cwd: Path, *args: str) -> CliResult:
    """``tenantgraph ARGS`` in a process of its own, as an operator would run it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return CliResult(process.returncode or 0, out.decode(), err.decode())


def use_test_erasure_key(settings: Settings) -> None:
    """The journal key comes from settings; tests give it one instead of a key file."""
    if not settings.erasure_key:
        settings.erasure_key = TEST_ERASURE_KEY


async def open_shop(
    engine: AsyncEngine, settings: Settings, label: str, *, report_years: int | None = None
) -> Shop:
    slug = f"{label}-{uuid.uuid4().hex[:8]}"
    async with create_sessionmaker(engine)() as session, session.begin():
        tenant = Tenant(
            id=new_id(),
            slug=slug,
            name=f"Slet {label}",
            kind=TenantKind.INSPECTION_STATION,
            report_retention_years=report_years,
        )
        session.add(tenant)
        await session.flush()
        service = Service(
            id=new_id(),
            tenant_id=tenant.id,
            name="Periodisk syn",
            duration_minutes=30,
            price_ore=55000,
        )
        session.add(service)
        shop = Shop(id=tenant.id, slug=slug, service_id=service.id)
        for role in PARTNERS:
            created = await create_api_key(session, tenant=tenant, role=role, name=f"{role} key")
            await session.flush()
            shop.api_keys[role] = created.plaintext
            shop.api_key_ids[role] = created.key.id
    for role in ROLES:
        shop.tokens[role] = tokens.staff_token(
            settings, subject=f"{role}@{slug}", tenant_id=shop.id, tenant_slug=slug, role=role
        )
    return shop


def _digits(n: int) -> str:
    return "".join(random.choice("0123456789") for _ in range(n))


async def add_person(
    engine: AsyncEngine, settings: Settings, shop: Shop, *, invoice_retain_until: date | None = None
) -> Person:
    """A customer with a vehicle, a past and a future booking, three documents, a partner
    read, a message and a code sent to them, and a privacy request; plus a bystander."""
    tag = uuid.uuid4().hex
    name = f"Erasmus Sletmig-{tag[:6]}"
    email = f"erasmus.{tag[:10]}@example.dk"
    phone = f"+452{_digits(7)}"
    registration = f"EZ{_digits(5)}"
    vin = f"WVWZZZ{tag[10:21].upper()}"
    customer_notes = f"Ring på {phone} hvis I er forsinket ({tag[21:27]})"
    internal_notes = f"Stamkunde, kører {registration} ({tag[21:27]})"
    report_text = f"Synsrapport {registration} {vin}: Godkendt uden anmærkninger {tag[:6]}"
    invoice_bytes = f"Faktura {tag[:6]}: {name}, periodisk syn 550,00 kr inkl. moms".encode()
    now = utcnow().replace(microsecond=0)
    ids = {k: new_id() for k in ("c", "v", "past", "future", "inv", "rep", "oth", "bys", "bysv")}
    refs = (f"PA{tag[:6].upper()}", f"FU{tag[:6].upper()}")
    async with create_sessionmaker(engine)() as session, session.begin():
        session.add_all(
            [
                Customer(
                    id=ids["c"],
                    tenant_id=shop.id,
                    name=name,
                    email=email,
                    phone=phone,
                    street=f"Sletvej {tag[:4]}",
                    postal_code="8000",
                    city="Aarhus C",
                    created_via=CreatedVia.ONLINE,
                    objections=["marketing"],
                ),
                Customer(
                    id=ids["bys"],
                    tenant_id=shop.id,
                    name="Bente Bystander",
                    email=f"bente.{tag[:8]}@example.dk",
                    created_via=CreatedVia.PHONE,
                ),
            ]
        )
        await session.flush()
        session.add_all(
            [
                Vehicle(
                    id=ids["v"],
                    tenant_id=shop.id,
                    owner_id=ids["c"],
                    registration=registration,
                    vin=vin,
                    make="Volkswagen",
                    model="Golf",
                ),
                Vehicle(id=ids["bysv"], tenant_id=shop.id, owner_id=ids["bys"], registration=None),
            ]
        )
        await session.flush()
        future_start = now + timedelta(days=40)
        session.add_all(
            [
                Booking(
                    id=ids["past"],
                    tenant_id=shop.id,
                    customer_id=ids["c"],
                    vehicle_id=ids["v"],
                    service_id=shop.service_id,
                    starts_at=INVOICE_ISSUED - timedelta(minutes=30),
                    ends_at=INVOICE_ISSUED,
                    status=BookingStatus.COMPLETED,
                    reference=refs[0],
                    customer_notes=customer_notes,
                    internal_notes=internal_notes,
                    price_ore=55000,
                    channel=BookingChannel.ONLINE,
                    created_by=f"subject:{email}",
                ),
                Booking(
                    id=ids["future"],
                    tenant_id=shop.id,
                    customer_id=ids["c"],
                    vehicle_id=ids["v"],
                    service_id=shop.service_id,
                    starts_at=future_start,
                    ends_at=future_start + timedelta(minutes=30),
                    status=BookingStatus.CONFIRMED,
                    reference=refs[1],
                    price_ore=55000,
                    channel=BookingChannel.PHONE,
                    created_by="staff:someone",
                ),
            ]
        )
        await session.flush()
        other_bytes = f"Foto af stenslag, {name}".encode()
        for doc_id, kind, content, until in (
            (ids["inv"], DocumentKind.INVOICE, invoice_bytes, invoice_retain_until),
            (ids["rep"], DocumentKind.INSPECTION_REPORT, report_text.encode(), None),
            (ids["oth"], DocumentKind.OTHER, other_bytes, None),
        ):
            session.add(
                Document(
                    id=doc_id,
                    tenant_id=shop.id,
                    booking_id=ids["past"],
                    customer_id=ids["c"],
                    kind=kind,
                    title=f"{kind.value.title()} {tag[:4]}",
                    issued_at=INVOICE_ISSUED,
                    mime_type="text/plain",
                    size_bytes=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    content=content,
                    retain_until=until,
                    created_by="staff:someone",
                )
            )
        read = PartnerRead(
            id=new_id(),
            tenant_id=shop.id,
            customer_id=ids["c"],
            api_key_id=shop.api_key_ids["partner_reminders"],
            day=now.date(),
            fields=["Customer.email", "Customer.phone"],
            first_read_at=now,
            last_read_at=now,
        )
        message = OutboxMessage(
            id=new_id(), channel="email", recipient=email, subject="Din kode", body="Kode 123456"
        )
        code = OneTimeCode(
            id=new_id(),
            purpose=codes.LOGIN,
            target_key=codes.address_key(settings.signing_key(), codes.EMAIL, email),
            code_hash="0" * 64,
            expires_at=now + timedelta(minutes=10),
            payload={},
        )
        request = PrivacyRequest(
            id=new_id(),
            tenant_id=shop.id,
            customer_id=ids["c"],
            type=PrivacyRequestType.ACCESS,
            status=PrivacyRequestStatus.COMPLETED,
            due_at=now + timedelta(days=30),
            requested_by=f"subject:{email}",
        )
        session.add_all([read, message, code, request])
    return Person(
        shop=shop,
        customer=ids["c"],
        vehicle=ids["v"],
        past_booking=ids["past"],
        future_booking=ids["future"],
        invoice=ids["inv"],
        report=ids["rep"],
        other_document=ids["oth"],
        partner_read=read.id,
        outbox_message=message.id,
        code=code.id,
        privacy_request=request.id,
        name=name,
        email=email,
        phone=phone,
        registration=registration,
        vin=vin,
        customer_notes=customer_notes,
        internal_notes=internal_notes,
        report_text=report_text,
        invoice_bytes=invoice_bytes,
        old_references=refs,
        bystander=ids["bys"],
    )


async def dump(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ordered: the whole database, to compare or scan."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = await connection.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [dict(row._mapping) for row in rows]
    return out


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").lower()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).lower()
    return str(value).lower()


def traces(
    database: dict[str, list[dict[str, Any]]], needles: list[str], *, skip: tuple[str, ...] = ()
) -> list[str]:
    """Where any needle occurs in any column of any row (table.column)."""
    found = []
    lowered = [n.lower() for n in needles]
    for table, rows in database.items():
        if table in skip:
            continue
        for row in rows:
            for column, value in row.items():
                if value is None:
                    continue
                text = _as_text(value)
                found += [f"{table}.{column}" for n in lowered if n in text]
    return found


def derived_hashes(values: list[str], key: bytes) -> list[str]:
    """SHA-256 and HMAC hex of each value as given and as the journal normalises it."""
    out = []
    for value in values:
        for form in {value, value.lower(), f"email:{value.lower()}", f"phone:{value}"}:
            out.append(hashlib.sha256(form.encode()).hexdigest())
            out.append(hmac.new(key, form.encode(), hashlib.sha256).hexdigest())
    return out


@pytest.fixture(scope="module")
async def shops(backend: Backend) -> dict[str, Shop]:
    use_test_erasure_key(backend.settings)
    return {
        "plain": await open_shop(backend.engine, backend.settings, "slet-syn"),
        "keeper": await open_shop(
            backend.engine, backend.settings, "gem-syn", report_years=REPORT_YEARS
        ),
        "other": await open_shop(backend.engine, backend.settings, "anden-syn"),
    }


@pytest.fixture
async def person(backend: Backend, shops: dict[str, Shop]) -> Person:
    return await add_person(backend.engine, backend.settings, shops["plain"])


def _count(counts: list[dict[str, Any]], entity: str, outcome: str) -> int:
    return sum(c["count"] for c in counts if c["entity"] == entity and c["outcome"] == outcome)


async def test_preview_gives_counts_and_grounds_and_changes_nothing(
    client: httpx.AsyncClient, backend: Backend, person: Person
) -> None:
    before = await dump(backend.engine)
    data = (
        await gql(client, PREVIEW, {"id": person.gid}, token=person.shop.tokens["tenant_admin"])
    ).ok()["previewErasure"]
    assert data["customerId"] == person.gid
    assert data["cancelledBookings"] == 1
    assert data["recipients"] == 1
    counts = data["counts"]
    assert _count(counts, "Customer", "DELETED") == 1
    assert _count(counts, "Vehicle", "DELETED") == 1
    assert _count(counts, "Booking", "ANONYMISED") == 2
    assert _count(counts, "Document", "DELETED") == 2  # the report and the other document
    assert _count(counts, "PartnerRead", "DELETED") == 1
    assert _count(counts, "OneTimeCode", "DELETED") == 1
    assert _count(counts, "OutboxMessage", "DELETED") == 1
    assert _count(counts, "PrivacyRequest", "ANONYMISED") == 1
    retained = [c for c in counts if c["outcome"] == "RETAINED"]
    assert retained == [
        {
            "entity": "Document",
            "outcome": "RETAINED",
            "count": 1,
            "legalBasis": BOOKKEEPING_BASIS,
            "retainUntil": INVOICE_KEPT_UNTIL.isoformat(),
        }
    ]
    assert all(c["legalBasis"] is None for c in counts if c["outcome"] == "DELETED")
    assert await dump(backend.engine) == before


async def _erase(client: httpx.AsyncClient, person: Person) -> dict[str, Any]:
    result = await gql(client, ERASE, {"id": person.gid}, token=person.shop.tokens["tenant_admin"])
    return result.ok()["eraseCustomer"]["receipt"]  # type: ignore[no-any-return]


async def test_erasure_receipt_gives_every_record_its_outcome(
    client: httpx.AsyncClient, backend: Backend, person: Person
) -> None:
    receipt = await _erase(client, person)
    outcomes = {(r["entity"], r["id"]): r for r in receipt["records"]}
    assert outcomes[("Customer", person.gid)]["outcome"] == "DELETED"
    assert outcomes[("Vehicle", encode_id("Vehicle", person.vehicle))]["outcome"] == "DELETED"
    for booking in (person.past_booking, person.future_booking):
        assert outcomes[("Booking", encode_id("Booking", booking))]["outcome"] == "ANONYMISED"
    invoice = outcomes[("Document", encode_id("Document", person.invoice))]
    assert invoice == {
        "entity": "Document",
        "id": encode_id("Document", person.invoice),
        "outcome": "RETAINED",
        "legalBasis": BOOKKEEPING_BASIS,
        "retainUntil": "2030-12-31",
    }
    for document in (person.report, person.other_document):
        assert outcomes[("Document", encode_id("Document", document))]["outcome"] == "DELETED"
    assert outcomes[("PartnerRead", encode_id("PartnerRead", person.partner_read))]["outcome"] == (
        "DELETED"
    )
    assert receipt["cancelledBookings"] == 1
    assert receipt["recipientsNotified"] == 1
    assert sum(c["count"] for c in receipt["counts"]) == len(receipt["records"])

    async with create_sessionmaker(backend.engine)() as session:
        assert await session.get(Customer, person.customer) is None
        assert await session.get(Vehicle, person.vehicle) is None
        assert await session.get(Document, person.report) is None
        assert await session.get(PartnerRead, person.partner_read) is None
        assert await session.get(OutboxMessage, person.outbox_message) is None
        assert await session.get(OneTimeCode, person.code) is None
        kept = await session.get(Document, person.invoice)
        assert kept is not None and kept.retained_since is not None and kept.customer_id is None
        assert kept.retain_until == INVOICE_KEPT_UNTIL
        request = await session.get(PrivacyRequest, person.privacy_request)
        assert request is not None and request.customer_id is None
        assert person.email not in request.requested_by
        bystander = await session.get(Customer, person.bystander)
        assert bystander is not None and bystander.name == "Bente Bystander"

        events = (
            await session.execute(
                select(AuditEvent).where(
                    AuditEvent.tenant_id == person.shop.id, AuditEvent.action == "customer.erase"
                )
            )
        ).scalars()
        event = next(e for e in events if e.entity_id == person.gid)
        assert event.details["counts"]["Document"] == {"RETAINED": 1, "DELETED": 2}
        assert event.details["counts"]["Booking"] == {"ANONYMISED": 2}
        assert encode_id("Document", person.invoice) in event.details["retained"]
        assert (await verify_chain(session, person.shop.id)).intact

        journal = (
            await session.execute(
                select(ErasureJournalEntry).where(
                    ErasureJournalEntry.id == event.details["journal_entry"]
                )
            )
        ).scalar_one()
        assert sorted(journal.identity_keys) == sorted(
            identity_keys(
                backend.settings.erasure_journal_key(), email=person.email, phone=person.phone
            )
        )

        notices = (
            (
                await session.execute(
                    select(RecipientNotice).where(RecipientNotice.customer_ref == person.gid)
                )
            )
            .scalars()
            .all()
        )
        assert [(n.api_key_id, n.kind, n.fields) for n in notices] == [
            (
                person.shop.api_key_ids["partner_reminders"],
                "ERASURE",
                ["Customer.email", "Customer.phone"],
            )
        ]


async def test_anonymised_bookings_keep_only_the_business_facts(
    client: httpx.AsyncClient, person: Person
) -> None:
    admin = person.shop.tokens["tenant_admin"]
    past_id = encode_id("Booking", person.past_booking)
    before = (await gql(client, BOOKING, {"id": past_id}, token=admin)).ok()["booking"]
    await _erase(client, person)
    after = (await gql(client, BOOKING, {"id": past_id}, token=admin)).ok()["booking"]
    assert after["customer"] is None and after["vehicle"] is None
    assert after["customerNotes"] is None and after["internalNotes"] is None
    assert after["reference"] not in person.old_references
    assert after["reference"].startswith("ANON-")
    for kept in ("startsAt", "endsAt", "priceOre", "status", "channel", "service"):
        assert after[kept] == before[kept], kept
    future = (
        await gql(client, BOOKING, {"id": encode_id("Booking", person.future_booking)}, token=admin)
    ).ok()["booking"]
    assert future["status"] == "CANCELLED" and future["customer"] is None


async def test_retained_invoice_is_hidden_from_all_but_the_keepers_and_unaltered(
    client: httpx.AsyncClient, world: Any, person: Person
) -> None:
    shop = person.shop
    invoice_id = encode_id("Document", person.invoice)
    await _erase(client, person)
    for token in (shop.tokens["staff"], shop.tokens["inspector"]):
        hidden = await gql(client, DOCUMENT, {"id": invoice_id}, token=token)
        assert hidden.codes == ["NOT_FOUND"]
    subject = tokens.subject_token(world.settings, email=person.email)
    mine = await gql(client, DOCUMENT, {"id": invoice_id}, token=subject)
    assert mine.codes == ["NOT_FOUND"]
    listing = await gql(client, "{ documents { totalCount } }", token=subject)
    assert listing.ok()["documents"]["totalCount"] == 0
    for token in (shop.tokens["tenant_admin"], shop.api_keys["partner_accounting"]):
        seen = (await gql(client, DOCUMENT, {"id": invoice_id}, token=token)).ok()["document"]
        assert seen["kind"] == "INVOICE"
        assert seen["sha256"] == hashlib.sha256(person.invoice_bytes).hexdigest()
        assert base64.b64decode(seen["content"]) == person.invoice_bytes
        assert seen["retainUntil"] == INVOICE_KEPT_UNTIL.isoformat()
        download = await client.get(
            f"/documents/{invoice_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert download.status_code == 200 and download.content == person.invoice_bytes


async def test_a_tenant_that_keeps_reports_retains_the_report(
    client: httpx.AsyncClient, backend: Backend, shops: dict[str, Shop]
) -> None:
    keeper = shops["keeper"]
    person = await add_person(backend.engine, backend.settings, keeper)
    receipt = await _erase(client, person)
    report = next(r for r in receipt["records"] if r["id"] == encode_id("Document", person.report))
    assert report["outcome"] == "RETAINED"
    assert report["legalBasis"] == report_basis(REPORT_YEARS)
    # Issued 3 March 2025 (Copenhagen time) + 10 years.
    assert report["retainUntil"] == "2035-03-03"
    other = next(
        r for r in receipt["records"] if r["id"] == encode_id("Document", person.other_document)
    )
    assert other["outcome"] == "DELETED"
    async with create_sessionmaker(backend.engine)() as session:
        row = await session.get(Document, person.report)
        assert row is not None and row.retained_since is not None
        assert row.retain_until == date(2035, 3, 3)
        assert row.sha256 == hashlib.sha256(person.report_text.encode()).hexdigest()
    report_id = encode_id("Document", person.report)
    hidden = await gql(client, DOCUMENT, {"id": report_id}, token=keeper.tokens["inspector"])
    assert hidden.codes == ["NOT_FOUND"]
    seen = await gql(client, DOCUMENT, {"id": report_id}, token=keeper.tokens["tenant_admin"])
    assert seen.ok()["document"]["kind"] == "INSPECTION_REPORT"


async def test_nothing_left_links_to_the_person(
    client: httpx.AsyncClient, backend: Backend, person: Person
) -> None:
    database = await dump(backend.engine)
    assert traces(database, person.identifiers), "the scan must see the values before erasure"
    await _erase(client, person)
    database = await dump(backend.engine)
    key = backend.settings.erasure_journal_key()
    needles = [*person.identifiers, person.customer_notes, person.internal_notes]
    needles += derived_hashes(person.identifiers, key)
    needles += [
        codes.address_key(backend.settings.signing_key(), codes.EMAIL, person.email),
        codes.address_key(backend.settings.signing_key(), codes.PHONE, person.phone),
    ]
    # The journal is the one deliberate exception: keyed hashes, key outside the database.
    assert traces(database, needles, skip=("erasure_journal",)) == []
    journal_hits = traces(database, identity_keys(key, email=person.email, phone=person.phone))
    assert set(journal_hits) == {"erasure_journal.identity_keys"}
    # The person's name survives only inside the invoice the law says to keep.
    assert set(traces(database, [person.name])) == {"documents.content"}


async def test_erasing_twice_is_harmless(
    client: httpx.AsyncClient, backend: Backend, person: Person
) -> None:
    await _erase(client, person)
    before = await dump(backend.engine)
    again = await gql(client, ERASE, {"id": person.gid}, token=person.shop.tokens["tenant_admin"])
    assert again.codes == ["NOT_FOUND"]
    preview = await gql(
        client, PREVIEW, {"id": person.gid}, token=person.shop.tokens["tenant_admin"]
    )
    assert preview.codes == ["NOT_FOUND"]
    async with write_transaction(create_sessionmaker(backend.engine)) as tx:
        receipt = await erase_customer(
            tx, person.customer, person.shop.id, actor="test", settings=backend.settings
        )
    assert not receipt.found and receipt.records == ()
    assert json.loads(json.dumps(receipt.as_dict()))["found"] is False
    assert await dump(backend.engine) == before


async def test_a_failed_erasure_leaves_everything_as_it_was_and_can_be_retried(
    client: httpx.AsyncClient,
    backend: Backend,
    person: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = await dump(backend.engine)

    async def broken_audit(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    # The audit event is the last step: everything else has been done by then.
    monkeypatch.setattr(erasure_module.audit, "record", broken_audit)
    failed = await gql(client, ERASE, {"id": person.gid}, token=person.shop.tokens["tenant_admin"])
    assert failed.codes == ["INTERNAL_SERVER_ERROR"]
    assert "audit store" not in json.dumps(failed.body)
    assert await dump(backend.engine) == before
    monkeypatch.undo()
    receipt = await _erase(client, person)
    assert _count(receipt["counts"], "Customer", "DELETED") == 1


async def test_the_wrong_tenant_finds_nothing_and_changes_nothing(
    client: httpx.AsyncClient, backend: Backend, shops: dict[str, Shop], person: Person
) -> None:
    before = await dump(backend.engine)
    other_admin = shops["other"].tokens["tenant_admin"]
    assert (await gql(client, PREVIEW, {"id": person.gid}, token=other_admin)).codes == [
        "NOT_FOUND"
    ]
    assert (await gql(client, ERASE, {"id": person.gid}, token=other_admin)).codes == ["NOT_FOUND"]
    async with write_transaction(create_sessionmaker(backend.engine)) as tx:
        receipt = await erase_customer(
            tx, person.customer, shops["other"].id, actor="test", settings=backend.settings
        )
    assert not receipt.found
    assert await dump(backend.engine) == before


@pytest.mark.parametrize(
    "caller",
    ["staff", "inspector", *PARTNERS, "subject", "platform_admin", "anonymous"],
)
async def test_only_the_tenant_admin_may_preview_or_erase(
    client: httpx.AsyncClient, backend: Backend, person: Person, caller: str
) -> None:
    shop = person.shop
    token: str | None
    if caller in ROLES:
        token = shop.tokens[caller]
    elif caller in PARTNERS:
        token = shop.api_keys[caller]
    elif caller == "subject":
        token = tokens.subject_token(backend.settings, email=person.email)
    elif caller == "platform_admin":
        token = tokens.platform_token(backend.settings)
    else:
        token = None
    for query in (PREVIEW, ERASE):
        result = await gql(client, query, {"id": person.gid}, token=token)
        assert result.codes == ["FORBIDDEN"], (caller, result.body)
    async with create_sessionmaker(backend.engine)() as session:
        assert await session.get(Customer, person.customer) is not None


def test_erasure_follows_the_data_map() -> None:
    """Every table holding something about a person is handled, as the data map says."""
    about_a_person = {
        table
        for table, mapping in DATA_MAP.items()
        if mapping.rows is not RowErasure.KEEP
        or any(a.category is Category.SUBJECT_LINK for a in mapping.columns.values())
    }
    assert about_a_person == set(HANDLED_ROWS)
    for table, rows in HANDLED_ROWS.items():
        assert DATA_MAP[table].rows is rows, table
    for table in ("bookings", "privacy_requests"):
        anonymise.anonymisation_plan(table)  # refuses what it could not honour


# --- SQLite files of their own: the bytes on disk, and a restored backup ---------------


@dataclass
class FileDatabase:
    path: Path
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings


@pytest.fixture
async def file_database(backend: Backend, tmp_path: Path) -> AsyncIterator[FileDatabase]:
    if backend.name != "sqlite":
        pytest.skip("SQLite-specific: reads the database file's bytes and copies the file")
    path = tmp_path / "erasure.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    settings = Settings(
        database_url=url, secret_key=TEST_SECRET, erasure_key=TEST_ERASURE_KEY, env="development"
    )
    engine = create_engine(url)
    yield FileDatabase(path, engine, create_sessionmaker(engine), settings)
    await engine.dispose()


async def erase_and_flush(db: FileDatabase, person: Person) -> None:
    """Erase ``person`` through the API, purge what retention lets go and flush the file."""
    app = create_app(db.settings, engine=db.engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        await _erase(http, person)
    await purge(db.sessions, now=datetime(2100, 1, 1, tzinfo=UTC))
    flushed = await flush_erased_pages(db.engine)
    assert flushed.performed and flushed.complete


def _file_bytes(path: Path) -> dict[str, bytes]:
    files = {}
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            files[candidate.name] = candidate.read_bytes()
    return files


async def test_erased_values_are_gone_from_the_database_files(file_database: FileDatabase) -> None:
    db = file_database
    shop = await open_shop(db.engine, db.settings, "bytes-syn")
    person = await add_person(db.engine, db.settings, shop)
    values = [
        person.name,
        person.email,
        person.phone,
        person.registration,
        person.vin,
        person.customer_notes,
        person.internal_notes,
        person.report_text,
    ]
    encoded = {v: v.encode() for v in values}
    before = _file_bytes(db.path)
    assert all(any(e in content for content in before.values()) for e in encoded.values()), (
        "the values must be on disk before the erasure, or the scan proves nothing"
    )

    await erase_and_flush(db, person)

    after = _file_bytes(db.path)
    assert after.get("erasure.db-wal", b"") == b""
    left = [
        (name, value)
        for name, content in after.items()
        for value, raw in encoded.items()
        if raw in content
    ]
    assert left == []
    async with db.sessions() as session:
        assert await session.get(Document, person.invoice) is None
        assert await session.get(Customer, person.bystander) is not None


async def test_replaying_the_journal_erases_a_restored_person_again(
    file_database: FileDatabase, tmp_path: Path
) -> None:
    db = file_database
    shop = await open_shop(db.engine, db.settings, "backup-syn")
    person = await add_person(db.engine, db.settings, shop)
    assert (await flush_erased_pages(db.engine)).complete  # a consistent file to copy
    backup = tmp_path / "backup.db"
    shutil.copyfile(db.path, backup)

    async with write_transaction(db.sessions) as tx:
        receipt = await erase_customer(
            tx, person.customer, shop.id, actor="test", settings=db.settings
        )
    assert receipt.found

    restored_path = tmp_path / "restored.db"
    shutil.copyfile(backup, restored_path)
    restored_url = f"sqlite+aiosqlite:///{restored_path}"
    restored = create_engine(restored_url)
    restored_sessions = create_sessionmaker(restored)
    try:
        async with restored_sessions() as session:
            assert await session.get(Customer, person.customer) is not None  # back from the dead
        report = await replay_journal(restored_sessions, db.settings, journal=db.sessions)
        assert report.entries_copied == 1 and report.erased == 1
        again: ErasureReceipt = report.receipts[0]
        assert again.customer_id == person.gid
        assert {(r.entity, r.outcome.value) for r in again.records} >= {
            ("Customer", "DELETED"),
            ("Booking", "ANONYMISED"),
            ("Document", "RETAINED"),
        }
        async with restored_sessions() as session:
            assert await session.get(Customer, person.customer) is None
            assert await session.get(Vehicle, person.vehicle) is None
            assert await session.get(Customer, person.bystander) is not None
            invoice = await session.get(Document, person.invoice)
            assert invoice is not None and invoice.retained_since is not None
            entries = await session.scalar(select(func.count()).select_from(ErasureJournalEntry))
            assert entries == 1
        twice = await replay_journal(restored_sessions, db.settings, journal=db.sessions)
        assert twice.entries_copied == 0 and twice.erased == 0
    finally:
        await restored.dispose()

    # The same from the command line, against another copy of the backup.
    cli_path = tmp_path / "restored-cli.db"
    shutil.copyfile(backup, cli_path)
    env = {
        **os.environ,
        "TENANTGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{cli_path}",
        "TENANTGRAPH_SECRET_KEY": TEST_SECRET,
        "TENANTGRAPH_ERASURE_KEY": TEST_ERASURE_KEY,
    }
    result = await run_cli(
        env, tmp_path, "erasure", "replay", "--journal-from", f"sqlite+aiosqlite:///{db.path}"
    )
    assert result.returncode == 0, result.stderr
    assert "1 erased again" in result.stdout and person.gid in result.stdout
    cli_engine = create_engine(f"sqlite+aiosqlite:///{cli_path}")
    try:
        async with create_sessionmaker(cli_engine)() as session:
            assert await session.get(Customer, person.customer) is None
    finally:
        await cli_engine.dispose()
