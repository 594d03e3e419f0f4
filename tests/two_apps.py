"""Two apps over one database: compiled reads on, and every read left to the executor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import delete, select
from starlette.applications import Starlette

from basics.settings import Settings
from server.app import create_app
from store.engine import create_sessionmaker
from store.models import PartnerRead
from tests.conftest import TEST_SECRET, Backend


@dataclass
class TwoApps:
    compiled: httpx.AsyncClient
    executor: httpx.AsyncClient
    compiled_app: Starlette


@asynccontextmanager
async def two_apps(backend: Backend, **overrides: Any) -> AsyncIterator[TwoApps]:
    def settings(mode: str) -> Settings:
        return Settings(
            database_url=backend.url,
            secret_key=TEST_SECRET,
            env="development",
            principal_rate_limit=1_000_000,
            code_rate_limit=1_000_000,
            compiled_reads=mode,  # type: ignore[arg-type]
            **overrides,
        )

    compiled_app = create_app(settings("on"), engine=backend.engine)
    executor_app = create_app(settings("off"), engine=backend.engine)
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=compiled_app), base_url="http://testserver"
        ) as compiled,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=executor_app), base_url="http://testserver"
        ) as executor,
    ):
        yield TwoApps(compiled, executor, compiled_app)


async def taken_partner_reads(backend: Backend) -> dict[str, list[str]]:
    """The partner reads on record (customer id -> fields), removed as they are read."""
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        rows = (await session.execute(select(PartnerRead))).scalars().all()
        found = {row.customer_id: sorted(row.fields) for row in rows}
        await session.execute(delete(PartnerRead))
    return found
