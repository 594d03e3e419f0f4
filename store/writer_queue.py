"""SQLite's writers take turns in the order they arrive, within and across processes.

SQLite admits one writer at a time. The others wait in its busy handler, which
polls with growing sleeps and is not fair: under load a writer that arrives
late often gets in before one that has waited for seconds, and some writers
ran into the request's execution timeout. So a writer first queues here:

* inside a process on an ``asyncio.Lock`` (first come, first served);
* across the processes that share the database file on an exclusive ``flock``
  of ``<database>-writers``, which the head of each process's queue waits for
  in a thread, blocked in the kernel instead of polling.

The queue is a courtesy, never a second source of truth: SQLite's own write
lock still guards the data. A writer that has waited longer than its patience
(the busy timeout) goes on to SQLite's lock without its turn, and a platform
without ``flock`` queues inside the process only.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

LOCK_FILE_SUFFIX = "-writers"


class _FileTurn:
    """One exclusive ``flock`` on the lock file, held from ``acquire`` to ``release``.

    Every turn opens its own descriptor, and closing it is what releases the
    lock. A wait that is given up on (patience spent, or the request
    cancelled) goes on in its thread; that thread closes the descriptor as
    soon as the lock comes, so an abandoned turn never holds the others up.
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._guard = threading.Lock()
        self._granted = False
        self._abandoned = False
        self._closed = False

    async def acquire(self, patience: float) -> bool:
        """Wait up to ``patience`` seconds for the turn; whether it was had."""
        assert fcntl is not None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._granted = True
            return True
        except BlockingIOError:
            pass
        wait = asyncio.ensure_future(asyncio.to_thread(self._wait_in_thread))
        try:
            await asyncio.wait_for(asyncio.shield(wait), patience)
        except TimeoutError:
            self._abandon()
            return False
        except asyncio.CancelledError:
            self._abandon()
            raise
        except OSError:
            return False  # no turn, and nothing held: SQLite's own lock decides
        return True

    def _wait_in_thread(self) -> None:
        assert fcntl is not None
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        with self._guard:
            if self._abandoned:
                self._close()
            else:
                self._granted = True

    def _abandon(self) -> None:
        with self._guard:
            self._abandoned = True
            if self._granted:
                self._close()

    def _close(self) -> None:
        if not self._closed:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._closed = True

    def release(self) -> None:
        """End the turn; an abandoned wait is closed by whoever sees it end."""
        with self._guard:
            if not self._abandoned:
                self._close()


_in_process: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def lock_file_for(database: str | None) -> str | None:
    """The lock file beside a database file; None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return os.path.abspath(database) + LOCK_FILE_SUFFIX


@asynccontextmanager
async def writer_turn(database: str | None, *, patience: float) -> AsyncIterator[None]:
    """Wait for this writer's turn on ``database`` (a file path), hold it for the block."""
    # An asyncio.Lock belongs to one event loop: one queue per loop and file.
    queues = _in_process.setdefault(asyncio.get_running_loop(), {})
    key = database or ""
    lock = queues.setdefault(key, asyncio.Lock())
    async with lock:
        path = lock_file_for(database)
        if path is None or fcntl is None:
            yield
            return
        try:
            turn = _FileTurn(path)
        except OSError:  # e.g. a read-only directory: queue inside the process only
            yield
            return
        try:
            await turn.acquire(patience)
            yield
        finally:
            turn.release()
