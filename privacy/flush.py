"""Make changed or deleted values unrecoverable from the SQLite files after a commit.

Erasure, rectification and the purge call ``flush_erased_pages`` once their
transaction has committed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

logger = logging.getLogger("privacy.flush")

CHECKPOINT_ATTEMPTS = 5
CHECKPOINT_PAUSE_SECONDS = 0.05


@dataclass(frozen=True)
class PageFlush:
    """The result of ``PRAGMA wal_checkpoint(TRUNCATE)`` (SQLite), or that none was needed."""

    performed: bool
    complete: bool
    wal_frames: int = 0
    checkpointed_frames: int = 0


async def _checkpoint(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection  # the aiosqlite connection, outside any transaction
        assert driver is not None
        cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = await cursor.fetchone()
        await cursor.close()
    return (int(row[0]), int(row[1]), int(row[2])) if row else (1, 0, 0)


async def flush_erased_pages(engine: AsyncEngine) -> PageFlush:
    """Make erased values unrecoverable from the database files, as far as the backend allows.

    SQLite: every connection runs with ``secure_delete=ON``, so a deleted or
    rewritten row's bytes are zeroed in the page, but in WAL mode the old page
    images stay in the ``-wal`` file until a checkpoint copies the new pages
    over and the log is reset. ``wal_checkpoint(TRUNCATE)`` does both and
    truncates the file to zero bytes. It needs a moment without readers; it is
    retried briefly, and a busy result is reported (the next erasure, purge or
    ``tenantgraph purge`` flushes again).

    PostgreSQL: a no-op. Deleted and updated tuples stay in their heap pages as
    dead tuples until VACUUM reclaims the space (and even then the bytes are
    only overwritten when the space is reused), and the WAL segments hold them
    until they are recycled. The service leaves this to autovacuum and WAL
    recycling rather than running VACUUM per erasure: plain VACUUM does not
    zero the bytes either, and VACUUM FULL rewrites and locks the whole table.
    Production deployments rely on encrypted storage and expiring backups.
    """
    if engine.dialect.name != "sqlite":
        return PageFlush(performed=False, complete=True)
    result: tuple[int, int, int] = (1, 0, 0)
    for attempt in range(CHECKPOINT_ATTEMPTS):
        result = await _checkpoint(engine)
        if result[0] == 0:
            break
        if attempt + 1 < CHECKPOINT_ATTEMPTS:
            await asyncio.sleep(CHECKPOINT_PAUSE_SECONDS * (attempt + 1))
    busy, log_frames, checkpointed = result
    if busy:
        logger.warning("WAL checkpoint was busy; old pages stay until the next one")
    return PageFlush(
        performed=True, complete=not busy, wal_frames=log_frames, checkpointed_frames=checkpointed
    )


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine a session factory is bound to (for ``flush_erased_pages``)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session factory is not bound to an engine")
    return bind
