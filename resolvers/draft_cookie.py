"""The one cookie, ``tg_draft``: which online booking a browser has in progress.

Its value is the draft's random id with an HMAC, so a guessed or altered value
is refused before the database is asked. It is used for nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from bookings.holds import DRAFT_LIFETIME
from resolvers.context import RequestContext

COOKIE_NAME = "tg_draft"
# The cookie lives exactly as long as the draft it names.
COOKIE_MAX_AGE = DRAFT_LIFETIME
_DRAFT_ID = re.compile(r"^[0-9a-f]{32}$")


class BadCookie(Exception):
    """The cookie is present but was not issued by this service."""


def _cookie_key(ctx: RequestContext) -> bytes:
    # A key of its own, derived from the signing key, so a cookie signature can
    # never double as anything else signed with that key.
    return hmac.new(
        ctx.settings.signing_key().encode(), b"tenantgraph tg_draft cookie", hashlib.sha256
    ).digest()


def _signature(ctx: RequestContext, draft_id: str) -> str:
    digest = hmac.new(_cookie_key(ctx), draft_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def cookie_value(ctx: RequestContext, draft_id: str) -> str:
    return f"{draft_id}.{_signature(ctx, draft_id)}"


def draft_id(ctx: RequestContext) -> str | None:
    """The draft id from the caller's cookie; None without one; ``BadCookie`` if forged."""
    raw = ctx.request.cookies.get(COOKIE_NAME) if ctx.request is not None else None
    if not raw:
        return None
    found, _, signature = raw.partition(".")
    if not _DRAFT_ID.match(found) or not hmac.compare_digest(
        signature.encode(), _signature(ctx, found).encode()
    ):
        raise BadCookie
    return found


def set_cookie(ctx: RequestContext, draft: str) -> None:
    if ctx.response is not None:
        ctx.response.set_cookie(
            COOKIE_NAME,
            cookie_value(ctx, draft),
            max_age=int(COOKIE_MAX_AGE.total_seconds()),
            path="/",
            secure=ctx.settings.is_production,
            httponly=True,
            samesite="lax",
        )


def clear_cookie(ctx: RequestContext) -> None:
    if ctx.response is not None:
        ctx.response.delete_cookie(
            COOKIE_NAME,
            path="/",
            secure=ctx.settings.is_production,
            httponly=True,
            samesite="lax",
        )
