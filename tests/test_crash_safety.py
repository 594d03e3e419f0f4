"""A server killed with SIGKILL under write load loses no confirmed booking.

Runs ``scripts/crash_test.py`` as a user would, briefly (one kill a second or
two into a flow of concurrent bookings), on a new SQLite file and on a
temporary PostgreSQL database. The script itself checks every confirmed
booking, every slot's capacity and the database's integrity after the kill,
and that the restarted server serves every confirmed booking; it exits 1 on
any loss.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "crash_test.py"


def _database_args(engine: str) -> list[str]:
    if engine == "sqlite":
        return []
    admin_url = os.environ.get("TENANTGRAPH_TEST_POSTGRES_URL")
    if not admin_url:
        if os.environ.get("TENANTGRAPH_REQUIRE_POSTGRES") == "1":
            pytest.fail("TENANTGRAPH_REQUIRE_POSTGRES=1 but no TENANTGRAPH_TEST_POSTGRES_URL")
        pytest.skip("no PostgreSQL server available")
    return ["--database-url", admin_url]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_killed_server_loses_no_confirmed_booking(engine: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        *_database_args(engine),
        "--kills",
        "1",
        "--seconds",
        "2",
        "--clients",
        "12",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    report = output.decode()
    assert process.returncode == 0, report
    assert "result         nothing lost" in report, report
    confirmed = re.search(r"summary +1 kills, (\d+) confirmed bookings, 0 lost", report)
    assert confirmed and int(confirmed.group(1)) > 0, report
