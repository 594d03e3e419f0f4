"""A read operation's selection as a plan: what each compilable root field needs.

Planning depends only on the document and the caller's decisions, so plans
are cached per (document, operation, role set, policy version); arguments
stay unevaluated (``ArgumentNode``s) and are bound per request. A root field
is planned only when every field below it is covered by ``catalog`` and
allowed whatever the row's relation; anything else (a directive, an
uncovered field, a denied one, an interface) leaves it to the executor.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)

from resolvers.compiled.access import Access
from resolvers.compiled.catalog import (
    CONNECTION_FIELDS,
    EDGE_FIELDS,
    PAGE_INFO_FIELDS,
    TYPES,
)

# Root field -> (GraphQL type of its rows, connection or lookup by id).
ROOT_FIELDS: dict[str, tuple[str, bool]] = {
    "bookings": ("Booking", True),
    "customers": ("Customer", True),
    "vehicles": ("Vehicle", True),
    "documents": ("Document", True),
    "booking": ("Booking", False),
    "customer": ("Customer", False),
    "vehicle": ("Vehicle", False),
    "document": ("Document", False),
}
NODE_INTERFACE = "Node"
STATEMENTS_PER_PLAN = 64


class NotCovered(Exception):
    """The compiled path does not cover this selection: the executor answers it."""


@dataclass
class FieldPlan:
    key: str
    name: str
    # "typename", "id", "download", "column", "one", "many"
    kind: str
    column: str | None = None
    convert: str | None = None
    child: ObjectPlan | None = None
    # A nested list's field node and definition, for its arguments.
    node: FieldNode | None = None
    definition: GraphQLField | None = None


@dataclass
class ObjectPlan:
    type_name: str
    fields: list[FieldPlan] = field(default_factory=list)
    # Position in ``RootPlan.objects``: the statement tags each object it
    # builds with it, so the answer's text names which plan each row is for.
    index: int = -1

    def walk(self) -> Iterator[ObjectPlan]:
        """This object and every object nested below it, parents first."""
        yield self
        for f in self.fields:
            if f.child is not None:
                yield from f.child.walk()


@dataclass
class WrapperField:
    """A field of a connection (``edges``, ``pageInfo``, ...) with its own sub-fields."""

    key: str
    name: str
    type_name: str
    fields: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RootPlan:
    key: str
    name: str
    type_name: str
    connection: bool
    node: ObjectPlan
    field_node: FieldNode
    definition: GraphQLField
    connection_type: str = ""
    wrappers: list[WrapperField] = field(default_factory=list)
    # Every object plan below this root, by ``ObjectPlan.index``.
    objects: list[ObjectPlan] = field(default_factory=list)
    # Built statements by (caller's scope, variables): building one costs more
    # than running it, and a client repeats the same request often.
    statements: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)
    # Whether an edge asks for its cursor: if not, only the page's first and
    # last cursors are made (for ``pageInfo``), not one per row.
    edge_cursors: bool = False

    def __post_init__(self) -> None:
        self.objects = list(self.node.walk())
        for index, plan in enumerate(self.objects):
            plan.index = index
        self.edge_cursors = any(
            name == "cursor"
            for wrapper in self.wrappers
            if wrapper.name == "edges"
            for _key, name in wrapper.fields
        )

    def remember(self, key: Hashable, statement: Any) -> None:
        self.statements[key] = statement
        while len(self.statements) > STATEMENTS_PER_PLAN:
            self.statements.popitem(last=False)


@dataclass
class OperationPlan:
    """The compiled root fields by response key; the rest go to the executor."""

    roots: dict[str, RootPlan]
    order: list[str]


def plan_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    access: Access,
) -> OperationPlan:
    planner = _Planner(schema, fragments, access)
    selections = operation.selection_set.selections
    if any(not isinstance(s, FieldNode) or s.directives for s in selections):
        return OperationPlan({}, [])
    grouped = planner.collect([operation.selection_set], "Query")
    roots: dict[str, RootPlan] = {}
    for key, nodes in grouped.items():
        try:
            roots[key] = planner.root(key, nodes)
        except NotCovered:
            continue
    return OperationPlan(roots, list(grouped))


class _Planner:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        access: Access,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.access = access

    def collect(
        self, selection_sets: Iterable[SelectionSetNode | None], type_name: str
    ) -> dict[str, list[FieldNode]]:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            if selection_set is not None:
                self._collect_into(grouped, selection_set, type_name, 0)
        return grouped

    def _collect_into(
        self,
        grouped: dict[str, list[FieldNode]],
        selection_set: SelectionSetNode,
        type_name: str,
        depth: int,
    ) -> None:
        if depth > 10:
            raise NotCovered
        for selection in selection_set.selections:
            if selection.directives:
                raise NotCovered
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None or fragment.directives:
                    raise NotCovered
                condition = fragment.type_condition
                inner = fragment.selection_set
            else:
                raise NotCovered
            if condition is not None and not self._applies(condition.name.value, type_name):
                continue
            self._collect_into(grouped, inner, type_name, depth + 1)

    def _applies(self, condition: str, type_name: str) -> bool:
        """Whether a fragment on ``condition`` applies to an object of ``type_name``."""
        if condition == type_name or (condition == NODE_INTERFACE and type_name in TYPES):
            return True
        if isinstance(self.schema.get_type(condition), GraphQLObjectType):
            return False  # another object type: never this one
        raise NotCovered

    def root(self, key: str, nodes: list[FieldNode]) -> RootPlan:
        name = nodes[0].name.value
        if len(nodes) != 1 or name not in ROOT_FIELDS or not self.access.may_query(name):
            raise NotCovered
        type_name, connection = ROOT_FIELDS[name]
        node = nodes[0]
        query_type = self.schema.query_type
        assert query_type is not None
        definition = query_type.fields[name]
        if not connection:
            plan = self.object(type_name, [node])
            return RootPlan(key, name, type_name, False, plan, node, definition)
        connection_type = self._field_type("Query", name)
        wrappers: list[WrapperField] = []
        rows: list[FieldNode] = []
        for wrap_key, wrap_nodes in self.collect([node.selection_set], connection_type).items():
            wrap_name = wrap_nodes[0].name.value
            if wrap_name not in CONNECTION_FIELDS:
                raise NotCovered
            wrapper = WrapperField(wrap_key, wrap_name, "")
            wrappers.append(wrapper)
            if wrap_name in ("__typename", "totalCount"):
                continue
            allowed = EDGE_FIELDS if wrap_name == "edges" else PAGE_INFO_FIELDS
            wrapper.type_name = self._field_type(connection_type, wrap_name)
            sub = self.collect([n.selection_set for n in wrap_nodes], wrapper.type_name)
            for sub_key, sub_nodes in sub.items():
                sub_name = sub_nodes[0].name.value
                if sub_name not in allowed:
                    raise NotCovered
                if sub_name == "node":
                    rows.extend(sub_nodes)
                wrapper.fields.append((sub_key, sub_name))
        plan = self.object(type_name, rows)
        return RootPlan(
            key, name, type_name, True, plan, node, definition, connection_type, wrappers
        )

    def _field_type(self, parent: str, field_name: str) -> str:
        owner = self.schema.get_type(parent)
        if not isinstance(owner, GraphQLObjectType) or field_name not in owner.fields:
            raise NotCovered
        return str(get_named_type(owner.fields[field_name].type).name)

    def object(self, type_name: str, nodes: list[FieldNode]) -> ObjectPlan:
        spec = TYPES.get(type_name)
        if spec is None:
            raise NotCovered
        plan = ObjectPlan(type_name)
        for key, field_nodes in self.collect([n.selection_set for n in nodes], type_name).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                plan.fields.append(FieldPlan(key, name, "typename"))
                continue
            if not self.access.may_read_everywhere(type_name, name):
                raise NotCovered
            if name == "id":
                plan.fields.append(FieldPlan(key, name, "id"))
            elif name in spec.computed:
                plan.fields.append(FieldPlan(key, name, "download"))
            elif name in spec.columns:
                column = spec.columns[name]
                plan.fields.append(FieldPlan(key, name, "column", column.key, column.kind))
            elif name in spec.relations:
                relation = spec.relations[name]
                child = self.object(relation.target, field_nodes)
                owner = self.schema.get_type(type_name)
                assert isinstance(owner, GraphQLObjectType)
                kind = "many" if relation.many else "one"
                plan.fields.append(
                    FieldPlan(
                        key,
                        name,
                        kind,
                        child=child,
                        node=field_nodes[0],
                        definition=owner.fields[name],
                    )
                )
            else:
                raise NotCovered
        return plan
