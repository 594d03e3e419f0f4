"""Builds the executable schema with its protective extensions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig

from basics.settings import Settings
from schema.caches import CachedParse, CachedValidation, DocumentCaches
from schema.compiled_reads import CompiledReads
from schema.extension_runner import CachedHooksRunner
from schema.extensions import CloseSession, ErrorCodes
from schema.guard import FieldGuard
from schema.input_text import ArgumentTextCheck
from schema.limits import Limits, OperationLimits
from schema.mutation import Mutation
from schema.query import Query
from schema.types import Booking, Customer, Document, Service, Tenant, Vehicle


class Schema(strawberry.Schema):
    """Strawberry's schema without its own error log line.

    Strawberry logs every error with the operation's text, which may hold
    personal values. ``ErrorCodes`` logs the unexpected ones under the request
    id instead; expected ones (bad input, conflicts) are outcomes, counted in
    the request's access log line by code.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Parsed documents, validation outcomes and static authorization
        # checks, shared by every request this schema serves.
        self.document_caches = DocumentCaches()
        # The operation limits, for the settled-read lane (``schema.settled_reads``).
        self.limits: Limits | None = None

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None

    def create_extensions_runner(
        self, execution_context: Any, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """Strawberry's runner, finding each extension class's hooks once, not per request."""
        return CachedHooksRunner(execution_context=execution_context, extensions=extensions)


def build_schema(settings: Settings) -> Schema:
    limits = Limits(
        max_cost=settings.max_query_cost,
        max_directives=settings.max_directives,
        default_page=settings.default_page_size,
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
    )
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        CloseSession,
        ErrorCodes,
        FieldGuard,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: OperationLimits(limits),
        ArgumentTextCheck,
        CachedParse,
        CachedValidation,
        # Last: it runs only when the static check and the limits let the operation through.
        CompiledReads,
    ]
    if settings.is_production and settings.introspection == "off":
        # Refused at validation already; with "principal", the field guard
        # lets signed-in callers introspect their own schema.
        extensions.append(DisableIntrospection)
    schema = Schema(
        query=Query,
        mutation=Mutation,
        types=[Tenant, Service, Customer, Vehicle, Booking, Document],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )
    schema.limits = limits
    return schema
