"""Authorization at execution: the static check and the field guard.

1. Before any resolver runs, the operation is walked (``authz.operation_check``)
   against the caller's decisions. In the ``reject`` style any denied field
   refuses the whole operation with one ``FORBIDDEN`` listing every denied path;
   writes are refused that way in either style, since a write cannot be partial.
2. While the operation executes, one middleware checks each field of each row
   against the row's relation to the caller. In the ``partial`` style that is
   what nulls denied fields. In both styles it is the defence in depth: a row
   that no relation connects to the caller (a resolver bug) is never shown,
   and the event is logged.

The middleware is one dict lookup per field, with no Casbin call: decisions are
memoised per policy version and role set (``authz.decisions``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLInterfaceType,
    OperationDefinitionNode,
    OperationType,
)
from strawberry.extensions import SchemaExtension

from authz.introspection import visible_schema
from authz.kernel import (
    INTROSPECTION_FIELDS,
    ROOT_TYPES,
    TYPENAME,
    may_introspect,
    may_read,
    may_select,
    note_partner_read,
    row_relation,
)
from authz.operation_check import Denial, OperationTooComplex, denied_fields
from basics.errors import BadUserInput, Forbidden
from basics.principal import DenialStyle
from resolvers.context import RequestContext
from schema.caches import cached_static_check
from schema.settled_reads import settled_key
from store.models import Base

security_log = logging.getLogger("tenantgraph.security")

# Introspection types whose answers depend on the whole schema, not only their object.
INTROSPECTION_TYPES = frozenset({"__Type"})
# Marks a row whose relation has not been computed yet in this request.
_UNKNOWN: Any = object()


def _operation(
    document: Any, operation_name: str | None
) -> tuple[OperationDefinitionNode | None, dict[str, FragmentDefinitionNode]]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if operation_name is None:
        return (operations[0] if len(operations) == 1 else None), fragments
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation, fragments
    return None, fragments


def introspected(_next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
    """``possibleTypes`` from the caller's own schema, not from the full one."""
    if info.field_name == "possibleTypes" and isinstance(root, GraphQLInterfaceType):
        context: RequestContext = info.context
        visible = visible_schema(info.schema, context.principal, context.decisions)
        return visible.get_possible_types(root)
    return _next(root, info, *args, **kwargs)


def forbidden_error(denials: list[Denial]) -> GraphQLError:
    paths = [d.path for d in denials]
    if any(d.coordinate in INTROSPECTION_FIELDS for d in denials):
        return Forbidden(
            "introspection is not available to this caller: " + ", ".join(paths),
            deniedPaths=paths,
        )
    return Forbidden(
        f"not allowed to {'write' if any(d.action == 'write' for d in denials) else 'read'}: "
        + ", ".join(paths),
        deniedPaths=paths,
        deniedFields=sorted({d.coordinate for d in denials}),
    )


def _static_key(
    execution_context: Any, context: RequestContext, operation: OperationDefinitionNode
) -> tuple[Any, ...] | None:
    """What a read's static check depends on; a write's also depends on its variables."""
    if operation.operation is not OperationType.QUERY or not execution_context.query:
        return None
    return settled_key(execution_context.query, execution_context.operation_name, context)


class FieldGuard(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context: RequestContext = self.execution_context.context
        await context.record_partner_reads()

    def on_execute(self) -> Iterator[None]:
        context: RequestContext = self.execution_context.context
        document = self.execution_context.graphql_document
        operation, fragments = (
            _operation(document, self.execution_context.operation_name)
            if document is not None
            else (None, {})
        )
        if operation is not None:
            denials = cached_static_check(
                self.execution_context,
                _static_key(self.execution_context, context, operation),
                lambda: self._static_denials(context, operation, fragments),
            )
            if isinstance(denials, GraphQLError):
                self.execution_context.result = ExecutionResult(data=None, errors=[denials])
            else:
                reject_all = context.principal.denial_style is DenialStyle.REJECT
                refuse = [d for d in denials if reject_all or d.action == "write"]
                if refuse:
                    self.execution_context.result = ExecutionResult(
                        data=None, errors=[forbidden_error(refuse)]
                    )
        yield

    def _static_denials(
        self,
        context: RequestContext,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
    ) -> list[Denial] | GraphQLError:
        decisions = context.decisions
        principal = context.principal

        introspection = may_introspect(
            principal,
            production=context.settings.is_production,
            introspection=context.settings.introspection,
        )

        def allowed(coordinate: str, action: str, type_name: str) -> bool:
            return may_select(
                principal, decisions, coordinate, action, type_name, introspection=introspection
            )

        try:
            return denied_fields(
                self.execution_context.schema._schema,
                operation,
                fragments,
                dict(self.execution_context.variables or {}),
                allowed,
            )
        except OperationTooComplex:
            return BadUserInput("query", "selects too many fields")

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if isinstance(root, Base):
            field_name: str = info.field_name
            if not field_name.startswith("__"):
                self._check_row_field(root, info, field_name)
        elif root is None and info.parent_type.name in ROOT_TYPES:
            return self._root_field(_next, root, info, *args, **kwargs)
        elif info.parent_type.name in INTROSPECTION_TYPES:
            return introspected(_next, root, info, *args, **kwargs)
        return _next(root, info, *args, **kwargs)

    def _root_field(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """A root field, decided again as the static check did; introspection per caller."""
        context: RequestContext = info.context
        name: str = info.field_name
        if name == TYPENAME:
            return _next(root, info, *args, **kwargs)
        if name in INTROSPECTION_FIELDS:
            # The static check refused callers who may not introspect; this one
            # sees the schema of its own roles.
            visible = visible_schema(info.schema, context.principal, context.decisions)
            if name == "__schema":
                return visible
            return visible.get_type(kwargs.get("name", ""))
        action = "write" if info.parent_type.name == "Mutation" else "read"
        coordinate = f"{info.parent_type.name}.{name}"
        parent: str = info.parent_type.name
        if not may_select(context.principal, context.decisions, coordinate, action, parent):
            raise Forbidden(f"not allowed to {action} {coordinate}")
        return _next(root, info, *args, **kwargs)

    def _check_row_field(self, root: Base, info: Any, field_name: str) -> None:
        """The hot path: one memoised relation per row, one dict lookup per field."""
        context: RequestContext = info.context
        relations = context.row_relations
        key = id(root)
        relation = relations.get(key, _UNKNOWN)
        if relation is _UNKNOWN:
            relation = row_relation(root, context.principal, context.own_customer_ids)
            if relation is None and getattr(root, "id", None) in context.created_for_caller:
                relation = "self"
            relations[key] = relation
        if relation is None:
            security_log.warning(
                "field guard: %s row outside the caller's scope at %s (request %s, %s)",
                type(root).__name__,
                info.path.as_list(),
                context.request_id,
                context.principal.actor,
            )
            raise Forbidden("not allowed to read this object")
        type_name: str = info.parent_type.name
        if not may_read(context.decisions, type_name, field_name, relation):
            raise Forbidden(f"not allowed to read {type_name}.{field_name}")
        if context.partner_reads is not None:
            note_partner_read(context.partner_reads, root, f"{type_name}.{field_name}", field_name)
