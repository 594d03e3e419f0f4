"""The migrations and the models describe the same schema, on both backends."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from store.engine import create_engine
from store.migrate import alembic_config
from store.models import Base, CreatedVia, Customer, Tenant, TenantKind
from store.search_index import CustomerSearchName
from store.types import new_id
from tests.conftest import Backend, _create_postgres_database, _drop_postgres_database


async def test_models_match_migrations(backend: Backend) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with backend.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == [], "models and migrations differ: add an Alembic revision"


async def test_customer_search_migration_goes_down_and_up_again(
    backend: Backend, tmp_path: Path
) -> None:
    """0007 downgrades to 0006 (its tables and triggers gone, customers kept) and
    upgrades again, filling the search tables from the customers already there."""
    if backend.name == "sqlite":
        url, pg_name = f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}", None
    else:
        admin_url = os.environ["TENANTGRAPH_TEST_POSTGRES_URL"]
        pg_name, url = await _create_postgres_database(admin_url)
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0006")
        engine = create_engine(url)
        tenant, customer = new_id(), new_id()
        async with engine.begin() as connection:
            await connection.execute(
                insert(Tenant).values(
                    id=tenant, slug=f"mig-{tenant[:8]}", name="Mig", kind=TenantKind.WORKSHOP
                )
            )
            await connection.execute(
                insert(Customer).values(
                    id=customer,
                    tenant_id=tenant,
                    name="Mona Migrate",
                    email="mona@example.dk",
                    created_via=CreatedVia.PHONE,
                    objections=[],
                    former_identity_keys=[],
                )
            )
        for _ in range(2):
            await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
            async with engine.connect() as connection:
                parts = set(
                    (
                        await connection.execute(
                            select(CustomerSearchName.part).where(
                                CustomerSearchName.customer_id == customer
                            )
                        )
                    ).scalars()
                )
            assert {"mona migrate", "migrate", "grate"} <= parts
            await asyncio.to_thread(command.downgrade, alembic_config(url), "0006")
            async with engine.connect() as connection:
                tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
                kept = (await connection.execute(select(Customer.name))).scalars().all()
            assert not {t for t in tables if t.startswith("customer_search")}
            assert kept == ["Mona Migrate"]
        await engine.dispose()
    finally:
        if pg_name is not None:
            await _drop_postgres_database(os.environ["TENANTGRAPH_TEST_POSTGRES_URL"], pg_name)
