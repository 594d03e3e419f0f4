"""Each principal its own schema: the types, fields, arguments and mutations its roles may use.

Introspection (``__schema``, ``__type``) answers from a copy of the schema
pruned by the same decisions the static check makes, so a partner's developer
discovers exactly what the key may read and nothing of the rest. The copy is
built once per decision set, that is per (policy version, role set, tenant),
and kept on it; a grant or revocation starts a new decision set and so a new copy.
Only introspection uses the copy; operations still execute on the full schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    Undefined,
    get_named_type,
)

from authz.decisions import READ, WRITE, Decisions
from authz.kernel import may_select
from authz.operation_check import is_structural
from basics.principal import ROOT_RELATION, Principal

Composite = GraphQLObjectType | GraphQLInterfaceType
Keep = Callable[[str, str], bool]


def _write_inputs(schema: GraphQLSchema) -> set[str]:
    """Input types reachable from mutation arguments: their fields need a write decision."""
    found: set[str] = set()
    pending = [
        get_named_type(arg.type)
        for field in (schema.mutation_type.fields.values() if schema.mutation_type else ())
        for arg in field.args.values()
    ]
    while pending:
        named = pending.pop()
        if isinstance(named, GraphQLInputObjectType) and named.name not in found:
            found.add(named.name)
            pending.extend(get_named_type(f.type) for f in named.fields.values())
    return found


def _allowed_fields(
    schema: GraphQLSchema, principal: Principal, decisions: Decisions
) -> dict[str, set[str]]:
    """Per composite or input type, the field names the caller may use (before pruning)."""
    write_inputs = _write_inputs(schema)
    allowed: dict[str, set[str]] = {}
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            action = WRITE if named is schema.mutation_type else READ
            allowed[name] = {
                field
                for field in named.fields
                if is_structural(name)
                or may_select(principal, decisions, f"{name}.{field}", action, name)
            }
        elif isinstance(named, GraphQLInputObjectType):
            allowed[name] = {
                field
                for field in named.fields
                if name not in write_inputs
                or decisions.allows(f"{name}.{field}", WRITE, ROOT_RELATION)
            }
    return allowed


def _required(arg: GraphQLArgument | GraphQLInputField) -> bool:
    return isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined


def _prune(schema: GraphQLSchema, allowed: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop fields whose type is gone or whose required input is gone, until nothing changes."""
    changed = True
    while changed:
        changed = False
        present = {name for name, fields in allowed.items() if fields}
        for name, fields in allowed.items():
            named = schema.type_map[name]
            assert isinstance(
                named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
            )
            for field_name in list(fields):
                if not _field_survives(named, field_name, present):
                    fields.discard(field_name)
                    changed = True
    return allowed


def _field_survives(named: GraphQLNamedType, field_name: str, present: set[str]) -> bool:
    field = named.fields[field_name]  # type: ignore[attr-defined]
    if not _type_present(field.type, present):
        return False
    for arg in getattr(field, "args", {}).values():
        if _required(arg) and not _type_present(arg.type, present):
            return False
    return True


