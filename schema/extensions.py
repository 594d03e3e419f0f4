"""Schema extensions: error codes and masking, and the end of each request's session."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from basics.request_facts import note_request

if TYPE_CHECKING:
    from resolvers.context import RequestContext

logger = logging.getLogger("basics.errors")

INTERNAL_MESSAGE = "Internal server error"


def _operation_type(execution_context: Any) -> str | None:
    try:
        return str(execution_context.operation_type.value)
    except (AttributeError, RuntimeError, ValueError):
        return None


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
        context: RequestContext | None = self.execution_context.context
        if result is not None and result.errors:
            request_id = context.request_id if context is not None else None
            result.errors = [_masked(error, request_id) for error in result.errors]
        # Logged after masking, so monitoring counts what the client was told.
        if context is not None and context.request is not None:
            note_request(
                context.request.scope,
                operation=self.execution_context.operation_name,
                operation_type=_operation_type(self.execution_context),
                error_codes=sorted({str((e.extensions or {})["code"]) for e in result.errors})
                if result is not None and result.errors
                else [],
            )


def mask_uncoded(errors: list[GraphQLError], request_id: str | None) -> list[GraphQLError]:
    """The safety net behind ``ErrorCodes``: an error that left without a code is masked.

    An exception raised by an extension's own hook ends the operation before
    ``ErrorCodes`` sees the result; Strawberry then reports its message as it
    is. Whatever reaches the HTTP view without a code is treated as unexpected.
    """
    return [
        error if "code" in (error.extensions or {}) else _masked(error, request_id, force=True)
        for error in errors
    ]


def _masked(error: GraphQLError, request_id: str | None, *, force: bool = False) -> GraphQLError:
    """The error as the client sees it: a code always, no detail when unexpected."""
    if force or _is_unexpected(error):
        logger.error(
            "unexpected error (request %s) at %s",
            request_id,
            error.path,
            exc_info=error.original_error,
        )
        return GraphQLError(
            INTERNAL_MESSAGE,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
    extensions = dict(error.extensions or {})
    extensions.setdefault("code", "BAD_USER_INPUT")
    error.extensions = extensions
    return error


class CloseSession(SchemaExtension):
    """Return the request's read session to the pool when the operation ends."""

    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            context: RequestContext | None = self.execution_context.context
            if context is not None:
                await context.session.close()
