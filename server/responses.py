"""Error bodies the server writes itself, outside GraphQL's own execution."""

from __future__ import annotations

import logging
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from basics.errors import ServiceError
from basics.request_facts import request_state

logger = logging.getLogger("basics.errors")


def error_response(error: ServiceError, status: int) -> JSONResponse:
    """A GraphQL-shaped error body, so every client reads ``extensions.code`` the same way."""
    body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
    return JSONResponse(body, status_code=status)


def request_id(request: Request) -> str:
    """The id the observability middleware gave this request (one per request)."""
    given = request_state(request.scope).get("request_id")
    return given if isinstance(given, str) else uuid.uuid4().hex


async def internal_error(request: Request, exc: Exception) -> Response:
    """Anything unexpected outside GraphQL's own error handling: a code and an id, no details."""
    rid = request_id(request)
    logger.error("unexpected error (request %s)", rid, exc_info=exc)
    body = {
        "errors": [
            {
                "message": "Internal server error",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": rid},
            }
        ]
    }
    return JSONResponse(body, status_code=500)
