"""What the privacy read helpers need of a session: something that runs a statement."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Executable, Result


class Reader(Protocol):
    """Anything that runs a statement: a session, or a request's ``SerialReader``."""

    async def execute(self, statement: Executable, /) -> Result[Any]: ...
