"""Every door is declared and decided by the kernel: routes, root queries, root mutations.

A new Starlette route fails here until it is declared in ``authz/doors.py``; a
new root field fails until the policy classifies it for every role, and each
root field is called as every role to show the kernel's answer is the one given.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from starlette.routing import Mount, Route

from authz.decisions import PLATFORM_DOMAIN, Authorizer
from authz.doors import DOORS, NO_DATA, OPERATION, PAGE_SHELL
from basics.settings import Settings
from pages.routes import DOORS as PAGE_DOORS
from schema.build import build_schema
from server.app import create_app
from tests.conftest import TEST_SECRET, Backend
from tests.fixtures import World
from tests.graphql_client import gql

SCHEMA = build_schema(Settings(secret_key="x" * 40))._schema
AUTHORIZER = Authorizer()
SCALARS = {
    "ID": '"x"',
    "String": '"x"',
    "Int": "1",
    "Float": "1.0",
    "Boolean": "false",
    "DateTime": '"2030-01-07T09:00:00+00:00"',
    "Date": '"2030-01-07"',
    "JSON": "{}",
}


def _served(app: Any) -> set[tuple[str, frozenset[str]]]:
    served = set()
    for route in app.routes:
        if isinstance(route, Route):
            served.add((route.path, frozenset(route.methods or ()) - {"HEAD"}))
        elif isinstance(route, Mount):
            served.add((route.path, frozenset({"GET"})))  # static files: read-only
        else:
            raise AssertionError(f"a route of an unknown kind needs a door: {route!r}")
    return served


def test_every_route_is_a_declared_door(backend: Backend) -> None:
    app = create_app(
        Settings(database_url=backend.url, secret_key=TEST_SECRET), engine=backend.engine
    )
    served = _served(app)
    declared = {(door.path, door.methods) for door in DOORS}
    assert served == declared, (served - declared, declared - served)
    for door in DOORS:
        if door.decided_as not in (OPERATION, NO_DATA, PAGE_SHELL):
            type_name, field_name = door.decided_as.split(".")
            named = SCHEMA.type_map[type_name]
            assert isinstance(named, GraphQLObjectType) and field_name in named.fields
    # The pages declare themselves as shells too: both registries agree.
    shells = {door.path for door in DOORS if door.decided_as in (PAGE_SHELL, NO_DATA)}
    assert set(PAGE_DOORS) <= shells


def _allowed(role: str, coordinate: str, action: str) -> bool:
    return AUTHORIZER.decisions(frozenset({role}), PLATFORM_DOMAIN).allows(
        coordinate, action, "public"
    )


def _literal(type_: GraphQLInputType) -> str | None:
    """A syntactically valid value for a required argument; None if none can be written."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        return "[]"
    if isinstance(inner, GraphQLEnumType):
        return str(next(iter(inner.values)))
    if isinstance(inner, GraphQLScalarType):
        return SCALARS.get(inner.name)
    assert isinstance(inner, GraphQLInputObjectType)
    parts = []
    for name, field in inner.fields.items():
        if isinstance(field.type, GraphQLNonNull):
            value = _literal(field.type)
            if value is None:
                return None
            parts.append(f"{name}: {value}")
    return "{" + ", ".join(parts) + "}"


def _operation(root: str, name: str, field: GraphQLField) -> str | None:
    arguments = []
    for arg_name, arg in field.args.items():
        if isinstance(arg.type, GraphQLNonNull):
            value = _literal(arg.type)
            if value is None:
                return None
            arguments.append(f"{arg_name}: {value}")
    args = f"({', '.join(arguments)})" if arguments else ""
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    keyword = "mutation" if root == "Mutation" else "query"
    return f"{keyword} {{ {name}{args}{selection} }}"


def _callers(world: World) -> dict[str, str | None]:
    return {
        "tenant_admin": world.a.tokens["tenant_admin"],
        "staff": world.a.tokens["staff"],
        "inspector": world.a.tokens["inspector"],
        "partner_accounting": world.a.api_keys["partner_accounting"],
        "partner_reminders": world.a.api_keys["partner_reminders"],
        "subject": world.subject_tokens["anna"],
        "platform_admin": world.platform_token,
        "anonymous": None,
    }


@pytest.mark.parametrize("root", ["Query", "Mutation"])
async def test_every_root_field_answers_as_the_kernel_decides(
    client: httpx.AsyncClient, world: World, root: str
) -> None:
    """Denied root fields are FORBIDDEN for every role; allowed queries are never FORBIDDEN.

    Allowed mutations are not run here (they would write); their own tests run them.
    """
    fields = SCHEMA.mutation_type if root == "Mutation" else SCHEMA.query_type
    assert fields is not None
    action = "write" if root == "Mutation" else "read"
    unwritable, wrong = [], []
    for name, field in fields.fields.items():
        operation = _operation(root, name, field)
        if operation is None:
            unwritable.append(name)
            continue
        for role, token in _callers(world).items():
            allowed = _allowed(role, f"{root}.{name}", action)
            if allowed and root == "Mutation":
                continue
            result = await gql(client, operation, token=token)
            forbidden = "FORBIDDEN" in result.codes and result.data is None
            if forbidden == allowed:
                wrong.append((role, name, result.codes))
    assert not wrong
    # Only a file upload cannot be written inline; its mutation is covered by its own tests.
    assert unwritable in ([], ["addDocument"])
