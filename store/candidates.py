"""``column IN (candidates)`` that PostgreSQL always answers by the column's index.

A customer search narrows the customers to a short list of ids from the
search index (``resolvers.customer_search`` makes sure it is short). Written
as ``IN (SELECT ...)``, PostgreSQL plans that list by its own row estimate for
the index range, and an estimate of a thousand turns it into a hash join over
every customer, which grows with the table again. ``= ANY(ARRAY(SELECT ...))``
runs the list once and looks each id up by the primary key, however the list
was estimated. SQLite already plans ``IN`` that way, so it keeps it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, CompoundSelect, Select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class AmongCandidates(ColumnElement[bool]):
    """``column`` is one of the values ``candidates`` selects."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("candidates", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self,
        column: ColumnElement[Any] | QueryableAttribute[Any],
        candidates: Select[Any] | CompoundSelect[Any],
    ) -> None:
        self.column = column if isinstance(column, ColumnElement) else column.expression
        self.candidates = candidates.scalar_subquery()


@compiles(AmongCandidates)
def _in(element: AmongCandidates, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} IN {compiler.process(element.candidates, **kw)}"


@compiles(AmongCandidates, "postgresql")
def _any_array(element: AmongCandidates, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY(ARRAY{compiler.process(element.candidates, **kw)})"
