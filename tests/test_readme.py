"""The README's quickstarts run exactly as written.

Every ``sh`` block between ``<!-- quickstart:begin -->`` and
``<!-- quickstart:end -->`` is taken from README.md at test time and run, in
order, in one ``bash`` in a copy of the repository (its files as they are now,
and this environment's ``.venv``), where ``./scripts/serve &`` starts a fresh
server with the demo data. The one change made to the text: when port 8000 is
taken on this machine, ``127.0.0.1:8000`` and ``./scripts/serve`` are pointed at
a free port instead.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- quickstart:begin -->"
END = "<!-- quickstart:end -->"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.DOTALL | re.MULTILINE)
README_PORT = 8000


def quickstart_blocks(readme: str) -> list[str]:
    _, rest = readme.split(BEGIN, 1)
    section, _ = rest.split(END, 1)
    return BLOCK.findall(section)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _script(blocks: list[str], port: int) -> str:
    lines = ["set -euo pipefail"]
    for number, block in enumerate(blocks):
        if port != README_PORT:
            block = block.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{port}")
            block = block.replace("./scripts/serve &", f"./scripts/serve --port {port} &")
        lines += [f"echo '@@ block {number}'", block]
    lines.append("echo '@@ done'")
    return "\n".join(lines) + "\n"


def _copy_of_the_repository(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (item.decode() for item in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(Path(sys.prefix))


def test_the_quickstart_blocks_are_found() -> None:
    blocks = quickstart_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 10
    assert blocks[0].startswith("./scripts/serve &\n")
    assert "/healthz" in blocks[0]


def test_the_readme_quickstarts_run_as_written(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("the quickstarts use curl")
    repo = tmp_path / "tenantgraph"
    repo.mkdir()
    _copy_of_the_repository(repo)
    blocks = quickstart_blocks((repo / "README.md").read_text())
    port = README_PORT if _port_free(README_PORT) else _free_port()
    script = repo / "quickstart.sh"
    script.write_text(_script(blocks, port))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTGRAPH_")}
    env["TENANTGRAPH_VENV"] = sys.prefix
    log = tmp_path / "quickstart.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - bash running the README's own blocks
            ["bash", str(script)],  # noqa: S607
            cwd=repo,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            status = process.wait(timeout=300)
        finally:
            _stop_session(process.pid)
    output = log.read_text(errors="replace")
    assert status == 0, output[-6000:]
    _check_what_the_reader_sees(output, port)


def _stop_session(pid: int) -> None:
    """The background server the README started is in the script's session."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        time.sleep(2)


def _check_what_the_reader_sees(output: str, port: int) -> None:
    assert "@@ done" in output, output[-6000:]
    assert f"GraphiQL at http://127.0.0.1:{port}/graphql" in output
    for expected in (
        '"viewer":{"kind":"STAFF"',
        '"pageInfo":{"hasNextPage":true',
        '"createCustomer":{"customer":{"id"',
        '"addDocument":{"document":{"id"',
        "inspection_report-synsrapport.pdf",
        '"completeBooking":{"reference"',
        '"viewer":{"kind":"PARTNER"',
        "bookings readable by this key",
        "DENY   partner_reminders read Customer.street",
        "Your one-time code to see your data",
        '"myData":{"email":"mette.sorensen@example.dk"',
        '"exportMyData":{"filename"',
        '"previewErasure":{"id"',
        '"requestErasure":{"requests":[{"id"',
    ):
        assert expected in output, f"{expected!r} not in:\n{output[-6000:]}"
    # The one error a reader is shown on purpose: a field the partner may not read.
    assert output.count('"errors":') == 1, output[-6000:]
    assert output.count('"code":"FORBIDDEN"') == 1
