"""Granting and revoking partner fields (tenant_admin), and listing them."""

from __future__ import annotations

from authz import grants
from authz.kernel import require, require_writer
from basics.principal import PrincipalKind
from resolvers.context import RequestContext
from store.engine import write_transaction


async def grant_partner_field(ctx: RequestContext, role: str, field: str) -> int:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "grantPartnerField")
    async with write_transaction(ctx.sessions) as tx:
        version = await grants.grant_field(
            tx,
            ctx.authorizer,
            tenant_id=tenant_id,
            actor=ctx.principal.actor,
            role=role,
            coordinate=field,
        )
    await ctx.authorizer.refresh_if_stale(ctx.sessions, force=True)
    return version


async def revoke_partner_field(ctx: RequestContext, role: str, field: str) -> int:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "revokePartnerField")
    async with write_transaction(ctx.sessions) as tx:
        version = await grants.revoke_field(
            tx,
            ctx.authorizer,
            tenant_id=tenant_id,
            actor=ctx.principal.actor,
            role=role,
            coordinate=field,
        )
    await ctx.authorizer.refresh_if_stale(ctx.sessions, force=True)
    return version


async def list_tenant_grants(ctx: RequestContext) -> list[grants.Grant]:
    caller = require(ctx.principal, ctx.decisions, "Query.partnerGrants", kind=PrincipalKind.STAFF)
    async with ctx.sessions() as session:
        return await grants.tenant_grants(session, caller.tenant_id)
