"""Error bodies the server writes itself, outside GraphQL's own execution."""

from __future__ import annotations

import logging
import uuid

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from basics.errors import ServiceError
from basics.request_facts import request_state
from server.media import error_body, graphql_response

logger = logging.getLogger("basics.errors")


def error_response(connection: HTTPConnection, error: ServiceError, status: int) -> Response:
    """A GraphQL error body, so every client reads ``extensions.code`` the same way."""
    body = error_body(error.message, error.extensions or {})
    return graphql_response(connection, body, status)


def request_id(request: Request) -> str:
    """The id the observability middleware gave this request (one per request)."""
    given = request_state(request.scope).get("request_id")
    return given if isinstance(given, str) else uuid.uuid4().hex


async def internal_error(request: Request, exc: Exception) -> Response:
    """Anything unexpected outside GraphQL's own error handling: a code and an id, no details."""
    rid = request_id(request)
    logger.error("unexpected error (request %s)", rid, exc_info=exc)
    body = error_body("Internal server error", {"code": "INTERNAL_SERVER_ERROR", "requestId": rid})
    return graphql_response(request, body, 500)
