"""Async engine and session factory for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Executable, Result, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store import sql_functions
from store.writer_queue import writer_turn

SQLITE_BUSY_TIMEOUT_MS = 15_000
WRITE_OPTION = "tenantgraph_write"
# Older than this, a pooled connection is closed instead of reused (a firewall
# or the server may have dropped it silently meanwhile).
POOL_RECYCLE_SECONDS = 600
# PostgreSQL pool defaults (``Settings.database_pool_size``/``database_max_overflow``):
# an overflow connection is closed when it is returned, and one opened again
# under load pays for authentication and re-preparing its statements.
POOL_SIZE = 30
MAX_OVERFLOW = 20


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
) -> AsyncEngine:
    """An engine with the pragmas and transaction handling each backend needs."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            echo=echo,
            hide_parameters=not echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    # hide_parameters: a database error logged under a request id must not carry
    # the personal values bound to its statement.
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=not echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping: it cost a round trip (BEGIN; ; ROLLBACK) on every
        # checkout. Connections are replaced after POOL_RECYCLE_SECONDS instead,
        # a disconnect invalidates the whole pool, and a read whose first
        # statement meets a dead connection is retried once (SerialReader).
        pool_recycle=POOL_RECYCLE_SECONDS,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin, so a
        # transaction's first statement really starts it (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Erased values must not survive in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        sql_functions.register(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction takes the write lock up front (waiting up to the
        # busy timeout), so it can never fail later when a read would upgrade.
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for a request's reads (``SerialReader``), which never write.

    On PostgreSQL they run without a transaction: under READ COMMITTED, the
    default, each statement takes its own snapshot inside a transaction too,
    so the ``BEGIN`` and ``ROLLBACK`` around a request's reads changed nothing
    but cost two round trips per request. SQLite keeps its read transaction,
    which holds one snapshot for the whole request and costs no round trip.
    """
    if engine.dialect.name != "postgresql":
        return create_sessionmaker(engine)
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        autoflush=False,
    )


@asynccontextmanager
async def write_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session in one write transaction: committed on success, rolled back on error.

    On SQLite writers first take their turn in arrival order, within the process
    and across the processes sharing the file (``store.writer_queue``), instead
    of all polling SQLite's busy handler, which is not fair.
    """
    async with _sqlite_writer_turn(sessions), sessions() as session, session.begin():
        await session.connection(execution_options={WRITE_OPTION: True})
        yield session


@asynccontextmanager
async def _sqlite_writer_turn(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        yield
        return
    async with writer_turn(bind.url.database, patience=SQLITE_BUSY_TIMEOUT_MS / 1000):
        yield


class SerialReader:
    """One request's read session, shared by fields that resolve concurrently.

    GraphQL resolves sibling fields and DataLoader batches concurrently, while
    an ``AsyncSession`` runs one statement at a time; the lock queues them.

    Given a session factory instead of a session, the reader opens one pooled
    connection at its first statement (a request that reads nothing opens
    none) and an ORM session on that connection only when a statement needs
    one: a compiled read's statement (``core=True``) runs on the connection
    itself, without the session's bookkeeping.
    """

    def __init__(self, source: AsyncSession | async_sessionmaker[AsyncSession]) -> None:
        self._session: AsyncSession | None = None
        self._factory: async_sessionmaker[AsyncSession] | None = None
        if isinstance(source, AsyncSession):
            self._session = source
        else:
            self._factory = source
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._used = False

    async def _run(
        self, statement: Executable, params: dict[str, Any] | None, *, core: bool
    ) -> Result[Any]:
        if self._factory is None:
            assert self._session is not None
            return await self._session.execute(statement, params)
        if self._connection is None:
            engine = self._factory.kw["bind"]
            assert isinstance(engine, AsyncEngine)
            self._connection = await engine.connect()
        if core:
            return await self._connection.execute(statement, params)
        if self._session is None:
            self._session = self._factory(bind=self._connection)
        return await self._session.execute(statement, params)

    async def execute(
        self,
        statement: Executable,
        params: dict[str, Any] | None = None,
        *,
        core: bool = False,
    ) -> Result[Any]:
        """Run ``statement`` with ``params`` (``core``: a Core statement whose rows need no ORM)."""
        async with self._lock:
            if self._used:
                return await self._run(statement, params, core=core)
            self._used = True
            try:
                return await self._run(statement, params, core=core)
            except DBAPIError as exc:
                # The pooled connection had died (the pool no longer pings
                # before handing one out). Nothing was read yet, so the first
                # statement can run again on a fresh connection.
                if not exc.connection_invalidated:
                    raise
                await self._rollback()
                return await self._run(statement, params, core=core)

    async def _rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()
        if self._connection is not None and self._connection.in_transaction():
            await self._connection.rollback()

    async def rollback(self) -> None:
        async with self._lock:
            await self._rollback()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._connection is not None:
            await self._connection.close()
