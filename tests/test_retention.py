"""The purge: retained documents go when their date has passed, and so do spent codes,
old sent messages and old delivered notices; each deletion is audited with counts."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from audit.trail import PLATFORM_CHAIN, verify_chain
from basics.ids import encode_id
from privacy.retention import DELIVERED_NOTICE_DAYS, SENT_MESSAGE_DAYS, purge
from store.engine import create_sessionmaker
from store.models import (
    AuditEvent,
    Document,
    OneTimeCode,
    OutboxMessage,
    RecipientNotice,
)
from store.types import new_id, utcnow
from tests.conftest import TEST_SECRET, Backend
from tests.graphql_client import gql
from tests.test_erasure import (
    DOCUMENT,
    ERASE,
    INVOICE_KEPT_UNTIL,
    TEST_ERASURE_KEY,
    CliResult,
    Person,
    Shop,
    add_person,
    open_shop,
    run_cli,
    use_test_erasure_key,
)


@pytest.fixture(scope="module")
async def shop(backend: Backend) -> Shop:
    use_test_erasure_key(backend.settings)
    return await open_shop(backend.engine, backend.settings, "purge-syn")


async def erased_person(client: httpx.AsyncClient, backend: Backend, shop: Shop) -> Person:
    person = await add_person(backend.engine, backend.settings, shop)
    result = await gql(client, ERASE, {"id": person.gid}, token=shop.tokens["tenant_admin"])
    result.ok()
    return person


async def _purge_events(backend: Backend, chain: str) -> list[AuditEvent]:
    async with create_sessionmaker(backend.engine)() as session:
        return list(
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.chain == chain, AuditEvent.action == "retention.purge")
                    .order_by(AuditEvent.seq)
                )
            ).scalars()
        )


async def test_a_retained_invoice_goes_the_day_after_its_retention_date(
    client: httpx.AsyncClient, backend: Backend, shop: Shop
) -> None:
    person = await erased_person(client, backend, shop)
    sessions = create_sessionmaker(backend.engine)
    last_day = datetime.combine(INVOICE_KEPT_UNTIL, datetime.min.time(), UTC) + timedelta(hours=23)
    await purge(sessions, now=utcnow())
    await purge(sessions, now=last_day)
    async with sessions() as session:
        assert await session.get(Document, person.invoice) is not None
    assert await _purge_events(backend, shop.id) == []

    report = await purge(sessions, now=last_day + timedelta(hours=1))
    assert report.documents_by_tenant[shop.id] == {"INVOICE": 1}
    async with sessions() as session:
        assert await session.get(Document, person.invoice) is None
        assert (await verify_chain(session, shop.id)).intact
    [event] = await _purge_events(backend, shop.id)
    assert event.details == {"documents": 1, "by_kind": {"INVOICE": 1}}
    assert event.actor == "system:retention"
    gone = await gql(
        client,
        DOCUMENT,
        {"id": encode_id("Document", person.invoice)},
        token=shop.tokens["tenant_admin"],
    )
    assert gone.codes == ["NOT_FOUND"]


async def test_spent_codes_old_messages_and_delivered_notices_go(
    backend: Backend, shop: Shop
) -> None:
    now = utcnow().replace(microsecond=0)
    sessions = create_sessionmaker(backend.engine)
    codes = {
        "expired": now - timedelta(minutes=1),
        "live": now + timedelta(minutes=9),
    }
    messages = {
        "old": now - timedelta(days=SENT_MESSAGE_DAYS, minutes=1),
        "recent": now - timedelta(days=SENT_MESSAGE_DAYS - 1),
        "unsent": None,
    }
    notices = {
        "old": now - timedelta(days=DELIVERED_NOTICE_DAYS, minutes=1),
        "recent": now - timedelta(days=DELIVERED_NOTICE_DAYS - 1),
        "undelivered": None,
    }
    ids: dict[str, str] = {}
    async with sessions() as session, session.begin():
        for name, expires in codes.items():
            ids[f"code-{name}"] = new_id()
            session.add(
                OneTimeCode(
                    id=ids[f"code-{name}"],
                    purpose="login",
                    target_key="0" * 64,
                    code_hash="0" * 64,
                    expires_at=expires,
                    payload={},
                )
            )
        for name, sent in messages.items():
            ids[f"message-{name}"] = new_id()
            session.add(
                OutboxMessage(
                    id=ids[f"message-{name}"],
                    channel="email",
                    recipient="someone@example.org",
                    subject="Kode",
                    body="...",
                    created_at=now - timedelta(days=30),
                    sent_at=sent,
                )
            )
        for name, delivered in notices.items():
            ids[f"notice-{name}"] = new_id()
            session.add(
                RecipientNotice(
                    id=ids[f"notice-{name}"],
                    tenant_id=shop.id,
                    api_key_id=shop.api_key_ids["partner_accounting"],
                    customer_ref=encode_id("Customer", new_id()),
                    kind="ERASURE",
                    created_at=now - timedelta(days=200),
                    delivered_at=delivered,
                )
            )
    platform_events = len(await _purge_events(backend, PLATFORM_CHAIN))

    report = await purge(sessions, now=now)
    assert report.one_time_codes >= 1 and report.outbox_messages >= 1
    assert report.recipient_notices >= 1
    async with sessions() as session:
        for model, name, kept in (
            (OneTimeCode, "code-expired", False),
            (OneTimeCode, "code-live", True),
            (OutboxMessage, "message-old", False),
            (OutboxMessage, "message-recent", True),
            (OutboxMessage, "message-unsent", True),
            (RecipientNotice, "notice-old", False),
            (RecipientNotice, "notice-recent", True),
            (RecipientNotice, "notice-undelivered", True),
        ):
            assert (await session.get(model, ids[name]) is not None) is kept, name
    events = await _purge_events(backend, PLATFORM_CHAIN)
    assert len(events) == platform_events + 1
    assert events[-1].details == {
        "one_time_codes": report.one_time_codes,
        "outbox_messages": report.outbox_messages,
    }
    [notice_event] = [
        e for e in await _purge_events(backend, shop.id) if e.entity_type == "RecipientNotice"
    ]
    assert notice_event.details == {"recipient_notices": 1}


async def _cli(backend: Backend, tmp_path: Path, *args: str) -> CliResult:
    env = {
        **os.environ,
        "TENANTGRAPH_DATABASE_URL": backend.url,
        "TENANTGRAPH_SECRET_KEY": TEST_SECRET,
        "TENANTGRAPH_ERASURE_KEY": TEST_ERASURE_KEY,
    }
    return await run_cli(env, tmp_path, *args)


async def test_purge_from_the_command_line(
    client: httpx.AsyncClient, backend: Backend, shop: Shop, tmp_path: Path
) -> None:
    person = await erased_person(client, backend, shop)
    refused = await _cli(backend, tmp_path, "purge", "--now", "next tuesday")
    assert refused.returncode == 2 and "--now" in refused.stderr
    result = await _cli(backend, tmp_path, "purge", "--now", "2100-01-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("purged ") and "2100-01-01T00:00:00+00:00" in result.stdout
    async with create_sessionmaker(backend.engine)() as session:
        assert await session.get(Document, person.invoice) is None
    events = await _purge_events(backend, shop.id)
    documents = [e for e in events if e.entity_type == "Document"]
    assert documents[-1].details == {"documents": 1, "by_kind": {"INVOICE": 1}}


async def test_replay_from_the_command_line_finds_nobody_to_erase_again(
    backend: Backend, tmp_path: Path
) -> None:
    """Against the live database the journal's people are already gone."""
    result = await _cli(backend, tmp_path, "erasure", "replay")
    assert result.returncode == 0, result.stderr
    assert "0 erased again" in result.stdout
