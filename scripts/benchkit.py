"""Helpers shared by the benchmarks in this directory.

Both benchmarks serve the real application over httpx's ASGI transport, build
schema variants from the real schema, and need the same temporary databases,
figures and tables; they live here so the two measure the same way.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import strawberry
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.extensions import SchemaExtension
from strawberry.types.base import StrawberryObjectDefinition

from schema.build import Schema
from schema.caches import cached_static_check
from schema.guard import FieldGuard
from schema.settled_reads import settled_key
from server.caller import Authenticated
from server.graphql_view import GraphQLEndpoint, TenantGraphQL

BASE_URL = "http://bench"


def percentile(samples: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Summary:
    n: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    stdev_ms: float
    min_ms: float
    max_ms: float
    ops_per_s: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> Summary:
        mean = statistics.fmean(samples_ms)
        return cls(
            n=len(samples_ms),
            p50_ms=statistics.median(samples_ms),
            p95_ms=percentile(samples_ms, 0.95),
            mean_ms=mean,
            stdev_ms=statistics.stdev(samples_ms) if len(samples_ms) > 1 else 0.0,
            min_ms=min(samples_ms),
            max_ms=max(samples_ms),
            ops_per_s=1000.0 / mean,
        )


@dataclass(frozen=True)
class Database:
    url: str
    description: str


@asynccontextmanager
async def temporary_database(admin_url: str | None) -> AsyncIterator[Database]:
    if admin_url is None:
        with tempfile.TemporaryDirectory(prefix="tenantgraph-bench-") as directory:
            path = Path(directory) / "bench.db"
            yield Database(f"sqlite+aiosqlite:///{path}", f"sqlite (temporary file {path})")
        return
    name = f"tenantgraph_bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(admin_url).set(database=name)
        try:
            yield Database(
                url.render_as_string(hide_password=False),
                f"postgresql (temporary database {name} on {url.host}:{url.port})",
            )
        finally:
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


def graphql_view(app: Starlette) -> TenantGraphQL:
    for route in app.routes:
        if (
            isinstance(route, Route)
            and route.path == "/graphql"
            and isinstance(route.endpoint, Authenticated)
            and isinstance(route.endpoint.app, GraphQLEndpoint)
        ):
            return route.endpoint.app.graphql
    raise RuntimeError("the app has no /graphql route served by GraphQLEndpoint")


def application_schema(app: Starlette) -> strawberry.Schema:
    schema = graphql_view(app).schema
    assert isinstance(schema, strawberry.Schema)
    return schema


def schema_variant(
    schema: strawberry.Schema, replacement: type[SchemaExtension] | None
) -> strawberry.Schema:
    """The application's schema, rebuilt with ``replacement`` in FieldGuard's place.

    Root types, extensions and config are taken from the real schema, and so
    are the object types (the interface implementations ``build_schema`` lists
    among them), rather than repeated here: the variant follows the
    application's schema as it changes, and differs from it only in the guard.
    """
    if schema.extensions.count(FieldGuard) != 1:
        raise RuntimeError("FieldGuard is not among the application schema's extensions")
    stand_in = NothingDenied if replacement is None else replacement
    extensions = [stand_in if e is FieldGuard else e for e in schema.extensions]
    types = []
    for graphql_type in schema._schema.type_map.values():
        definition = (getattr(graphql_type, "extensions", None) or {}).get("strawberry-definition")
        if (
            isinstance(definition, StrawberryObjectDefinition)
            and definition.origin.__module__.startswith("schema.")
            and definition.origin not in (schema.query, schema.mutation, schema.subscription)
        ):
            types.append(definition.origin)
    # The application's own schema class: the variant keeps its per-document caches.
    variant = Schema(
        query=schema.query,
        mutation=schema.mutation,
        subscription=schema.subscription,
        types=types,
        extensions=extensions,
        config=dataclasses.replace(schema.config),
    )
    # The same limits, so the variant's repeats of settled reads take the same lane.
    variant.limits = getattr(schema, "limits", None)
    return variant


class NothingDenied(SchemaExtension):
    """No field checks at all: a read's static check is on record as denying nothing.

    That is what a schema without the guard means, and it lets the unguarded
    variant settle the reads that compile whole, as the application does, so
    the two differ only by the guard.
    """

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        query = execution.query
        if query and execution.context is not None:
            key = settled_key(query, execution.operation_name, execution.context)
            cached_static_check(execution, key, list)
        yield


def client_for(app: Starlette) -> httpx.AsyncClient:
    # No lifespan: the engine is shared and disposed of by the benchmark itself.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


@dataclass(frozen=True)
class Request:
    query: str
    variables: dict[str, Any]
    token: str

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        return await client.post(
            "/graphql",
            json={"query": self.query, "variables": self.variables},
            headers={"Authorization": f"Bearer {self.token}"},
        )


def data_of(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {json.dumps(body['errors'])[:500]}")
    data: dict[str, Any] = body["data"]
    return data


async def timed(client: httpx.AsyncClient, request: Request) -> tuple[float, httpx.Response]:
    gc.collect()  # every request starts from the same collector state
    started = time.perf_counter()
    response = await request.send(client)
    return (time.perf_counter() - started) * 1000.0, response


def table(header: list[str], rows: list[list[str]], left: int = 2) -> list[str]:
    """Columns before ``left`` are left-aligned, the rest right-aligned; [] is a blank line."""
    widths = [max(len(row[i]) for row in [header, *rows] if row) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header), line(["-" * w for w in widths])] + [
        line(row) if row else "" for row in rows
    ]


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("strawberry-graphql", "graphql-core", "pycasbin", "sqlalchemy", "starlette"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "?"
    return found


def say(*lines: str) -> None:
    for line in lines or ("",):
        print(line, flush=True)
