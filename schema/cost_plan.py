"""The cost estimate of a document, worked out once and finished per request.

The estimate is the number of rows an operation may touch: each list multiplies
what is below it by its page size (``first``; without it, the default page size
for a connection and a typical fan-out for a nested list), summed over every
path. Everything but a page size given as a variable depends on the document
alone, so the walk over the document (with its schema lookups and fragment
expansion) happens once; what is left for each request is arithmetic over the
few multipliers that name a variable. A document without such a multiplier
folds to a single number.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from schema.document_shape import fragments_of

CONNECTION_SUFFIX = "Connection"
# Expected rows of a nested list whose size the client did not give: a customer
# has a handful of vehicles and bookings, not the 50 a page may hold.
NESTED_LIST_ESTIMATE = 5


@dataclass(frozen=True)
class Page:
    """A page size that depends on the variables.

    ``variables`` are the ``first`` arguments written as variables, in the
    order they appear, up to the first literal one; the first that holds an
    integer wins, else ``fallback`` (that literal, or the default).
    """

    variables: tuple[str, ...]
    fallback: int

    def size(self, values: Mapping[str, Any]) -> int:
        for name in self.variables:
            given = values.get(name)
            if isinstance(given, int):
                return max(given, 1)
        return max(self.fallback, 1)


@dataclass(frozen=True)
class Term:
    """``multiplier * (1 + below)``, where either part may depend on the variables."""

    multiplier: int | Page
    below: Cost


# A cost is a known number, or a constant plus terms that need the variables.
Cost = int | tuple[int, tuple[Term, ...]]


def evaluate(cost: Cost, values: Mapping[str, Any]) -> int:
    """The estimate for these variable values (no document walk)."""
    if isinstance(cost, int):
        return cost
    constant, terms = cost
    total = constant
    for term in terms:
        multiplier = term.multiplier
        factor = multiplier if isinstance(multiplier, int) else multiplier.size(values)
        total += factor * (1 + evaluate(term.below, values))
    return total


def _is_list(type_: GraphQLOutputType) -> bool:
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return isinstance(inner, GraphQLList)


def _page(node: FieldNode, default: int) -> int | Page:
    """The page size written on ``node``: a number, or what the variables will say."""
    variables: list[str] = []
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            literal = int(value.value)
            return Page(tuple(variables), literal) if variables else max(literal, 1)
        if isinstance(value, VariableNode):
            variables.append(value.name.value)
    return Page(tuple(variables), default) if variables else max(default, 1)


class CostPlanner:
    """Builds the :data:`Cost` of each operation of one document."""

    def __init__(
        self,
        fragments: dict[str, FragmentDefinitionNode],
        default_page: int,
        schema: GraphQLSchema,
    ) -> None:
        self.fragments = fragments
        self.default_page = default_page
        self.schema = schema

    def selection_cost(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        seen: frozenset[str] = frozenset(),
    ) -> Cost:
        """Rows below ``selection_set``; a fragment is followed once per path (cycles)."""
        constant = 0
        terms: list[Term] = []
        for node, owner, path in self._fields(selection_set, parent, seen):
            if not isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
                continue
            definition = owner.fields.get(node.name.value)
            if definition is None or node.selection_set is None:
                continue
            named = get_named_type(definition.type)
            multiplier: int | Page = 1
            # A connection multiplies by its page size; its edges list adds nothing more.
            inside_connection = owner.name.endswith(CONNECTION_SUFFIX)
            if named.name.endswith(CONNECTION_SUFFIX):
                multiplier = _page(node, self.default_page)
            elif _is_list(definition.type) and not inside_connection:
                multiplier = _page(node, NESTED_LIST_ESTIMATE)
            below = self.selection_cost(node.selection_set, named, path)
            if isinstance(multiplier, int) and isinstance(below, int):
                constant += multiplier * (1 + below)
            else:
                terms.append(Term(multiplier, below))
        return (constant, tuple(terms)) if terms else constant

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


def operation_costs(
    document: DocumentNode, schema: GraphQLSchema, default_page: int
) -> tuple[Cost, ...]:
    """The cost of every operation in the document, in document order."""
    planner = CostPlanner(fragments_of(document), default_page, schema)
    costs: list[Cost] = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        root = schema.get_root_type(definition.operation)
        if root is not None:
            costs.append(planner.selection_cost(definition.selection_set, root))
    return tuple(costs)


def int_defaults(document: DocumentNode) -> dict[str, int]:
    """Integer defaults written on variable definitions: a page size left out takes them."""
    defaults: dict[str, int] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for variable in definition.variable_definitions or ():
            name = variable.variable.name.value
            if name not in defaults and isinstance(variable.default_value, IntValueNode):
                defaults[name] = int(variable.default_value.value)
    return defaults
