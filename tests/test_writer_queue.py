"""SQLite's writers take turns in arrival order, within a process and across processes."""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.writer_queue import lock_file_for, writer_turn

# Another process takes its turn on the same database, says so, holds it for
# HOLD seconds (forever when negative), marks that it is about to let go, and lets go.
OTHER_WRITER = """
import asyncio, sys, time
from pathlib import Path
from store.writer_queue import writer_turn

async def main(database: str, hold: float, marker: str) -> None:
    async with writer_turn(database, patience=30):
        print("held", flush=True)
        if hold < 0:
            await asyncio.sleep(3600)
        await asyncio.sleep(hold)
        Path(marker).write_text("releasing")

asyncio.run(main(sys.argv[1], float(sys.argv[2]), sys.argv[3]))
"""


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "queue.db"


def _other_writer(database: Path, hold: float, marker: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", OTHER_WRITER, str(database), str(hold), str(marker)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def _turn_is_free(database: Path) -> bool:
    path = lock_file_for(str(database))
    assert path is not None
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


async def _until_free(database: Path, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _turn_is_free(database):
            return True
        await asyncio.sleep(0.02)
    return False


async def test_writers_of_one_process_take_turns_in_arrival_order(database: Path) -> None:
    inside: list[int] = []
    order: list[int] = []

    async def writer(number: int) -> None:
        async with writer_turn(str(database), patience=5):
            assert not inside, "two writers held the turn at once"
            inside.append(number)
            order.append(number)
            await asyncio.sleep(0.005)
            inside.remove(number)

    tasks = []
    for number in range(10):
        tasks.append(asyncio.create_task(writer(number)))
        await asyncio.sleep(0)  # each task reaches the queue before the next starts
    await asyncio.gather(*tasks)
    assert order == list(range(10))


async def test_a_writer_waits_for_another_process_s_turn(
    database: Path, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    marker = tmp_path / "released"
    processes.append(_other_writer(database, 0.4, marker))
    async with writer_turn(str(database), patience=10):
        assert marker.exists(), "the turn was had while the other process held it"
    assert await _until_free(database)


async def test_patience_spent_goes_on_and_the_abandoned_wait_lets_go(
    database: Path, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    """SQLite's own lock still guards the data: a writer is never stuck on the queue,
    and the wait it gave up on does not keep the turn once it comes."""
    other = _other_writer(database, -1, tmp_path / "never")
    processes.append(other)
    started = time.monotonic()
    async with writer_turn(str(database), patience=0.2):
        waited = time.monotonic() - started
    assert 0.15 < waited < 2.0
    other.kill()
    other.wait()
    assert await _until_free(database), "the abandoned wait kept the turn"


async def test_a_cancelled_wait_lets_go_too(
    database: Path, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    other = _other_writer(database, -1, tmp_path / "never")
    processes.append(other)

    async def writer() -> None:
        async with writer_turn(str(database), patience=30):
            raise AssertionError("the turn was had while the other process held it")

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    other.kill()
    other.wait()
    assert await _until_free(database), "the cancelled wait kept the turn"
    async with writer_turn(str(database), patience=1):
        pass


async def test_an_in_memory_database_queues_inside_the_process_only(tmp_path: Path) -> None:
    assert lock_file_for(":memory:") is None
    assert lock_file_for(None) is None
    async with writer_turn(":memory:", patience=1):
        pass
    assert not any(os.scandir(tmp_path))
