"""Schema extensions: error codes and masking, and the end of each request's session."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

if TYPE_CHECKING:
    from tenantgraph.resolvers.context import RequestContext

logger = logging.getLogger("tenantgraph.errors")

INTERNAL_MESSAGE = "Internal server error"


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class ErrorCodes(SchemaExtension):
    """Every error leaves with a code; unexpected ones lose their message and trace.

    Errors the service raised on purpose keep their code. Unexpected exceptions
    become ``INTERNAL_SERVER_ERROR`` with the request id, so no SQL or stack
    trace reaches the client; the full error is logged under that id.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        context: RequestContext | None = self.execution_context.context
        request_id = context.request_id if context is not None else None
        cleaned: list[GraphQLError] = []
        for error in result.errors:
            if _is_unexpected(error):
                logger.error(
                    "unexpected error (request %s) at %s",
                    request_id,
                    error.path,
                    exc_info=error.original_error,
                )
                cleaned.append(
                    GraphQLError(
                        INTERNAL_MESSAGE,
                        nodes=error.nodes,
                        path=error.path,
                        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
                    )
                )
                continue
            extensions = dict(error.extensions or {})
            extensions.setdefault("code", "BAD_USER_INPUT")
            error.extensions = extensions
            cleaned.append(error)
        result.errors = cleaned


class CloseSession(SchemaExtension):
    """Return the request's read session to the pool when the operation ends."""

    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            context: RequestContext | None = self.execution_context.context
            if context is not None:
                await context.session.close()
