"""Tenant administration: partner grants within the platform ceiling."""

from __future__ import annotations

import strawberry

from tenantgraph.authz.grants import grantable_fields
from tenantgraph.resolvers import grant_writes
from tenantgraph.schema.context import Info


@strawberry.type(description="A partner role allowed to read one more field in this tenant.")
class PartnerGrant:
    role: str
    field: str = strawberry.field(description="Schema coordinate, e.g. Customer.street.")


@strawberry.type
class PartnerGrantPayload:
    grant: PartnerGrant
    policy_version: int = strawberry.field(
        description="The database policy version after the change; every process applies it "
        "within a second."
    )


@strawberry.type
class AdminQuery:
    @strawberry.field(description="The partner grants of the caller's tenant.")
    async def partner_grants(self, info: Info) -> list[PartnerGrant]:
        found = await grant_writes.list_tenant_grants(info.context)
        return [PartnerGrant(role=g.role, field=g.field) for g in found]

    @strawberry.field(description="Every field the platform lets a tenant grant, per partner role.")
    def grantable_fields(self, info: Info) -> list[PartnerGrant]:
        return [
            PartnerGrant(role=g.role, field=g.field)
            for g in grantable_fields(info.context.authorizer)
        ]


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        description="Let a partner role read one more field of this tenant's rows."
    )
    async def grant_partner_field(self, info: Info, role: str, field: str) -> PartnerGrantPayload:
        version = await grant_writes.grant_partner_field(info.context, role, field)
        return PartnerGrantPayload(
            grant=PartnerGrant(role=role, field=field), policy_version=version
        )

    @strawberry.mutation(description="Withdraw a partner grant; revoking twice is harmless.")
    async def revoke_partner_field(self, info: Info, role: str, field: str) -> PartnerGrantPayload:
        version = await grant_writes.revoke_partner_field(info.context, role, field)
        return PartnerGrantPayload(
            grant=PartnerGrant(role=role, field=field), policy_version=version
        )
