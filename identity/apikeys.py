"""Partner API keys: ``tgk_<prefix>_<secret>``, shown once, stored only as a hash.

The secret has 256 bits of entropy, so a single SHA-256 is enough to make a
stolen table useless (a slow password hash protects guessable secrets only),
and it keeps authentication to one indexed lookup and one hash per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import trail as audit
from basics.errors import Unauthenticated
from basics.principal import PARTNER_ROLES, DenialStyle, Principal, PrincipalKind
from store.engine import write_transaction
from store.models import ApiKey, Tenant
from store.types import utcnow

KEY_PREFIX = "tgk_"
LAST_USED_RESOLUTION_SECONDS = 60


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    plaintext: str


async def create_api_key(
    session: AsyncSession,
    *,
    tenant: Tenant,
    role: str,
    name: str,
    denial_style: DenialStyle = DenialStyle.REJECT,
) -> CreatedKey:
    if role not in PARTNER_ROLES:
        raise ValueError(f"unknown partner role {role!r}; choose one of {sorted(PARTNER_ROLES)}")
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        tenant_id=tenant.id,
        role=role,
        name=name,
        prefix=prefix,
        key_hash=_hash(plaintext),
        denial_style=denial_style.value,
    )
    session.add(row)
    return CreatedKey(key=row, plaintext=plaintext)


async def revoke_api_key(
    session: AsyncSession,
    *,
    tenant: Tenant,
    within: ColumnElement[bool],
    prefix: str,
    actor: str = "cli",
) -> bool:
    """Revoke the tenant's live key with this prefix; False if there is none.

    ``within`` is the tenant's reach over API keys, as the authorization
    kernel builds it (``authz.kernel.owned_by(ApiKey, tenant.id)``): this
    package authenticates and does not decide whose rows are whose.

    Keys are looked up on every request, so the next request with the key is
    refused, in every server process. Audited in the tenant's chain.
    """
    row = (
        await session.execute(
            select(ApiKey).where(
                within,
                ApiKey.prefix == prefix,
                ApiKey.revoked_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if row is None:
        return False
    row.revoked_at = utcnow()
    await audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="apikey.revoke",
        entity_type="ApiKey",
        entity_id=row.id,
    )
    return True


async def list_api_keys(session: AsyncSession, *, within: ColumnElement[bool]) -> list[ApiKey]:
    """The keys within one tenant's reach (``authz.kernel.owned_by(ApiKey, tenant_id)``)."""
    statement = select(ApiKey).where(within).order_by(ApiKey.created_at)
    return list((await session.execute(statement)).scalars().all())


async def principal_from_api_key(
    sessions: async_sessionmaker[AsyncSession], presented: str
) -> Principal:
    """The partner principal of a live key; unknown, malformed or revoked keys all look alike."""
    body = presented[len(KEY_PREFIX) :]
    prefix, sep, _secret = body.partition("_")
    if not sep or len(prefix) != 12 or len(presented) > 200:
        raise Unauthenticated("API key is not valid")
    async with sessions() as session:
        row = (
            await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))
        ).scalar_one_or_none()
        tenant_slug = None
        if row is not None:
            tenant_slug = (
                await session.execute(select(Tenant.slug).where(Tenant.id == row.tenant_id))
            ).scalar_one_or_none()
    if (
        row is None
        or row.revoked_at is not None
        or not hmac.compare_digest(row.key_hash, _hash(presented))
    ):
        raise Unauthenticated("API key is not valid")
    now = utcnow()
    if (
        row.last_used_at is None
        or (now - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        async with write_transaction(sessions) as tx:
            await tx.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
    return Principal(
        kind=PrincipalKind.PARTNER,
        subject=row.name,
        roles=frozenset({row.role}),
        tenant_id=row.tenant_id,
        tenant_slug=tenant_slug,
        api_key_id=row.id,
        denial_style=DenialStyle(row.denial_style),
    )
