"""Builds the executable schema with its protective extensions."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig

from tenantgraph.schema.extensions import CloseSession, ErrorCodes
from tenantgraph.schema.guard import FieldGuard
from tenantgraph.schema.input_text import ArgumentTextCheck
from tenantgraph.schema.limits import OperationLimits
from tenantgraph.schema.mutation import Mutation
from tenantgraph.schema.query import Query
from tenantgraph.schema.types import Booking, Customer, Document, Service, Tenant, Vehicle
from tenantgraph.server.settings import Settings


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        CloseSession,
        ErrorCodes,
        FieldGuard,
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: OperationLimits(
            max_cost=settings.max_query_cost,
            max_directives=settings.max_directives,
            default_page=settings.default_page_size,
        ),
        ArgumentTextCheck,
    ]
    if settings.is_production:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Tenant, Service, Customer, Vehicle, Booking, Document],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )
