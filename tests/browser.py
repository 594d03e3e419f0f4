"""Headless Chromium for the page tests, driven by Selenium, and a demo server for it to visit.

The browser and its driver come from the system (Debian's ``chromium`` and
``chromium-driver``): both paths are given to Selenium, so Selenium Manager
never runs and nothing is downloaded. Where either is missing the tests are
skipped with a reason that says how to install them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port, server_env

CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-screenshots"
DEMO_SUBJECT = "mette.sorensen@example.dk"


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The Chromium binary, or a skip that says why and how to get it."""
    binary = chromium_binary()
    if binary is None or not CHROMEDRIVER.exists():
        give_up = (
            pytest.fail if os.environ.get("TENANTGRAPH_REQUIRE_BROWSER") == "1" else pytest.skip
        )
        give_up(
            "browser tests need Debian's Chromium and its driver "
            "(apt-get install -y chromium chromium-driver; .ci/run installs them): "
            f"chromium {'found' if binary else 'missing'}, "
            f"{CHROMEDRIVER} {'found' if CHROMEDRIVER.exists() else 'missing'}"
        )
    return binary


@dataclass
class DemoServer:
    """``tenantgraph serve --demo`` on a scratch SQLite file, and how to run its CLI."""

    url: str
    env: dict[str, str]
    workdir: Path

    def cli(self, *args: str) -> str:
        """Run ``tenantgraph ARGS`` against the server's database; its standard output."""
        done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "server.cli", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def code_sent_to(self, address: str, channel: str = "email") -> str:
        """The newest one-time code sent to ``address``, read as a developer does: ``tenantgraph outbox``."""
        printed = self.cli("outbox")
        blocks = [b for b in printed.split("--- ") if b.startswith(f"{channel} to {address} ")]
        assert blocks, f"no message to {address} in the outbox:\n{printed}"
        found = re.search(r"\b(\d{6})\b", blocks[-1].split("\n", 1)[1])
        assert found, f"no six-digit code in: {blocks[-1]}"
        return found.group(1)


@contextlib.contextmanager
def demo_server(workdir: Path, secret: str) -> Iterator[DemoServer]:
    port = free_port()
    env = server_env(f"sqlite+aiosqlite:///{workdir / 'pages.db'}", secret=secret)
    log = (workdir / "server.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "server.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = DemoServer(f"http://127.0.0.1:{port}", env, workdir)
    try:
        _wait_ready(server.url, process, workdir / "server.log")
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"demo server exited:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"demo server not ready:\n{log.read_text(errors='replace')[-3000:]}")


def screenshot(driver: object, name: str) -> Path:
    """Save the page as test-screenshots/NAME.png (git ignores the folder)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # The whole page, not only the window: the height follows the content.
    size = driver.get_window_size()  # type: ignore[attr-defined]
    height = driver.execute_script("return document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    driver.set_window_size(size["width"], max(600, min(int(height) + 140, 6000)))  # type: ignore[attr-defined]
    driver.execute_script("window.scrollTo(0, 0)")  # type: ignore[attr-defined]
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    driver.set_window_size(size["width"], size["height"])  # type: ignore[attr-defined]
    return path
