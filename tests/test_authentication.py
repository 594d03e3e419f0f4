"""Bearer tokens and partner API keys: what is accepted and every way to be refused."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select

from identity.apikeys import create_api_key
from identity.tokens import issue_token, staff_token
from store.engine import create_sessionmaker
from store.models import AuditEvent, Tenant
from tests.cli import run_cli
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import gql

VIEWER = "{ viewer { kind roles email tenant { slug } } }"


def _claims(world: World, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "x",
        "tid": world.a.id,
        "tenant": world.a.slug,
        "roles": ["staff"],
        "iss": world.settings.jwt_issuer,
        "aud": world.settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


async def test_anonymous_viewer(client: httpx.AsyncClient) -> None:
    data = (await gql(client, VIEWER)).ok()
    assert data["viewer"] == {
        "kind": "ANONYMOUS",
        "roles": ["anonymous"],
        "email": None,
        "tenant": None,
    }


async def test_staff_subject_platform_and_partner_viewers(
    client: httpx.AsyncClient, world: World
) -> None:
    staff = (await gql(client, VIEWER, token=world.a.tokens["inspector"])).ok()["viewer"]
    assert staff == {
        "kind": "STAFF",
        "roles": ["inspector"],
        "email": None,
        "tenant": {"slug": "alpha-syn"},
    }
    subject = (await gql(client, VIEWER, token=world.subject_tokens["anna"])).ok()["viewer"]
    assert subject["kind"] == "SUBJECT" and subject["email"] == "anna@example.dk"
    platform = (await gql(client, VIEWER, token=world.platform_token)).ok()["viewer"]
    assert platform["kind"] == "PLATFORM" and platform["tenant"] is None
    partner = (await gql(client, VIEWER, token=world.b.api_keys["partner_reminders"])).ok()[
        "viewer"
    ]
    assert partner == {
        "kind": "PARTNER",
        "roles": ["partner_reminders"],
        "email": None,
        "tenant": {"slug": "beta-vaerksted"},
    }


def _bad_tokens(world: World) -> dict[str, str]:
    key = world.settings.signing_key()
    return {
        "alg none": jwt.encode(_claims(world), key="", algorithm="none"),
        "wrong key": jwt.encode(
            _claims(world), "another-key-that-is-long-enough-0123456789", algorithm="HS256"
        ),
        "wrong audience": jwt.encode(_claims(world, aud="someone-else"), key, algorithm="HS256"),
        "wrong issuer": jwt.encode(_claims(world, iss="someone-else"), key, algorithm="HS256"),
        "expired": jwt.encode(_claims(world, exp=int(time.time()) - 10), key, algorithm="HS256"),
        "no expiry": jwt.encode(_claims(world, exp=None), key, algorithm="HS256"),
        "no roles": jwt.encode(_claims(world, roles=[]), key, algorithm="HS256"),
        "unknown role": jwt.encode(_claims(world, roles=["root"]), key, algorithm="HS256"),
        "partner role in a token": jwt.encode(
            _claims(world, roles=["partner_accounting"]), key, algorithm="HS256"
        ),
        "staff without tenant": jwt.encode(_claims(world, tid=None), key, algorithm="HS256"),
        "subject without verified email": jwt.encode(
            _claims(world, roles=["subject"], email="anna@example.dk"), key, algorithm="HS256"
        ),
        "mixed roles": jwt.encode(
            _claims(world, roles=["staff", "subject"]), key, algorithm="HS256"
        ),
        "garbage": "not.a.jwt",
    }


@pytest.mark.parametrize(
    "case",
    [
        "alg none",
        "wrong key",
        "wrong audience",
        "wrong issuer",
        "expired",
        "no expiry",
        "no roles",
        "unknown role",
        "partner role in a token",
        "staff without tenant",
        "subject without verified email",
        "mixed roles",
        "garbage",
    ],
)
async def test_bad_tokens_are_unauthenticated(
    client: httpx.AsyncClient, world: World, case: str
) -> None:
    result = await gql(client, VIEWER, token=_bad_tokens(world)[case])
    assert result.status == 401
    assert result.codes == ["UNAUTHENTICATED"]
    assert result.data is None


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer ", "token abc"])
async def test_malformed_authorization_header(client: httpx.AsyncClient, header: str) -> None:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_revoked_and_unknown_api_keys(client: httpx.AsyncClient, world: World) -> None:
    good = world.a.api_keys["partner_accounting"]
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for key in (
        world.a.api_keys["revoked"],
        tampered,
        "tgk_short",
        "tgk_" + "a" * 12 + "_" + "b" * 40,
    ):
        result = await gql(client, VIEWER, token=key)
        assert result.status == 401 and result.codes == ["UNAUTHENTICATED"], key


async def test_api_key_records_last_use(
    client: httpx.AsyncClient, world: World, backend: Backend
) -> None:
    from sqlalchemy import select

    from store.engine import create_sessionmaker
    from store.models import ApiKey

    key = world.b.api_keys["partner_accounting"]
    (await gql(client, VIEWER, token=key)).ok()
    prefix = key[4:16]
    async with create_sessionmaker(backend.engine)() as session:
        row = (await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))).scalar_one()
    assert row.last_used_at is not None
    assert row.key_hash != key and key not in row.key_hash


async def test_token_for_unknown_staff_role_cannot_be_issued(world: World) -> None:
    with pytest.raises(ValueError, match="unknown staff role"):
        staff_token(
            world.settings, subject="x", tenant_id=world.a.id, tenant_slug=world.a.slug, role="root"
        )


async def test_bad_denial_style_header(client: httpx.AsyncClient, world: World) -> None:
    result = await gql(
        client, VIEWER, token=world.a.tokens["staff"], headers={"X-Denial-Style": "loud"}
    )
    assert result.status == 401 and result.codes == ["UNAUTHENTICATED"]


async def test_issued_tokens_carry_issuer_audience_and_expiry(world: World) -> None:
    from datetime import timedelta

    token = issue_token(world.settings, {"sub": "x", "roles": ["staff"]}, timedelta(minutes=5))
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "tenantgraph" and claims["aud"] == "tenantgraph-api"
    assert 0 < claims["exp"] - claims["iat"] <= 300


async def test_a_key_revoked_on_the_command_line_is_refused_at_once(
    client: httpx.AsyncClient, world: World, backend: Backend
) -> None:
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        tenant = await session.get(Tenant, world.b.id)
        assert tenant is not None
        created = await create_api_key(
            session, tenant=tenant, role="partner_reminders", name="to revoke"
        )
    key = created.plaintext
    assert (await gql(client, VIEWER, token=key)).ok()["viewer"]["kind"] == "PARTNER"
    listed = run_cli(backend.url, "apikey", "list", "--tenant", world.b.slug)
    assert listed.returncode == 0 and created.key.prefix in listed.stdout
    assert key not in listed.stdout and created.key.key_hash not in listed.stdout
    # Another tenant's slug does not reach the key.
    assert run_cli(backend.url, "apikey", "revoke", "--tenant", world.a.slug, key).returncode != 0
    assert (await gql(client, VIEWER, token=key)).status == 200
    revoked = run_cli(backend.url, "apikey", "revoke", "--tenant", world.b.slug, key)
    assert revoked.returncode == 0, revoked.stderr
    refused = await gql(client, VIEWER, token=key)
    assert refused.status == 401 and refused.codes == ["UNAUTHENTICATED"]
    assert run_cli(backend.url, "apikey", "revoke", "--tenant", world.b.slug, key).returncode != 0
    async with create_sessionmaker(backend.engine)() as session:
        events = (
            (
                await session.execute(
                    select(AuditEvent.action).where(AuditEvent.entity_id == created.key.id)
                )
            )
            .scalars()
            .all()
        )
    assert events == ["apikey.revoke"]