def _type_present(type_: GraphQLType, present: set[str]) -> bool:
    inner = get_named_type(type_)
    if isinstance(inner, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        return inner.name in present
    return True


def _with(kwargs: Any, **overrides: Any) -> dict[str, Any]:
    """A type's or field's constructor arguments with some replaced."""
    merged: dict[str, Any] = dict(kwargs)
    merged.update(overrides)
    return merged


class _Copier:
    """Builds the pruned types, each named type once, with references resolved lazily."""

    def __init__(self, schema: GraphQLSchema, keep: dict[str, set[str]]) -> None:
        self.schema = schema
        self.keep = keep
        self.built: dict[str, GraphQLNamedType] = {}

    def present(self, name: str) -> bool:
        return bool(self.keep.get(name, True)) and name in self.schema.type_map

    def wrap(self, type_: GraphQLType) -> Any:
        if isinstance(type_, GraphQLNonNull):
            return GraphQLNonNull(self.wrap(type_.of_type))
        if isinstance(type_, GraphQLList):
            return GraphQLList(self.wrap(type_.of_type))
        assert isinstance(type_, GraphQLNamedType)
        return self.named(type_.name)

    def named(self, name: str) -> GraphQLNamedType:
        found = self.built.get(name)
        if found is not None:
            return found
        original = self.schema.type_map[name]
        copy: GraphQLNamedType
        if isinstance(original, GraphQLObjectType | GraphQLInterfaceType):
            composite = original
            kwargs = _with(
                composite.to_kwargs(),
                fields=lambda: self._fields(composite),
                interfaces=lambda: self._interfaces(composite),
            )
            copy = (
                GraphQLObjectType(**kwargs)
                if isinstance(original, GraphQLObjectType)
                else GraphQLInterfaceType(**kwargs)
            )
        elif isinstance(original, GraphQLInputObjectType):
            inputs = original
            copy = GraphQLInputObjectType(
                **_with(inputs.to_kwargs(), fields=lambda: self._input_fields(inputs))
            )
        else:
            copy = original  # scalars and enums carry no decision
        self.built[name] = copy
        return copy

    def _interfaces(self, original: Composite) -> list[GraphQLInterfaceType]:
        kept = [i for i in original.interfaces if self.present(i.name)]
        return [self.named(i.name) for i in kept]  # type: ignore[misc]

    def _fields(self, original: Composite) -> dict[str, GraphQLField]:
        return {
            name: GraphQLField(
                **_with(
                    field.to_kwargs(),
                    type_=self.wrap(field.type),
                    args={
                        arg_name: GraphQLArgument(
                            **_with(arg.to_kwargs(), type_=self.wrap(arg.type))
                        )
                        for arg_name, arg in field.args.items()
                        if _type_present(arg.type, self._present_names())
                    },
                )
            )
            for name, field in original.fields.items()
            if name in self.keep[original.name]
        }

    def _input_fields(self, original: GraphQLInputObjectType) -> dict[str, GraphQLInputField]:
        return {
            name: GraphQLInputField(**_with(field.to_kwargs(), type_=self.wrap(field.type)))
            for name, field in original.fields.items()
            if name in self.keep[original.name]
        }

    def _present_names(self) -> set[str]:
        return {name for name, fields in self.keep.items() if fields}


def _implementations(schema: GraphQLSchema, keep: dict[str, set[str]]) -> Iterator[str]:
    """Object types that implement an interface and survive: reachable through ``node``."""
    for name, named in schema.type_map.items():
        if isinstance(named, GraphQLObjectType) and named.interfaces and keep.get(name):
            yield name


def build_visible_schema(
    schema: GraphQLSchema, principal: Principal, decisions: Decisions
) -> GraphQLSchema:
    keep = _prune(schema, _allowed_fields(schema, principal, decisions))
    copier = _Copier(schema, keep)
    query = copier.named("Query")
    mutation_type = schema.mutation_type
    mutation = (
        copier.named(mutation_type.name)
        if mutation_type is not None and keep.get(mutation_type.name)
        else None
    )
    assert isinstance(query, GraphQLObjectType)
    assert mutation is None or isinstance(mutation, GraphQLObjectType)
    return GraphQLSchema(
        query=query,
        mutation=mutation,
        types=[copier.named(name) for name in _implementations(schema, keep)],
        directives=schema.directives,
        description=schema.description,
    )


def visible_schema(
    schema: GraphQLSchema, principal: Principal, decisions: Decisions
) -> GraphQLSchema:
    """The caller's own schema, built once per decision set."""
    views: dict[int, Any] = decisions.views
    found = views.get(id(schema))
    if found is None:
        found = build_visible_schema(schema, principal, decisions)
        views[id(schema)] = found
    return found


def _coordinates(schema: GraphQLSchema, *, inputs: bool) -> list[str]:
    found: list[str] = []
    for name, named in sorted(schema.type_map.items()):
        if name.startswith("__") or is_structural(name):
            continue
        kinds = (GraphQLInputObjectType,) if inputs else (GraphQLObjectType, GraphQLInterfaceType)
        if isinstance(named, kinds):
            found.extend(f"{name}.{field}" for field in named.fields)
    return found


def permissions(
    schema: GraphQLSchema,
    principal: Principal,
    decisions: Decisions,
    ceiling: Iterable[tuple[str, str]],
) -> tuple[list[str], list[str], list[str]]:
    """(read, write, grantable): the coordinates the caller's own schema holds.

    ``read``: every output field it may select (root fields included);
    ``write``: every mutation it may run and input field it may set;
    ``grantable``: for a partner key, fields it may not read yet that its
    tenant could grant it, within the platform ceiling (``ceiling``: the
    platform's (role, field) grant lines, ``authz.grants.grantable_fields``).
    """
    visible = visible_schema(schema, principal, decisions)
    mutation = visible.mutation_type.name if visible.mutation_type else None
    outputs = _coordinates(visible, inputs=False)
    read = [c for c in outputs if mutation is None or not c.startswith(f"{mutation}.")]
    write = [c for c in outputs if c not in read]
    write += [
        c
        for c in _coordinates(visible, inputs=True)
        if c.split(".", 1)[0] in _write_inputs(visible)
    ]
    grantable: list[str] = []
    if principal.api_key_id is not None:
        offered = {field for role, field in ceiling if role in principal.roles}
        grantable = sorted(offered - set(read))
    return read, sorted(write), grantable
