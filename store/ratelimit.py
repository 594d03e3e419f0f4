"""Fixed-window rate limits per client address, counted in the database.

Several server processes (``serve --workers N``, or several hosts on one
PostgreSQL) must share one count, or a client could multiply its allowance by
the number of processes; so the counter is a row, incremented with one upsert
(``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, on SQLite and PostgreSQL
alike) in a short transaction of its own, committed even when the call it
guards fails, so bad input counts too.

The client address is stored only as a keyed hash (HMAC with the signing key),
and each call deletes the windows that have ended, so the table holds minutes
of data. Behind a reverse proxy, run uvicorn with ``--forwarded-allow-ips`` so
the address is the client's, not the proxy's.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from basics.errors import RateLimited
from store.engine import write_transaction
from store.models import RateLimitWindow
from store.types import utcnow

UNKNOWN_CLIENT = "unknown"


@dataclass(frozen=True)
class Limit:
    """At most ``hits`` calls per ``window_seconds``; ``hits == 0`` means no limit."""

    hits: int
    window_seconds: int


def client_key(signing_key: str, address: str) -> str:
    """A keyed hash of the address: the same client maps to the same row, unreadably."""
    return hmac.new(
        signing_key.encode(), f"ratelimit:{address}".encode(), hashlib.sha256
    ).hexdigest()


def window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, UTC)


def _count_statement(tx: AsyncSession, bucket: str, key: str, start: datetime) -> Any:
    """Insert the window's row with one hit, or add a hit to it; return the count."""
    values = {"bucket": bucket, "client_key": key, "window_start": start, "hits": 1}
    conflict = ["bucket", "client_key", "window_start"]
    bump = {"hits": RateLimitWindow.hits + 1}
    if tx.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(RateLimitWindow).values(values)
        return pg.on_conflict_do_update(index_elements=conflict, set_=bump).returning(
            RateLimitWindow.hits
        )
    lite = sqlite.insert(RateLimitWindow).values(values)
    return lite.on_conflict_do_update(index_elements=conflict, set_=bump).returning(
        RateLimitWindow.hits
    )


async def hit(
    sessions: async_sessionmaker[AsyncSession],
    *,
    bucket: str,
    address: str | None,
    limit: Limit,
    signing_key: str,
    now: datetime | None = None,
) -> int:
    """Count one call of ``bucket`` by ``address``; ``RATE_LIMITED`` once over the limit.

    Returns the number of calls in the current window, this one included.
    """
    if limit.hits <= 0:
        return 0
    now = now or utcnow()
    start = window_start(now, limit.window_seconds)
    key = client_key(signing_key, address or UNKNOWN_CLIENT)
    async with write_transaction(sessions) as tx:
        await tx.execute(
            delete(RateLimitWindow).where(
                RateLimitWindow.window_start < start - timedelta(seconds=limit.window_seconds)
            )
        )
        hits = int((await tx.execute(_count_statement(tx, bucket, key, start))).scalar_one())
    if hits > limit.hits:
        ends = start + timedelta(seconds=limit.window_seconds)
        retry_after = max(1, math.ceil((ends - now).total_seconds()))
        raise RateLimited(
            f"too many {bucket} calls from this address: try again in {retry_after} seconds",
            retry_after_seconds=retry_after,
        )
    return hits
