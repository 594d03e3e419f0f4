"""Tenant administration: partner grants within the platform ceiling, partner API keys."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from authz.grants import grantable_fields
from basics.ids import encode_id
from basics.principal import DenialStyle
from resolvers import apikey_writes, grant_writes
from schema.context import Info
from store import models


@strawberry.type(description="A partner role allowed to read one more field in this tenant.")
class PartnerGrant:
    role: str
    field: str = strawberry.field(description="Schema coordinate, e.g. Customer.street.")

    @strawberry.field(
        description="Stable for the (role, field) pair, so client caches can keep one copy."
    )
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("PartnerGrant", f"{self.role}/{self.field}"))


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


@strawberry.enum(description="How a key's callers are told about fields they may not read.")
class ApiKeyDenialStyle(enum.Enum):
    REJECT = "reject"
    PARTIAL = "partial"


@strawberry.type(
    name="ApiKey",
    description="A partner integration's key. Its secret was shown once, at creation, and "
    "is stored only as a hash.",
)
class ApiKeyView:
    id: strawberry.ID
    name: str
    role: str
    prefix: str = strawberry.field(
        description="The characters after tgk_ that identify the key in logs and lists."
    )
    denial_style: ApiKeyDenialStyle
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: models.ApiKey) -> ApiKeyView:
        return cls(
            id=strawberry.ID(encode_id("ApiKey", row.id)),
            name=row.name,
            role=row.role,
            prefix=row.prefix,
            denial_style=ApiKeyDenialStyle(row.denial_style),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKeyView
    key: str = strawberry.field(
        description="The whole key, shown this once: give it to the partner now."
    )


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKeyView


@strawberry.type
class ApiKeyQuery:
    @strawberry.field(description="The partner API keys of the caller's tenant, revoked ones too.")
    async def api_keys(self, info: Info) -> list[ApiKeyView]:
        return [ApiKeyView.of(row) for row in await apikey_writes.list_tenant_keys(info.context)]


@strawberry.type
class ApiKeyMutation:
    @strawberry.mutation(description="Create a partner API key; the payload shows it once.")
    async def create_api_key(
        self,
        info: Info,
        role: str,
        name: str,
        denial_style: ApiKeyDenialStyle = ApiKeyDenialStyle.REJECT,
    ) -> CreateApiKeyPayload:
        created = await apikey_writes.create_key(
            info.context, role, name, DenialStyle(denial_style.value)
        )
        return CreateApiKeyPayload(api_key=ApiKeyView.of(created.key), key=created.plaintext)

    @strawberry.mutation(
        description="Revoke a key: refused from the next request on, in every server process."
    )
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> RevokeApiKeyPayload:
        row = await apikey_writes.revoke_key(info.context, id)
        return RevokeApiKeyPayload(api_key=ApiKeyView.of(row))
