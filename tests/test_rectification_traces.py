"""A corrected value is one the person wanted gone: once a rectification commits, no copy
of the old value is left in the database file, its WAL, any other file the server
writes, the outbox or the audit trail."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from store.engine import create_engine, create_sessionmaker
from store.migrate import upgrade
from store.models import AuditEvent, CreatedVia, Customer, OutboxMessage, Tenant, TenantKind
from store.types import new_id
from tests.conftest import TEST_SECRET, Backend
from tests.graphql_client import gql
from tests.live_server import LiveServer, server_env, start_server
from tests.test_erasure import TEST_ERASURE_KEY

LOGIN = "mutation($email: String!) { requestSubjectLogin(email: $email) { accepted } }"
VERIFY = """mutation($email: String!, $code: String!) {
  verifySubjectLogin(email: $email, code: $code) { token } }"""
RECTIFY = """mutation($input: RectifyMyDataInput!) {
  rectifyMyData(input: $input) { changedFields pendingConfirmation } }"""
CONFIRM = """mutation($code: String!) { confirmRectification(code: $code) { changedFields } }"""


def old_and_new() -> tuple[dict[str, str], dict[str, str]]:
    tag = uuid.uuid4().hex[:8]
    digits = "".join(random.choice("0123456789") for _ in range(6))
    old = {
        "name": f"Olga Gammelnavn {tag}",
        "email": f"olga.gammel.{tag}@example.dk",
        "phone": f"+4528{digits}",
        "street": f"Gammelvej {tag}",
        "city": f"Gammelby{tag}",
    }
    new = {
        "name": f"Olga Nytnavn {tag}",
        "email": f"olga.ny.{tag}@example.dk",
        "phone": f"+4528{(int(digits) + 1) % 1_000_000:06d}",
        "street": f"Nyvej {tag}",
        "city": f"Nyby{tag}",
    }
    return old, new


async def add_customer(url: str, old: dict[str, str]) -> None:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            tenant = Tenant(
                id=new_id(),
                slug=f"spor-{uuid.uuid4().hex[:8]}",
                name="Spor",
                kind=TenantKind.WORKSHOP,
            )
            session.add(tenant)
            await session.flush()
            session.add(
                Customer(
                    id=new_id(),
                    tenant_id=tenant.id,
                    created_via=CreatedVia.ONLINE,
                    postal_code="7100",
                    **old,
                )
            )
    finally:
        await engine.dispose()


async def latest_code(url: str, recipient: str) -> str:
    """The code in the newest message to ``recipient`` (a short-lived connection of its own)."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            body = (
                await session.execute(
                    select(OutboxMessage.body)
                    .where(OutboxMessage.recipient == recipient)
                    .order_by(OutboxMessage.created_at.desc())
                    .limit(1)
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    found = re.search(r"\b([0-9]{6})\b", body)
    assert found, body
    return found.group(1)


async def rectify_everything(
    http: httpx.AsyncClient, url: str, old: dict[str, str], new: dict[str, str]
) -> None:
    """Sign in with a code to the old address, then correct every field (email and phone
    confirmed with the codes sent to the new ones)."""
    (await gql(http, LOGIN, {"email": old["email"]})).ok()
    code = await latest_code(url, old["email"])
    token = (await gql(http, VERIFY, {"email": old["email"], "code": code})).ok()
    token = token["verifySubjectLogin"]["token"]
    changed = (await gql(http, RECTIFY, {"input": new}, token=token)).ok()["rectifyMyData"]
    assert changed["pendingConfirmation"] == ["email", "phone"]
    for address in (new["phone"], new["email"]):
        code = await latest_code(url, address)
        (await gql(http, CONFIRM, {"code": code}, token=token)).ok()


async def assert_outbox_and_audit_clean(url: str, old: dict[str, str]) -> None:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            messages = (await session.execute(select(OutboxMessage))).scalars().all()
            events = (await session.execute(select(AuditEvent))).scalars().all()
            customer = (
                (await session.execute(select(Customer).where(Customer.name.like("Olga%"))))
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    assert customer, "the rectified record must still be there"
    for value in old.values():
        lowered = value.lower()
        assert not [
            m.id for m in messages if lowered in f"{m.recipient} {m.subject} {m.body}".lower()
        ]
        assert not [
            e.id
            for e in events
            if lowered in f"{e.actor} {e.entity_id} {e.fields} {e.details}".lower()
        ]


@pytest.fixture
async def sqlite_server(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[str, LiveServer]]:
    if backend.name != "sqlite":
        pytest.skip("reads the bytes of the SQLite files the server writes")
    url = f"sqlite+aiosqlite:///{tmp_path / 'rectify.db'}"
    upgrade(url)
    env = server_env(
        url,
        secret=TEST_SECRET,
        extra={
            "TENANTGRAPH_ERASURE_KEY": TEST_ERASURE_KEY,
            "TENANTGRAPH_CODE_RATE_LIMIT": "1000000",
            "TENANTGRAPH_PRINCIPAL_RATE_LIMIT": "1000000",
        },
    )
    server = await start_server(env, log=tmp_path / "server.log", workers=1, cwd=tmp_path)
    try:
        yield url, server
    finally:
        await server.stop()


def written_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.is_file())


def files_holding(directory: Path, values: list[str]) -> list[tuple[str, str]]:
    """(file, value) for every file under ``directory`` whose bytes contain a value."""
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        content = path.read_bytes()
        found += [(path.name, v) for v in values if v.encode() in content]
    return found


async def test_old_values_leave_every_file_the_server_writes(
    sqlite_server: tuple[str, LiveServer], tmp_path: Path
) -> None:
    url, server = sqlite_server
    old, new = old_and_new()
    await add_customer(url, old)
    assert files_holding(tmp_path, list(old.values())), "the scan must see the old values first"
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        await rectify_everything(http, url, old, new)
    # The server is still running: what it has written so far is what a copy would take.
    written = written_files(tmp_path)
    assert {"rectify.db", "server.log"} <= set(written), written
    assert files_holding(tmp_path, list(old.values())) == []
    assert files_holding(tmp_path, [new["email"], new["city"]]), "the new values are there"
    await assert_outbox_and_audit_clean(url, old)


async def test_outbox_and_audit_trail_keep_no_old_value(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    old, new = old_and_new()
    await add_customer(backend.url, old)
    await rectify_everything(client, backend.url, old, new)
    await assert_outbox_and_audit_clean(backend.url, old)
