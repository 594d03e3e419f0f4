"""Per-client-address limits on the public mutations that an attacker would hammer.

Online booking (holds and completions) and everything that sends or checks a
one-time code (login, rectification) are reachable without credentials or
with a fresh subject token, so the limit follows the client address, counted in
the database so that every server process shares one count
(``store.ratelimit``). A refused call answers ``RATE_LIMITED``
with ``retryAfterSeconds`` and an HTTP ``Retry-After`` header.
"""

from __future__ import annotations

from basics.errors import RateLimited
from resolvers.context import RequestContext
from store import ratelimit


def booking_limit(ctx: RequestContext) -> ratelimit.Limit:
    settings = ctx.settings
    return ratelimit.Limit(settings.booking_rate_limit, settings.booking_rate_window_seconds)


def code_limit(ctx: RequestContext) -> ratelimit.Limit:
    """Stricter: each call may send a message or test a guess at a code."""
    return ratelimit.Limit(ctx.settings.code_rate_limit, ctx.settings.code_rate_window_seconds)


async def limit_by_address(ctx: RequestContext, bucket: str, limit: ratelimit.Limit) -> None:
    """Count this call of ``bucket`` for the client address; refuse it over ``limit``."""
    client = ctx.request.client if ctx.request is not None else None
    try:
        await ratelimit.hit(
            ctx.sessions,
            bucket=bucket,
            address=client.host if client is not None else None,
            limit=limit,
            signing_key=ctx.settings.signing_key(),
        )
    except RateLimited as exc:
        if ctx.response is not None:
            ctx.response.headers["Retry-After"] = str(exc.retry_after_seconds)
        raise
