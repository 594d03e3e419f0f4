"""The static check: every field an operation selects and every input field it
writes, against the caller's decisions, before any resolver runs.

Fragments and inline fragments are expanded, so an alias or a field hidden in
a fragment is checked like any other. Paths use response keys (aliases).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql.type.definition import GraphQLInputType

# Connection, edge, page-info and payload types only carry what the fields
# around them return; their own fields need no decision.
STRUCTURAL_SUFFIXES = ("Connection", "Edge", "Payload")
STRUCTURAL_TYPES = frozenset({"PageInfo"})
MAX_VISITED_FIELDS = 20_000


def is_structural(type_name: str) -> bool:
    return type_name in STRUCTURAL_TYPES or type_name.endswith(STRUCTURAL_SUFFIXES)


@dataclass(frozen=True)
class Denial:
    path: str
    coordinate: str
    action: str


# (coordinate, action, type name of the parent) -> allowed?
Checker = Callable[[str, str, str], bool]


class OperationTooComplex(Exception):
    """The operation expands to more fields than any legitimate client selects."""


def denied_fields(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    allowed: Checker,
) -> list[Denial]:
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    assert root is not None
    walker = _Walker(schema, fragments, variables, allowed)
    walker.selection_set(operation.selection_set, root, ())
    return walker.denials


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        allowed: Checker,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.allowed = allowed
        self.denials: list[Denial] = []
        self.visited = 0

    def _deny(self, path: tuple[str, ...], coordinate: str, action: str) -> None:
        self.denials.append(Denial(".".join(path), coordinate, action))

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, path: tuple[str, ...]
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, path)
            elif isinstance(selection, InlineFragmentNode):
                condition = parent
                if selection.type_condition is not None:
                    condition = self.schema.get_type(selection.type_condition.name.value) or parent
                self.selection_set(selection.selection_set, condition, path)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition = self.schema.get_type(fragment.type_condition.name.value) or parent
                self.selection_set(fragment.selection_set, condition, path)

    def field(self, node: FieldNode, parent: GraphQLNamedType, path: tuple[str, ...]) -> None:
        self.visited += 1
        if self.visited > MAX_VISITED_FIELDS:
            raise OperationTooComplex
        name = node.name.value
        if name.startswith("__"):
            # Meta fields: the kernel decides (``__typename`` always, introspection per caller).
            if isinstance(parent, GraphQLNamedType) and not self.allowed(
                f"{parent.name}.{name}", "read", parent.name
            ):
                self._deny((*path, node.alias.value if node.alias else name), name, "read")
            return
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return
        definition = parent.fields.get(name)
        if definition is None:
            return
        key = node.alias.value if node.alias else name
        here = (*path, key)
        is_mutation = parent is self.schema.mutation_type
        action = "write" if is_mutation else "read"
        coordinate = f"{parent.name}.{name}"
        if not is_structural(parent.name) and not self.allowed(coordinate, action, parent.name):
            self._deny(here, coordinate, action)
        if is_mutation:
            for argument in node.arguments or ():
                arg_def = definition.args.get(argument.name.value)
                if arg_def is not None:
                    self.input_value(argument.value, arg_def.type, (*here, argument.name.value))
        if node.selection_set is not None:
            self.selection_set(node.selection_set, get_named_type(definition.type), here)

    def input_value(self, value: ValueNode, type_: GraphQLInputType, path: tuple[str, ...]) -> None:
        if isinstance(value, VariableNode):
            self.input_data(self.variables.get(value.name.value), type_, path)
            return
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(value, ListValueNode) and isinstance(inner, GraphQLList):
            for item in value.values:
                self.input_value(item, inner.of_type, path)
        elif isinstance(value, ObjectValueNode) and isinstance(inner, GraphQLInputObjectType):
            for field in value.fields:
                child = self._input_field(inner, field.name.value, path)
                if child is not None:
                    self.input_value(field.value, *child)

    def input_data(self, data: Any, type_: GraphQLInputType, path: tuple[str, ...]) -> None:
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(inner, GraphQLList) and isinstance(data, list):
            for item in data:
                self.input_data(item, inner.of_type, path)
        elif isinstance(inner, GraphQLInputObjectType) and isinstance(data, dict):
            for name, item in data.items():
                child = self._input_field(inner, name, path)
                if child is not None:
                    self.input_data(item, *child)

    def _input_field(
        self, input_type: GraphQLInputObjectType, name: str, path: tuple[str, ...]
    ) -> tuple[GraphQLInputType, tuple[str, ...]] | None:
        """Check one provided input field; return its type and path to descend into."""
        definition = input_type.fields.get(name)
        if definition is None:
            return None
        coordinate = f"{input_type.name}.{name}"
        here = (*path, name)
        if not self.allowed(coordinate, "write", input_type.name):
            self._deny(here, coordinate, "write")
        return definition.type, here


def iter_output_coordinates(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    """Every (type, field) of the schema's object and interface types that needs a decision."""
    for type_name, named in sorted(schema.type_map.items()):
        if type_name.startswith("__") or is_structural(type_name):
            continue
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name in named.fields:
                yield type_name, field_name


def iter_input_coordinates(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    for type_name, named in sorted(schema.type_map.items()):
        if isinstance(named, GraphQLInputObjectType) and not type_name.startswith("__"):
            for field_name in named.fields:
                yield type_name, field_name
