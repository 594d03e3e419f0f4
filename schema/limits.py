"""Limits on the document, checked after parsing and before validation.

Depth, aliases, directives (known or not) and the estimated cost are checked
before validation, so a document built to overload the validator (hundreds of
unknown directives, say) is refused with one error instead of one per fault;
tokens are counted by Strawberry's parser limit, earlier still. The cost
estimate is the number of rows an operation may touch: each list multiplies
what is below it by its page size (``first``; without it, the default page size
for a connection and a typical fan-out for a nested list), summed over every
path. An operation above the limit is refused before any resolver runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)
from strawberry.extensions import SchemaExtension

from basics.errors import BadUserInput
from schema.document_shape import alias_count, fragments_of, operation_depth

CONNECTION_SUFFIX = "Connection"
# Expected rows of a nested list whose size the client did not give: a customer
# has a handful of vehicles and bookings, not the 50 a page may hold.
NESTED_LIST_ESTIMATE = 5


def _is_list(type_: GraphQLOutputType) -> bool:
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return isinstance(inner, GraphQLList)


class _DirectiveCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, _node: DirectiveNode, *_args: Any) -> None:
        self.count += 1


class CostEstimator:
    def __init__(
        self,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        default_page: int,
        schema: Any,
    ) -> None:
        self.fragments = fragments
        self.variables = variables
        self.default_page = default_page
        self.schema = schema

    def _page(self, node: FieldNode, default: int) -> int:
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int):
                    return given
        return default

    def selection_cost(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        seen: frozenset[str] = frozenset(),
    ) -> int:
        """Rows below ``selection_set``; a fragment is followed once per path (cycles)."""
        total = 0
        for selection in self._fields(selection_set, parent, seen):
            node, owner, path = selection
            if not isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
                continue
            definition = owner.fields.get(node.name.value)
            if definition is None or node.selection_set is None:
                continue
            named = get_named_type(definition.type)
            multiplier = 1
            # A connection multiplies by its page size; its edges list adds nothing more.
            inside_connection = owner.name.endswith(CONNECTION_SUFFIX)
            if named.name.endswith(CONNECTION_SUFFIX):
                multiplier = max(self._page(node, self.default_page), 1)
            elif _is_list(definition.type) and not inside_connection:
                multiplier = max(self._page(node, NESTED_LIST_ESTIMATE), 1)
            total += multiplier * (1 + self.selection_cost(node.selection_set, named, path))
        return total

    def _fields(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, seen: frozenset[str]
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType, frozenset[str]]]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent, seen
            elif isinstance(selection, InlineFragmentNode):
                condition = parent
                if selection.type_condition is not None:
                    condition = self.schema.get_type(selection.type_condition.name.value) or parent
                yield from self._fields(selection.selection_set, condition, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    condition = self.schema.get_type(fragment.type_condition.name.value) or parent
                    yield from self._fields(fragment.selection_set, condition, seen | {name})


def _with_defaults(document: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The variables as execution will see them: a page size left out takes its default."""
    merged = dict(given)
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for variable in definition.variable_definitions or ():
            name = variable.variable.name.value
            if name not in merged and isinstance(variable.default_value, IntValueNode):
                merged[name] = int(variable.default_value.value)
    return merged


class OperationLimits(SchemaExtension):
    def __init__(
        self,
        *,
        max_cost: int,
        max_directives: int,
        default_page: int,
        max_depth: int,
        max_aliases: int,
    ) -> None:
        super().__init__()
        self.max_cost = max_cost
        self.max_directives = max_directives
        self.default_page = default_page
        self.max_depth = max_depth
        self.max_aliases = max_aliases

    def on_validate(self) -> Iterator[None]:
        """A refusal here stands in for validation's errors: validation is skipped."""
        if self.execution_context.pre_execution_errors is None:
            error = self._check()
            if error is not None:
                self.execution_context.pre_execution_errors = [error]
        yield

    def _check(self) -> BadUserInput | None:
        document = self.execution_context.graphql_document
        if document is None:
            return None
        depth = operation_depth(document, self.max_depth)
        if depth > self.max_depth:
            return BadUserInput(
                "query", f"is nested more than {self.max_depth} levels deep (maximum depth)"
            )
        aliases = alias_count(document)
        if aliases > self.max_aliases:
            return BadUserInput("query", f"uses {aliases} aliases; the limit is {self.max_aliases}")
        counter = _DirectiveCounter()
        visit(document, counter)
        if counter.count > self.max_directives:
            return BadUserInput(
                "query", f"uses {counter.count} directives; the limit is {self.max_directives}"
            )
        fragments = fragments_of(document)
        schema = self.execution_context.schema._schema
        variables = _with_defaults(document, dict(self.execution_context.variables or {}))
        estimator = CostEstimator(fragments, variables, self.default_page, schema)
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            root = schema.get_root_type(definition.operation)
            if root is None:
                continue
            cost = estimator.selection_cost(definition.selection_set, root)
            if cost > self.max_cost:
                return BadUserInput(
                    "query",
                    f"may touch about {cost} rows; the limit is {self.max_cost} "
                    "(ask for smaller pages or fewer nested lists)",
                )
        return None
