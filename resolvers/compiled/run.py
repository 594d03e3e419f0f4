"""Answer a planned root field with one statement, or say that the executor must.

``Fallback`` means "not this way": an argument the executor would refuse (it
then refuses it with its own error), a lookup that finds nothing (the
executor's ``NOT_FOUND``), a row outside the caller's reach (the field guard
reports it). Nothing is sent to the client from a root field that fell back.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode, VariableNode
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_variable_values,
)
from sqlalchemy import Select, String, bindparam, select

from basics.errors import ServiceError
from basics.ids import decode_id
from basics.raw_json import RawJSON
from resolvers import queries
from resolvers.compiled.access import Access
from resolvers.compiled.answer import AnswerWriter, OutOfReach
from resolvers.compiled.catalog import NESTED_DEFAULT, TYPES
from resolvers.compiled.planner import FieldPlan, RootPlan
from resolvers.compiled.sqlgen import StatementBuilder
from resolvers.context import RequestContext
from resolvers.pagination import SortKey, page_statement
from store.models import DocumentKind

SORTS: dict[str, SortKey] = {
    "bookings": queries.BOOKING_ORDER,
    "customers": queries.CUSTOMER_ORDER,
    "vehicles": queries.VEHICLE_ORDER,
    "documents": queries.DOCUMENT_ORDER,
}


class Fallback(Exception):
    """The executor answers this root field."""


async def _connection_statements(
    ctx: RequestContext, name: str, args: dict[str, Any], first: int, after: str | None
) -> tuple[Select[Any], Select[Any]]:
    """The statement the page is cut from, and the one ``totalCount`` counts."""
    if name == "customers":
        return await queries.customers_statements(ctx, args.get("search"), first=first, after=after)
    statement = _connection_statement(ctx, name, args)
    return statement, statement


def _connection_statement(ctx: RequestContext, name: str, args: dict[str, Any]) -> Select[Any]:
    if name == "bookings":
        if args.get("filter") is not None:
            raise Fallback
        return queries.bookings_statement(ctx, queries.BookingFilter())
    if name == "vehicles":
        return queries.vehicles_statement(ctx, args.get("search"))
    kind = args.get("kind")
    if kind is not None and not isinstance(kind, DocumentKind):
        kind = DocumentKind[kind]
    return queries.documents_statement(ctx, kind)


# The looked-up row's key, bound at execution: one built statement serves every id.
LOOKUP_KEY = "lookup_key"


def _lookup_statement(ctx: RequestContext, root: RootPlan) -> Select[Any]:
    model = TYPES[root.type_name].model
    key = bindparam(LOOKUP_KEY, type_=String())
    return select(model).where(model.id == key, ctx.loaders.scope(model))  # type: ignore[attr-defined, type-var]


def _id_variable(root: RootPlan) -> str | None:
    """The variable that carries the lookup's id, if a variable does."""
    for argument in root.field_node.arguments or ():
        if argument.name.value == "id" and isinstance(argument.value, VariableNode):
            return argument.value.name.value
    return None


def _variables_key(given: dict[str, Any]) -> str:
    return json.dumps(given, sort_keys=True, default=str)


class RootRunner:
    """Runs the planned root fields of one request."""

    def __init__(
        self,
        ctx: RequestContext,
        schema: GraphQLSchema,
        variables: VariableValues,
        access: Access,
        partner_reads: dict[str, set[str]] | None,
        given: dict[str, Any],
    ) -> None:
        # What a built statement depends on besides the plan: the variables and,
        # for a data subject, whose rows (the plan already fixes roles and tenant).
        self.given = given
        self.statement_key = (access.principal.email, _variables_key(given))
        self.ctx = ctx
        self.schema = schema
        self.variables = variables
        self.access = access
        self.dialect = ctx.sessions.kw["bind"].dialect.name
        self.writer = AnswerWriter(access, partner_reads)

    @classmethod
    def for_request(
        cls,
        ctx: RequestContext,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
        access: Access,
        partner_reads: dict[str, set[str]] | None,
    ) -> RootRunner | None:
        """A runner with the request's variables coerced; None when the executor must
        refuse them (it reports bad variables in its own words)."""
        given = dict(variables or {})
        coerced = get_variable_values(schema, operation.variable_definitions or (), given)
        if isinstance(coerced, list):
            return None
        return cls(ctx, schema, coerced, access, partner_reads, given)

    def _lookup_key(self, root: RootPlan) -> Hashable:
        """What a built lookup depends on: the caller and every variable but the id."""
        id_variable = _id_variable(root)
        if id_variable is None or id_variable not in self.given:
            return self.statement_key
        rest = {name: value for name, value in self.given.items() if name != id_variable}
        return (self.statement_key[0], _variables_key(rest))

    def _nested_first(self, field: FieldPlan) -> int:
        assert field.definition is not None and field.node is not None
        first = get_argument_values(field.definition, field.node, self.variables).get("first")
        return self.ctx.page_size(first if first is not None else NESTED_DEFAULT)

    async def run(self, root: RootPlan) -> RawJSON:
        try:
            return await self._run(root)
        except (ServiceError, OutOfReach) as exc:
            raise Fallback from exc

    async def _run(self, root: RootPlan) -> RawJSON:
        args = get_argument_values(root.definition, root.field_node, self.variables)
        if not root.connection:
            key = decode_id("id", args["id"], root.type_name)
            lookup_key = self._lookup_key(root)
            statement = root.statements.get(lookup_key)
            if statement is None:
                builder = StatementBuilder(self.dialect, self.access, self._nested_first)
                statement = builder.lookup(root.node, _lookup_statement(self.ctx, root))
                root.remember(lookup_key, statement)
            rows = await self._fetch(statement, {LOOKUP_KEY: key})
            if not rows or rows[0][0] is None:
                raise Fallback  # the executor's NOT_FOUND, word for word
            return RawJSON(self.writer.checked(root, rows[0][0]))
        first = self.ctx.page_size(args.get("first"))
        if first == 0:
            raise Fallback
        after = args.get("after")
        statement = root.statements.get(self.statement_key)
        if statement is None:
            statement = await self._page(root, args, first, after)
            root.remember(self.statement_key, statement)
        rows = await self._fetch(statement)
        return RawJSON(self.writer.connection(root, rows, first, after))

    async def _page(
        self, root: RootPlan, args: dict[str, Any], first: int, after: str | None
    ) -> Select[Any]:
        sort = SORTS[root.name]
        base, total = await _connection_statements(self.ctx, root.name, args, first, after)
        wants_total = any(w.name == "totalCount" for w in root.wrappers)
        wants_nodes = any(
            w.name == "edges" and any(name == "node" for _key, name in w.fields)
            for w in root.wrappers
        )
        builder = StatementBuilder(self.dialect, self.access, self._nested_first)
        return builder.page(
            root.node if wants_nodes else None,
            page_statement(base, sort, first=first, after=after),
            sort,
            total if wants_total else None,
        )

    async def _fetch(
        self, statement: Select[Any], params: dict[str, Any] | None = None
    ) -> Sequence[Any]:
        return (await self.ctx.session.execute(statement, params, core=True)).all()
