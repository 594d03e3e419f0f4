"""An exception that escapes an extension's own hook still reaches the client masked.

Such an exception ends the operation before ``ErrorCodes`` sees the result,
and Strawberry would send its message as it is (a driver's connection error
named the database's address). The HTTP view masks every error that arrives
without a code.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import strawberry
from starlette.routing import Route
from strawberry.extensions import SchemaExtension

from server.app import create_app
from server.caller import Authenticated
from server.graphql_view import GraphQLEndpoint
from tests.conftest import Backend
from tests.fixtures import World

SECRET_DETAIL = "connect call failed ('10.0.0.7', 5432)"


class FailingHook(SchemaExtension):
    """An extension whose hook fails, as a lost connection made the compiled path's do."""

    def on_execute(self) -> Iterator[None]:
        raise RuntimeError(SECRET_DETAIL)
        yield  # pragma: no cover


def _schema_of(app: object) -> strawberry.Schema:
    for route in app.routes:  # type: ignore[attr-defined]
        endpoint = getattr(route, "endpoint", None)
        if isinstance(route, Route) and isinstance(endpoint, Authenticated):
            inner = endpoint.app
            if isinstance(inner, GraphQLEndpoint):
                schema = inner.graphql.schema
                assert isinstance(schema, strawberry.Schema)
                return schema
    raise AssertionError("no /graphql route")


async def test_an_error_from_an_extension_hook_is_masked(backend: Backend, world: World) -> None:
    app = create_app(backend.settings, engine=backend.engine)
    _schema_of(app).extensions = (*_schema_of(app).extensions, FailingHook)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ bookings(first: 1) { edges { node { id } } } }"},
            headers={"Authorization": f"Bearer {world.a.tokens['staff']}"},
        )
    assert SECRET_DETAIL not in response.text and "10.0.0.7" not in response.text
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["INTERNAL_SERVER_ERROR"]
    assert errors[0]["message"] == "Internal server error"
    assert errors[0]["extensions"]["requestId"]
