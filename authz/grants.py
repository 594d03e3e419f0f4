"""Tenant grants: a tenant_admin lets a partner role read one more field.

Grants are Casbin policy lines in the tenant's domain, written to the database
through Casbin's SQLAlchemy adapter, inside the same transaction as the audit
event and the policy version bump. They are bounded by the platform ceiling
(``grant`` lines in ``policy.csv``); every server process picks them up within
a second (``Authorizer.refresh_if_stale``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from casbin_async_sqlalchemy_adapter import Adapter
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail as audit
from authz.decisions import GRANT, PLATFORM_DOMAIN, READ, Authorizer
from basics.errors import BadUserInput, Forbidden
from basics.principal import PARTNER_ROLES
from store.models import PolicyRule, PolicyState
from store.types import utcnow

GRANT_RELATION = "tenant"
_COORDINATE = re.compile(r"^[A-Z][A-Za-z]{0,63}\.[a-z][A-Za-z]{0,63}$")


@dataclass(frozen=True)
class Grant:
    role: str
    field: str


def _validate(authorizer: Authorizer, role: str, coordinate: str) -> None:
    if role not in PARTNER_ROLES:
        raise BadUserInput("role", f"must be one of {', '.join(sorted(PARTNER_ROLES))}")
    if not _COORDINATE.match(coordinate):
        raise BadUserInput("field", "must be a schema coordinate such as Customer.street")
    if not authorizer.enforce(role, PLATFORM_DOMAIN, coordinate, GRANT, GRANT_RELATION):
        raise Forbidden(f"{coordinate} is outside what the platform lets a tenant grant to {role}")


def _line(role: str, tenant_id: str, coordinate: str) -> list[str]:
    return [role, tenant_id, coordinate, READ, GRANT_RELATION, "allow"]


async def _exists(tx: AsyncSession, line: list[str]) -> bool:
    statement = select(PolicyRule.id).where(
        PolicyRule.ptype == "p",
        PolicyRule.v0 == line[0],
        PolicyRule.v1 == line[1],
        PolicyRule.v2 == line[2],
        PolicyRule.v3 == line[3],
        PolicyRule.v4 == line[4],
        PolicyRule.v5 == line[5],
    )
    return (await tx.execute(statement)).first() is not None


async def _bump_version(tx: AsyncSession) -> int:
    await tx.execute(
        update(PolicyState)
        .where(PolicyState.id == 1)
        .values(version=PolicyState.version + 1, changed_at=utcnow())
    )
    return int(
        (await tx.execute(select(PolicyState.version).where(PolicyState.id == 1))).scalar_one()
    )


def _adapter(tx: AsyncSession) -> Adapter:
    return Adapter(tx.bind, db_class=PolicyRule, db_session=tx)


async def grant_field(
    tx: AsyncSession,
    authorizer: Authorizer,
    *,
    tenant_id: str,
    actor: str,
    role: str,
    coordinate: str,
) -> int:
    """Add the grant (idempotent); returns the new policy version."""
    _validate(authorizer, role, coordinate)
    line = _line(role, tenant_id, coordinate)
    if not await _exists(tx, line):
        await _adapter(tx).add_policy("p", "p", line)
    await audit.record(
        tx,
        tenant_id=tenant_id,
        actor=actor,
        action="policy.grant",
        entity_type="PartnerGrant",
        details={"role": role, "field": coordinate},
    )
    return await _bump_version(tx)


async def revoke_field(
    tx: AsyncSession,
    authorizer: Authorizer,
    *,
    tenant_id: str,
    actor: str,
    role: str,
    coordinate: str,
) -> int:
    """Remove the grant (revoking what was never granted is harmless)."""
    _validate(authorizer, role, coordinate)
    await _adapter(tx).remove_policy("p", "p", _line(role, tenant_id, coordinate))
    await audit.record(
        tx,
        tenant_id=tenant_id,
        actor=actor,
        action="policy.revoke",
        entity_type="PartnerGrant",
        details={"role": role, "field": coordinate},
    )
    return await _bump_version(tx)


async def tenant_grants(session: AsyncSession, tenant_id: str) -> list[Grant]:
    rows = await session.execute(
        select(PolicyRule.v0, PolicyRule.v2)
        .where(PolicyRule.ptype == "p", PolicyRule.v1 == tenant_id)
        .order_by(PolicyRule.v0, PolicyRule.v2)
    )
    return [Grant(role=str(role), field=str(field)) for role, field in rows]


def grantable_fields(authorizer: Authorizer) -> list[Grant]:
    """The platform ceiling: every field a tenant may grant, per partner role."""
    return sorted(
        (
            Grant(role=line[0], field=line[2])
            for line in authorizer.policy_lines()
            if line[3] == GRANT and line[0] in PARTNER_ROLES and line[5] == "allow"
        ),
        key=lambda grant: (grant.role, grant.field),
    )
