"""Keyset pagination for Relay connections.

A cursor is the sort key of the last row seen, so a page is one indexed range
scan however deep the client pages, and rows inserted meanwhile never shift it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from basics.errors import BadUserInput
from resolvers.validation import has_unsafe_characters
from store.engine import SerialReader

T = TypeVar("T")

# Row keys are hex UUIDs; sort values are text columns of bounded length.
_KEY = re.compile(r"[0-9a-f]{32}")
_MAX_TEXT = 1000


@dataclass(frozen=True)
class SortKey:
    """A column to order by (ascending) and the primary key that breaks ties."""

    column: InstrumentedAttribute[Any]
    id_column: InstrumentedAttribute[str]
    is_datetime: bool = False
    nullable: bool = False

    def value_of(self, row: Any) -> tuple[Any, str]:
        return getattr(row, self.column.key), getattr(row, self.id_column.key)


@dataclass
class Page(Generic[T]):
    """One page of rows with what the connection type needs to render it."""

    rows: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    count_statement: Select[Any]
    session: SerialReader

    async def total_count(self) -> int:
        result = await self.session.execute(
            select(func.count()).select_from(self.count_statement.order_by(None).subquery())
        )
        return int(result.scalar_one())


def encode_cursor(sort: SortKey, row: Any) -> str:
    value, key = sort.value_of(row)
    return cursor_for(value, key)


def cursor_for(value: Any, key: str) -> str:
    """The cursor of a row whose sort value is ``value`` and primary key ``key``."""
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([value, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: SortKey, cursor: str) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        # Cursors are opaque but forgeable: every part must be what this
        # connection itself would have written, before it reaches SQL.
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError
        if sort.is_datetime:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError
        elif value is None:
            if not sort.nullable:
                raise ValueError
        elif not isinstance(value, str) or len(value) > _MAX_TEXT or has_unsafe_characters(value):
            raise ValueError
    except (binascii.Error, UnicodeError, ValueError, TypeError):
        raise BadUserInput("after", "is not a valid cursor") from None
    return value, key


def clamp_first(first: int | None, *, default: int, maximum: int) -> int:
    if first is None:
        return default
    if first < 0:
        raise BadUserInput("first", "must not be negative")
    if first > maximum:
        raise BadUserInput("first", f"must be at most {maximum}")
    return first


def _after(sort: SortKey, value: Any, key: str) -> ColumnElement[bool]:
    if value is None:
        # NULL sorts first here (NULLS FIRST is forced below): after a NULL row
        # come NULL rows with a larger id, then every non-NULL row.
        return or_(and_(sort.column.is_(None), sort.id_column > key), sort.column.is_not(None))
    return or_(
        sort.column > value,
        and_(sort.column == value, sort.id_column > key),
    )


def sort_order(sort: SortKey) -> ColumnElement[Any]:
    # NULLS FIRST only where NULLs exist: on a NOT NULL column the plain
    # ascending order is what the index provides, on PostgreSQL too.
    return sort.column.asc().nulls_first() if sort.nullable else sort.column.asc()


def page_statement(
    statement: Select[T], sort: SortKey, *, first: int, after: str | None
) -> Select[T]:
    """One page of ``statement`` and one row more (whether a next page exists)."""
    if after is not None:
        value, key = decode_cursor(sort, after)
        statement = statement.where(_after(sort, value, key))
    return statement.order_by(sort_order(sort), sort.id_column.asc()).limit(first + 1)


async def paginate(
    session: SerialReader,
    statement: Select[T],
    sort: SortKey,
    *,
    first: int,
    after: str | None,
    count_statement: Select[T] | None = None,
) -> Page[T]:
    """Run one page of ``statement`` (already scoped and filtered).

    ``count_statement`` counts the whole connection when ``statement`` is
    narrowed to the page (a search cut from its index); by default the same.
    """
    selected = page_statement(statement, sort, first=first, after=after)
    rows = list((await session.execute(selected)).scalars().all()) if first else []
    has_next = len(rows) > first
    rows = rows[:first]
    return Page(
        rows=rows,
        cursors=[encode_cursor(sort, row) for row in rows],
        has_next_page=has_next,
        has_previous_page=after is not None,
        count_statement=statement if count_statement is None else count_statement,
        session=session,
    )
