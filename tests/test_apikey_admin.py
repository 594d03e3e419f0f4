"""Partner API keys managed over GraphQL by the tenant's administrators, and by no one else."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from identity import tokens
from identity.apikeys import create_api_key
from store.engine import create_sessionmaker
from store.models import ApiKey, AuditEvent, Tenant, TenantKind
from store.types import new_id
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import gql

LIST = "{ apiKeys { id name role prefix denialStyle createdAt lastUsedAt revokedAt } }"
CREATE = """mutation($role: String!, $name: String!, $style: ApiKeyDenialStyle) {
  createApiKey(role: $role, name: $name, denialStyle: $style) {
    key apiKey { id name role prefix denialStyle revokedAt } } }"""
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id revokedAt } } }"
VIEWER = "{ viewer { kind roles } }"


@dataclass
class Shop:
    id: str
    tokens: dict[str, str]
    partner_key: str


@pytest.fixture(scope="module")
async def shops(backend: Backend) -> tuple[Shop, Shop]:
    """Two tenants of this module's own, with staff tokens and one partner key each."""
    made = []
    for _ in range(2):
        slug = f"keys-{uuid.uuid4().hex[:8]}"
        async with create_sessionmaker(backend.engine)() as session, session.begin():
            tenant = Tenant(id=new_id(), slug=slug, name="Nøgler", kind=TenantKind.WORKSHOP)
            session.add(tenant)
            await session.flush()
            partner = await create_api_key(
                session, tenant=tenant, role="partner_accounting", name="bogholderi"
            )
        made.append(
            Shop(
                id=tenant.id,
                tokens={
                    role: tokens.staff_token(
                        backend.settings,
                        subject=f"{role}@{slug}",
                        tenant_id=tenant.id,
                        tenant_slug=slug,
                        role=role,
                    )
                    for role in ("tenant_admin", "staff", "inspector")
                },
                partner_key=partner.plaintext,
            )
        )
    return made[0], made[1]


async def test_an_admin_creates_a_key_shown_once_and_revokes_it(
    client: httpx.AsyncClient, backend: Backend, shops: tuple[Shop, Shop]
) -> None:
    shop, _ = shops
    admin = shop.tokens["tenant_admin"]
    created = (
        await gql(
            client,
            CREATE,
            {"role": "partner_reminders", "name": "SMS", "style": "PARTIAL"},
            token=admin,
        )
    ).ok()["createApiKey"]
    key, view = created["key"], created["apiKey"]
    assert key.startswith(f"tgk_{view['prefix']}_")
    assert view["role"] == "partner_reminders" and view["denialStyle"] == "PARTIAL"
    viewer = (await gql(client, VIEWER, token=key)).ok()["viewer"]
    assert viewer == {"kind": "PARTNER", "roles": ["partner_reminders"]}
    listed = (await gql(client, LIST, token=admin)).ok()["apiKeys"]
    mine = next(k for k in listed if k["id"] == view["id"])
    assert mine["lastUsedAt"] is not None and mine["revokedAt"] is None
    assert key not in str(listed)  # the secret is never shown again

    revoked = (await gql(client, REVOKE, {"id": view["id"]}, token=admin)).ok()
    assert revoked["revokeApiKey"]["apiKey"]["revokedAt"] is not None
    refused = await gql(client, VIEWER, token=key)
    assert refused.status == 401 and refused.codes == ["UNAUTHENTICATED"]
    again = (await gql(client, REVOKE, {"id": view["id"]}, token=admin)).ok()
    assert (
        again["revokeApiKey"]["apiKey"]["revokedAt"]
        == revoked["revokeApiKey"]["apiKey"]["revokedAt"]
    )
    async with create_sessionmaker(backend.engine)() as session:
        actions = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.actor).where(
                    AuditEvent.tenant_id == shop.id, AuditEvent.entity_type == "ApiKey"
                )
            )
        ).all()
    assert sorted(a for a, _ in actions) == ["apikey.create", "apikey.revoke"]
    assert all(actor.startswith("staff:tenant_admin@") for _, actor in actions)


