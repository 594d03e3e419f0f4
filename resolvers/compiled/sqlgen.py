"""A plan and the request's arguments as one SQL statement that builds the JSON.

PostgreSQL builds objects with ``json_build_object`` and lists with
``json_agg`` (ordered in the aggregate); SQLite with ``json_object`` and
``json_group_array`` over an ordered subquery, wrapping nested values in
``json()`` so they stay JSON. Every table read carries the caller's row reach;
a related row is a correlated subquery by key, a nested list one ordered and
limited per parent, as the loaders order and limit it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from resolvers.compiled.access import Access
from resolvers.compiled.catalog import TYPES
from resolvers.compiled.planner import FieldPlan, ObjectPlan
from resolvers.pagination import SortKey

# The page size of a nested list, from its field's arguments (may raise BadUserInput).
NestedFirst = Callable[[FieldPlan], int]


def slot(field: FieldPlan) -> str:
    """The JSON key of a relation's value: never the name of a column."""
    return f"@{field.key}"


class StatementBuilder:
    def __init__(self, dialect: str, access: Access, nested_first: NestedFirst) -> None:
        self.postgres = dialect == "postgresql"
        self.access = access
        self.nested_first = nested_first

    def obj(self, pairs: list[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
        args: list[Any] = []
        for key, value in pairs:
            # Keys are column names and GraphQL names: letters, digits, _ and @.
            args.extend((literal_column(f"'{key}'"), value))
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

    def object_expr(self, plan: ObjectPlan, source: FromClause) -> ColumnElement[Any]:
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, kind in plan.columns().items():
            column = source.c[key]
            pairs.append((key, column if self.postgres or kind != "json" else func.json(column)))
        for field in plan.fields:
            if field.kind == "one":
                pairs.append((slot(field), self.one(plan.type_name, field, source)))
            elif field.kind == "many":
                pairs.append((slot(field), self.many(plan.type_name, field, source)))
        return self.obj(pairs)

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

    def page(
        self,
        plan: ObjectPlan,
        page: Select[Any],
        sort: SortKey,
        count_of: Select[Any] | None,
    ) -> Select[Any]:
        """A connection's rows (one more than the page) and, if asked, the total count."""
        rows = page.subquery("page")
        order_column = rows.c[sort.column.key]
        order = [order_column.asc().nulls_first() if sort.nullable else order_column, rows.c.id]
        pairs = [("rows", self.array(self.object_expr(plan, rows), order))]
        if count_of is not None:
            counted = select(func.count()).select_from(count_of.order_by(None).subquery())
            pairs.append(("total", counted.scalar_subquery()))
        return select(self.obj(pairs)).select_from(rows)

    def lookup(self, plan: ObjectPlan, statement: Select[Any]) -> Select[Any]:
        row = statement.subquery("page")
        return select(self.object_expr(plan, row)).select_from(row)
