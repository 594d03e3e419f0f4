"""A plan and the request's arguments as one SQL statement that writes the answer's JSON.

The database writes each object's JSON text in its final form: global ids,
the download path, dates and times formatted as the executor formats them,
enums by name, booleans as JSON booleans, in the selection's order and under
its aliases. Python only checks and strips each object's reach tag
(``resolvers.compiled.answer``) and writes the connection around the rows.

PostgreSQL builds objects with ``json_build_object`` and lists with
``json_agg`` (ordered in the aggregate); SQLite with ``json_object`` and
``json_group_array`` over an ordered subquery, wrapping nested values in
``json()`` so they stay JSON, and with two functions the engine registers on
each connection (``store.sql_functions``) for what SQLite cannot spell.

Every table read carries the caller's row reach; a related row is a
correlated subquery by key, a nested list one ordered and limited per parent,
as the loaders order and limit it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Text,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from resolvers.compiled.access import Access
from resolvers.compiled.catalog import TYPES
from resolvers.compiled.planner import FieldPlan, ObjectPlan
from resolvers.pagination import SortKey
from store.sql_functions import DATETIME_TEXT, GLOBAL_ID

# The page size of a nested list, from its field's arguments (may raise BadUserInput).
NestedFirst = Callable[[FieldPlan], int]

# The key of each object's reach tag: [plan index, tenant id, subject id].
# No GraphQL response key can contain "@".
REACH_KEY = "@r"


def _text(value: str) -> ColumnElement[Any]:
    """A constant string of our own (type names, keys): inline, never user input."""
    if "'" in value:
        raise ValueError(f"not a plain constant: {value!r}")
    return literal_column(f"'{value}'")


def _sqlite_function(name: str, *args: ColumnElement[Any]) -> ColumnElement[Any]:
    """A call of one of the functions ``store.sql_functions`` registers on SQLite."""
    function: ColumnElement[Any] = getattr(func, name)(*args)
    return function


class StatementBuilder:
    def __init__(self, dialect: str, access: Access, nested_first: NestedFirst) -> None:
        self.postgres = dialect == "postgresql"
        self.access = access
        self.nested_first = nested_first

    # -- JSON building blocks -------------------------------------------------

    def obj(self, pairs: list[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
        args: list[Any] = []
        for key, value in pairs:
            args.extend((_text(key), value))
        if self.postgres:
            return func.json_build_object(*args)
        return func.json_object(*args)

    def embed(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A nested value as JSON, not text: SQLite drops the JSON type across subqueries."""
        return value if self.postgres else func.json(value)

    def array(
        self, value: ColumnElement[Any], order: Sequence[ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        if self.postgres:
            return func.coalesce(
                func.json_agg(aggregate_order_by(value, *order)), literal_column("'[]'::json")
            )
        return func.json_group_array(func.json(value))

    def as_text(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """JSON as its text: the driver hands it over without decoding it."""
        return cast(value, Text) if self.postgres else value

    # -- values in the executor's format --------------------------------------

    def global_id(self, type_name: str, key: ColumnElement[Any]) -> ColumnElement[Any]:
        """``basics.ids.encode_id``: base64url of ``Type:key``, unpadded."""
        if not self.postgres:
            return _sqlite_function(GLOBAL_ID, _text(type_name), key)
        raw = func.convert_to(_text(f"{type_name}:").op("||")(key), _text("UTF8"))
        encoded = func.encode(raw, _text("base64"))
        # encode() wraps lines at 76 characters: the newlines go too. Three
        # replace() calls cost a third of one translate() on a UTF-8 database,
        # which maps character by character (400 ids on a page of 100).
        url_safe = func.replace(
            func.replace(func.replace(encoded, _text("+"), _text("-")), _text("/"), _text("_")),
            literal_column("E'\\n'"),
            _text(""),
        )
        return func.rtrim(url_safe, _text("="))

    def datetime_text(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """``datetime.isoformat()`` in UTC: fractional seconds only when there are any."""
        if not self.postgres:
            return _sqlite_function(DATETIME_TEXT, column)
        utc = column.op("AT TIME ZONE")(_text("UTC"))
        whole = func.to_char(utc, _text('YYYY-MM-DD"T"HH24:MI:SS'))
        fraction = case(
            (func.date_trunc(_text("second"), column) == column, _text("")),
            else_=func.to_char(utc, _text(".US")),
        )
        return case(
            (column.is_(None), None),
            else_=whole.op("||")(fraction).op("||")(_text("+00:00")),
        )

    def column_value(self, kind: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
        if kind == "datetime":
            return self.datetime_text(column)
        if kind == "bool" and not self.postgres:
            # SQLite stores 0 and 1; JSON wants true and false.
            return func.json(
                case(
                    (column.is_(None), _text("null")),
                    (column == 0, _text("false")),
                    else_=_text("true"),
                )
            )
        if kind == "json" and not self.postgres:
            return func.json(column)
        # Text, integers, enums (stored by their GraphQL name) and dates
        # (ISO dates in both databases) are already in the executor's form.
        return column

    # -- objects and relations ------------------------------------------------

    def reach_tag(self, plan: ObjectPlan, source: FromClause) -> ColumnElement[Any]:
        spec = TYPES[plan.type_name]
        subject: ColumnElement[Any] = literal_column("NULL")
        if spec.subject and self.access.tags_subject:
            subject = source.c[spec.subject]
        build = func.json_build_array if self.postgres else func.json_array
        return build(literal_column(str(plan.index)), source.c.tenant_id, subject)

    def object_expr(self, plan: ObjectPlan, source: FromClause) -> ColumnElement[Any]:
        pairs: list[tuple[str, ColumnElement[Any]]] = [(REACH_KEY, self.reach_tag(plan, source))]
        for field in plan.fields:
            pairs.append((field.key, self.field_value(plan.type_name, field, source)))
        return self.obj(pairs)

    def field_value(
        self, type_name: str, field: FieldPlan, source: FromClause
    ) -> ColumnElement[Any]:
        kind = field.kind
        if kind == "typename":
            return _text(type_name)
        if kind == "id":
            return self.global_id(type_name, source.c.id)
        if kind == "download":
            path = _text("/documents/")
            return path.op("||")(self.global_id(type_name, source.c.id))
        if kind == "column":
            assert field.column is not None and field.convert is not None
            return self.column_value(field.convert, source.c[field.column])
        if kind == "one":
            return self.one(type_name, field, source)
        return self.many(type_name, field, source)

    def one(self, parent: str, field: FieldPlan, source: FromClause) -> ColumnElement[Any]:
        relation = TYPES[parent].relations[field.name]
        target = TYPES[relation.target].model
        table = target.__table__
        assert field.child is not None
        statement = (
            select(self.object_expr(field.child, table))
            .where(table.c.id == source.c[relation.key], self.access.reach(target))
            .correlate(source)
        )
        return self.embed(statement.scalar_subquery())

    def many(self, parent: str, field: FieldPlan, source: FromClause) -> ColumnElement[Any]:
        relation = TYPES[parent].relations[field.name]
        target = TYPES[relation.target].model
        table = target.__table__
        assert field.child is not None
        order = [table.c[key] for key in relation.order] + [table.c.id]
        rows = (
            select(
                self.object_expr(field.child, table).label("x"),
                *(column.label(f"o{i}") for i, column in enumerate(order)),
            )
            .where(table.c[relation.key] == source.c.id, self.access.reach(target))
            .order_by(*order)
            .limit(self.nested_first(field))
            .correlate(source)
            .subquery()
        )
        inner_order = [rows.c[f"o{i}"] for i in range(len(order))]
        return self.embed(select(self.array(rows.c.x, inner_order)).scalar_subquery())

    # -- root fields ------------------------------------------------------------

    def page(
        self,
        plan: ObjectPlan | None,
        page: Select[Any],
        sort: SortKey,
        count_of: Select[Any] | None,
    ) -> Select[Any]:
        """A connection: one result row per row of the page (one more than asked).

        Each row carries its object's JSON text (when nodes are asked for), its
        id and its sort value (for the cursor), and the total count when asked
        for. The page is outer-joined to a single row, so an empty page still
        answers with one row and the count.
        """
        rows = page.subquery("page")
        order_column = rows.c[sort.column.key]
        order = [order_column.asc().nulls_first() if sort.nullable else order_column, rows.c.id]
        node = literal_column("NULL") if plan is None else self.object_expr(plan, rows)
        total: ColumnElement[Any] = literal_column("NULL")
        if count_of is not None:
            counted = select(func.count()).select_from(count_of.order_by(None).subquery())
            total = counted.scalar_subquery()
        anchor = select(literal_column("1").label("one")).subquery("anchor")
        return (
            select(
                self.as_text(node).label("node"),
                rows.c.id.label("id"),
                order_column.label("sort_value"),
                total.label("total"),
            )
            .select_from(anchor.outerjoin(rows, true()))
            .order_by(*order)
        )

    def lookup(self, plan: ObjectPlan, statement: Select[Any]) -> Select[Any]:
        row = statement.subquery("page")
        return select(self.as_text(self.object_expr(plan, row))).select_from(row)
