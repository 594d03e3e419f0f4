"""The migrations and the models describe the same schema, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store.models import Base
from tests.conftest import Backend


async def test_models_match_migrations(backend: Backend) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with backend.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == [], "models and migrations differ: add an Alembic revision"
