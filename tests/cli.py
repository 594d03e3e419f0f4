"""Run the ``tenantgraph`` command line as a separate process against a test database."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import TEST_SECRET


def run_cli(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``tenantgraph ARGS`` with this interpreter; never raises on a non-zero exit."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "server.cli", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "TENANTGRAPH_DATABASE_URL": database_url,
            "TENANTGRAPH_SECRET_KEY": TEST_SECRET,
            **env,
        },
        check=False,
    )
