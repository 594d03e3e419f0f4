"""SQL functions SQLite lacks, registered on each of its connections.

The compiled read path (``resolvers.compiled``) writes answers in the
database. PostgreSQL can spell a global id and an ISO timestamp in SQL;
SQLite has no base64 and stores timestamps in its own form, so these two
deterministic functions do it, with the same code the executor's path uses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from basics.ids import encode_id

GLOBAL_ID = "tg_global_id"
DATETIME_TEXT = "tg_datetime_text"


def datetime_text(value: Any) -> str | None:
    """A stored timestamp as ``UTCDateTime`` returns it, in ``isoformat()``: aware, UTC."""
    if value is None:
        return None
    text = str(value)
    if len(text) == 26 and text[10] == " " and text[19] == ".":
        # SQLite's stored form, always UTC: 2026-01-05 08:00:00.000000
        fraction = text[20:]
        seconds = "" if fraction == "000000" else f".{fraction}"
        return f"{text[:10]}T{text[11:19]}{seconds}+00:00"
    if len(text) == 25 and text[10] == "T" and text.endswith("+00:00"):
        return text  # already in UTC, whole seconds
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC).isoformat()
    return parsed.astimezone(UTC).isoformat()


def _global_id(type_name: str, key: Any) -> str | None:
    return None if key is None else encode_id(type_name, str(key))


def register(dbapi_connection: Any) -> None:
    """Add the functions to one SQLite connection (the engine's ``connect`` event)."""
    dbapi_connection.create_function(GLOBAL_ID, 2, _global_id, deterministic=True)
    dbapi_connection.create_function(DATETIME_TEXT, 1, datetime_text, deterministic=True)
