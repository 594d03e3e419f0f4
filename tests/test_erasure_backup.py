"""A restored backup after erasure: everyone erased since comes back out, whatever their
email or phone were when the backup was taken (a rectification in between included)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx

from basics.ids import encode_id
from privacy.flush import flush_erased_pages
from server.app import create_app
from store.engine import create_engine, create_sessionmaker
from store.models import Customer, Vehicle
from tests.conftest import TEST_SECRET
from tests.graphql_client import gql
from tests.test_erasure import (
    ERASE,
    TEST_ERASURE_KEY,
    FileDatabase,
    add_person,
    file_database,
    open_shop,
    run_cli,
)

__all__ = ["file_database"]

RECTIFY = """mutation($id: ID!, $input: RectifyCustomerInput!) {
  rectifyCustomer(id: $id, input: $input) { changedFields } }"""


async def test_replay_erases_a_person_whose_contact_details_changed_after_the_backup(
    file_database: FileDatabase, tmp_path: Path
) -> None:
    db = file_database
    shop = await open_shop(db.engine, db.settings, "backup-ret")
    unchanged = await add_person(db.engine, db.settings, shop)
    rectified = await add_person(db.engine, db.settings, shop)
    assert (await flush_erased_pages(db.engine)).complete  # a consistent file to copy
    backup = tmp_path / "backup.db"
    shutil.copyfile(db.path, backup)

    app = create_app(db.settings, engine=db.engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        changed = await gql(
            http,
            RECTIFY,
            {
                "id": rectified.gid,
                "input": {"email": "ny.adresse@example.dk", "phone": "+4529999911"},
            },
            token=shop.tokens["staff"],
        )
        assert changed.ok()["rectifyCustomer"]["changedFields"] == ["email", "phone"]
        for person in (unchanged, rectified):
            erased = await gql(http, ERASE, {"id": person.gid}, token=shop.tokens["tenant_admin"])
            assert erased.ok()["eraseCustomer"]["receipt"]["customerId"] == person.gid

    restored = tmp_path / "restored.db"
    shutil.copyfile(backup, restored)
    env = {
        **os.environ,
        "TENANTGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{restored}",
        "TENANTGRAPH_SECRET_KEY": TEST_SECRET,
        "TENANTGRAPH_ERASURE_KEY": TEST_ERASURE_KEY,
    }
    result = await run_cli(
        env, tmp_path, "erasure", "replay", "--journal-from", f"sqlite+aiosqlite:///{db.path}"
    )
    assert result.returncode == 0, result.stderr
    assert "2 erased again" in result.stdout, result.stdout
    engine = create_engine(f"sqlite+aiosqlite:///{restored}")
    try:
        async with create_sessionmaker(engine)() as session:
            for person in (unchanged, rectified):
                assert await session.get(Customer, person.customer) is None, person.email
                assert await session.get(Vehicle, person.vehicle) is None
                assert await session.get(Customer, person.bystander) is not None
            # The restored file held the rectified person's original email: none left.
            left = (
                await session.execute(
                    Customer.__table__.select().where(Customer.email == rectified.email)
                )
            ).all()
            assert left == []
    finally:
        await engine.dispose()
    assert encode_id("Customer", rectified.customer) in result.stdout