async def test_another_tenants_admin_can_neither_see_nor_revoke_a_key(
    client: httpx.AsyncClient, shops: tuple[Shop, Shop]
) -> None:
    shop, other = shops
    created = (
        await gql(
            client,
            CREATE,
            {"role": "partner_accounting", "name": "Eget"},
            token=shop.tokens["tenant_admin"],
        )
    ).ok()["createApiKey"]
    theirs = (await gql(client, LIST, token=other.tokens["tenant_admin"])).ok()["apiKeys"]
    assert created["apiKey"]["id"] not in {k["id"] for k in theirs}
    result = await gql(
        client, REVOKE, {"id": created["apiKey"]["id"]}, token=other.tokens["tenant_admin"]
    )
    assert result.codes == ["NOT_FOUND"]
    assert (await gql(client, VIEWER, token=created["key"])).status == 200


@pytest.mark.parametrize(
    "who", ["staff", "inspector", "partner", "subject", "platform", "anonymous"]
)
async def test_no_one_else_may_list_create_or_revoke_keys(
    client: httpx.AsyncClient, backend: Backend, world: World, shops: tuple[Shop, Shop], who: str
) -> None:
    shop, _ = shops
    token = {
        "staff": shop.tokens["staff"],
        "inspector": shop.tokens["inspector"],
        "partner": shop.partner_key,
        "subject": world.subject_tokens["anna"],
        "platform": world.platform_token,
        "anonymous": None,
    }[who]
    before = await _key_count(backend, shop.id)
    assert (await gql(client, LIST, token=token)).codes == ["FORBIDDEN"]
    made = await gql(client, CREATE, {"role": "partner_accounting", "name": "X"}, token=token)
    assert made.codes == ["FORBIDDEN"] and made.data is None
    listed = (await gql(client, LIST, token=shop.tokens["tenant_admin"])).ok()["apiKeys"]
    revoke = await gql(client, REVOKE, {"id": listed[0]["id"]}, token=token)
    assert revoke.codes == ["FORBIDDEN"]
    assert await _key_count(backend, shop.id) == before


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        pytest.param({"role": "staff", "name": "X"}, "role", id="not a partner role"),
        pytest.param({"role": "tenant_admin", "name": "X"}, "role", id="an admin role"),
        pytest.param({"role": "partner_accounting", "name": "  "}, "name", id="blank name"),
        pytest.param({"role": "partner_accounting", "name": "x" * 101}, "name", id="long name"),
    ],
)
async def test_bad_input_names_the_argument_and_stores_nothing(
    client: httpx.AsyncClient,
    backend: Backend,
    shops: tuple[Shop, Shop],
    variables: dict[str, str],
    field: str,
) -> None:
    shop, _ = shops
    before = await _key_count(backend, shop.id)
    result = await gql(client, CREATE, variables, token=shop.tokens["tenant_admin"])
    assert result.codes == ["BAD_USER_INPUT"] and result.errors[0]["extensions"]["field"] == field
    assert await _key_count(backend, shop.id) == before


@pytest.mark.parametrize("bad_id", ["nonsense", "Q3VzdG9tZXI6YWJj", "QXBpS2V5OmFiYw"])
async def test_a_bad_or_unknown_key_id_is_refused(
    client: httpx.AsyncClient, shops: tuple[Shop, Shop], bad_id: str
) -> None:
    shop, _ = shops
    result = await gql(client, REVOKE, {"id": bad_id}, token=shop.tokens["tenant_admin"])
    assert result.codes in (["BAD_USER_INPUT"], ["NOT_FOUND"]) and result.data is None


async def _key_count(backend: Backend, tenant_id: str) -> int:
    async with create_sessionmaker(backend.engine)() as session:
        count = await session.execute(
            select(func.count()).select_from(ApiKey).where(ApiKey.tenant_id == tenant_id)
        )
    return int(count.scalar_one())
