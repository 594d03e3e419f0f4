"""Partner API keys managed by a tenant's administrators: list, create (shown once), revoke."""

from __future__ import annotations

from sqlalchemy import select

from audit import trail as audit
from authz.kernel import owned_by, require, require_writer
from basics.errors import BadUserInput, NotFound
from basics.ids import decode_id
from basics.principal import PARTNER_ROLES, DenialStyle, PrincipalKind
from identity.apikeys import CreatedKey, create_api_key, list_api_keys, revoke_api_key
from resolvers import validation
from resolvers.context import RequestContext
from store.engine import write_transaction
from store.models import ApiKey, Tenant


async def list_tenant_keys(ctx: RequestContext) -> list[ApiKey]:
    caller = require(ctx.principal, ctx.decisions, "Query.apiKeys", kind=PrincipalKind.STAFF)
    async with ctx.sessions() as session:
        tenant = await session.get(Tenant, caller.tenant_id)
        if tenant is None:
            return []
        return await list_api_keys(session, within=owned_by(ApiKey, tenant.id))


async def create_key(
    ctx: RequestContext, role: str, name: str, denial_style: DenialStyle
) -> CreatedKey:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "createApiKey")
    if role not in PARTNER_ROLES:
        raise BadUserInput("role", f"must be one of {', '.join(sorted(PARTNER_ROLES))}")
    label = validation.text("name", name, max_length=100)
    async with write_transaction(ctx.sessions) as tx:
        tenant = await tx.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound("tenant not found")
        created = await create_api_key(
            tx, tenant=tenant, role=role, name=label, denial_style=denial_style
        )
        await tx.flush()
        await audit.record(
            tx,
            tenant_id=tenant_id,
            actor=ctx.principal.actor,
            action="apikey.create",
            entity_type="ApiKey",
            entity_id=created.key.id,
            details={"role": role},
        )
    return created


async def revoke_key(ctx: RequestContext, global_id: str) -> ApiKey:
    """Revoke one of the caller's tenant's keys; revoking twice is harmless."""
    tenant_id = require_writer(ctx.principal, ctx.decisions, "revokeApiKey")
    key_id = decode_id("id", global_id, "ApiKey")
    async with write_transaction(ctx.sessions) as tx:
        row = (
            await tx.execute(select(ApiKey).where(ApiKey.id == key_id, owned_by(ApiKey, tenant_id)))
        ).scalar_one_or_none()
        tenant = await tx.get(Tenant, tenant_id)
        if row is None or tenant is None:
            raise NotFound("API key not found")
        if row.revoked_at is None:
            await revoke_api_key(
                tx,
                tenant=tenant,
                within=owned_by(ApiKey, tenant.id),
                prefix=row.prefix,
                actor=ctx.principal.actor,
            )
    return row
