"""Checks on a request's shape made before anyone reads its body or its credential."""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import Response
from strawberry.http.parse_content_type import parse_content_type

from basics.errors import BadUserInput
from basics.request_facts import note_request
from basics.settings import Settings
from server.responses import error_response

# A browser sends a multipart form cross-site without asking (it is a "simple"
# request), so a multipart GraphQL request must carry a header no form can set:
# then the browser asks first, and CORS refuses other origins.
PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)


def is_multipart(request: Request) -> bool:
    """As Strawberry will see it: parameters and surrounding space do not matter."""
    return _multipart(request.headers.get("content-type", ""))


@functools.lru_cache(maxsize=64)
def _multipart(header: str) -> bool:
    """Parsed once per distinct header: a request asks up to three times, clients
    send the same one or two values, and the bounded cache forgets odd ones."""
    content_type, _ = parse_content_type(header)
    return content_type.strip().lower().startswith("multipart/")


def cross_site_risk(request: Request, _settings: Settings) -> Response | None:
    """``400`` for a multipart request without a preflight-forcing header."""
    if request.method != "POST" or not is_multipart(request):
        return None
    if any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
        return None
    note_request(request.scope, error_codes=["BAD_USER_INPUT"])
    error = BadUserInput(
        "headers",
        "of a multipart request must include GraphQL-Require-Preflight: 1 "
        "(or Apollo-Require-Preflight), so that browsers cannot send it cross-site",
    )
    return error_response(request, error, 400)


def oversized_json(request: Request, settings: Settings) -> Response | None:
    """``413`` for a JSON body over its limit, judged by Content-Length before reading it.

    Uploads (multipart) may be as large as ``max_body_bytes``; an operation and
    its variables never need more than ``max_json_body_bytes``.
    """
    if is_multipart(request):
        return None
    try:
        length = int(request.headers.get("content-length", "0"))
    except ValueError:
        length = 0
    if length <= settings.max_json_body_bytes:
        return None
    error = BadUserInput("body", f"must be at most {settings.max_json_body_bytes} bytes")
    return error_response(request, error, 413)


# Content types a cross-site form or a plain <img>/<script> request may carry
# without a preflight (the CORS "simple" ones), and no content type at all.
SIMPLE_CONTENT_TYPES = frozenset(
    {"", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)


def unproven_get(request: Request, settings: Settings) -> Response | None:
    """In production, ``400`` for a GET that a page on another site could have sent.

    A browser sends a cross-site GET with the user's cookies or cached
    credentials without asking first; one that carries a preflight header or a
    non-simple ``Content-Type`` (``application/json``) must have passed CORS.
    """
    if not settings.is_production or request.method != "GET":
        return None
    if any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
        return None
    content_type, _ = parse_content_type(request.headers.get("content-type", ""))
    if content_type.strip().lower() not in SIMPLE_CONTENT_TYPES:
        return None
    note_request(request.scope, error_codes=["BAD_USER_INPUT"])
    error = BadUserInput(
        "headers",
        "of a GET request must include GraphQL-Require-Preflight: 1 "
        "(or Content-Type: application/json), so that browsers cannot send it cross-site",
    )
    return error_response(request, error, 400)
