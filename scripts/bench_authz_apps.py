"""The apps the guard benchmark compares: one per schema variant over one engine, and the
decision cache's cold start measured on a fresh authorizer."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from types import FunctionType
from typing import Any

import httpx
import strawberry
from benchkit import (
    Request,
    application_schema,
    client_for,
    data_of,
    graphql_view,
    schema_variant,
    timed,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import SchemaExtension

from authz.decisions import Authorizer
from basics.settings import Settings
from demo import DEMO_TENANT_SLUGS
from schema.guard import FieldGuard
from server.app import create_app

OTHER_TENANT = DEMO_TENANT_SLUGS[1]  # warms code paths without warming the measured tenant's

GUARDED = "guarded"
UNGUARDED = "unguarded"
STATIC_ONLY = "static check only"
PASS_THROUGH = "static + no-op middleware"

# --------------------------------------------------------------------------
# Schema variants and the apps that serve them
# --------------------------------------------------------------------------


class StaticCheckOnly(FieldGuard):
    """The guard's static check without its per-field middleware."""

    resolve = SchemaExtension.resolve


class PassThroughMiddleware(FieldGuard):
    """The guard's static check and a per-field middleware that only calls on."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        return _next(root, info, *args, **kwargs)


# The extension that takes FieldGuard's place in each app; None: no guard at all.
VARIANTS: dict[str, type[SchemaExtension] | None] = {
    GUARDED: FieldGuard,
    UNGUARDED: None,
    STATIC_ONLY: StaticCheckOnly,
    PASS_THROUGH: PassThroughMiddleware,
}


@dataclass(frozen=True)
class Served:
    client: httpx.AsyncClient
    schema: strawberry.Schema


@asynccontextmanager
async def serve(
    settings: Settings, engine: AsyncEngine, names: Iterable[str]
) -> AsyncIterator[dict[str, Served]]:
    """One app per variant, all over ``engine``; only their schemas differ."""
    async with AsyncExitStack() as stack:
        served: dict[str, Served] = {}
        for name in names:
            app = create_app(settings, engine=engine)
            schema = application_schema(app)
            if VARIANTS[name] is not FieldGuard:
                schema = schema_variant(schema, VARIANTS[name])
                graphql_view(app).schema = schema
            served[name] = Served(await stack.enter_async_context(client_for(app)), schema)
        yield served


def extension_identity(extension: object) -> object:
    """An extension class, or the code of a factory (each app builds its own lambdas)."""
    return extension.__code__ if isinstance(extension, FunctionType) else extension


# --------------------------------------------------------------------------
# The decision cache, cold and warm
# --------------------------------------------------------------------------


class CountingAuthorizer(Authorizer):
    """An ``Authorizer`` that counts and times its Casbin ``enforce`` calls."""

    def __init__(self) -> None:
        super().__init__()
        self.enforce_calls = 0
        self.enforce_seconds = 0.0

    def enforce(self, role: str, domain: str, coordinate: str, action: str, relation: str) -> bool:
        started = time.perf_counter()
        try:
            return super().enforce(role, domain, coordinate, action, relation)
        finally:
            self.enforce_seconds += time.perf_counter() - started
            self.enforce_calls += 1

    def reset_counts(self) -> None:
        self.enforce_calls = 0
        self.enforce_seconds = 0.0


@dataclass(frozen=True)
class ColdTrial:
    authorizer_init_ms: float
    cold_ms: float
    warm_ms: float
    enforce_calls: int
    enforce_ms: float


async def decision_cache(
    settings: Settings,
    engine: AsyncEngine,
    request: Request,
    other_tenant: Request,
    *,
    trials: int,
    warm_requests: int = 5,
) -> list[ColdTrial]:
    """First request after a fresh ``Authorizer()`` against the same request once warm.

    Each trial builds a new app around a new authorizer and first serves the
    same operation to another tenant's staff: that warms every code path but
    not this tenant's decisions, which are memoised per (policy version, role
    set, domain). The next request for this tenant then pays for its decisions
    in Casbin, and for nothing else that the warm requests after it do not.
    """
    results: list[ColdTrial] = []
    for _ in range(trials):
        started = time.perf_counter()
        authorizer = CountingAuthorizer()
        init_ms = (time.perf_counter() - started) * 1000.0
        app = create_app(settings, engine=engine, authorizer=authorizer)
        async with client_for(app) as client:
            data_of(await other_tenant.send(client))
            authorizer.reset_counts()
            cold_ms, response = await timed(client, request)
            data_of(response)
            calls, enforce_ms = authorizer.enforce_calls, authorizer.enforce_seconds * 1000.0
            warm = [(await timed(client, request))[0] for _ in range(warm_requests)]
            if authorizer.enforce_calls != calls:
                raise RuntimeError("warm requests called Casbin: the decision cache missed")
        results.append(ColdTrial(init_ms, cold_ms, statistics.median(warm), calls, enforce_ms))
    return results


def decision_cache_json(trials: list[ColdTrial]) -> dict[str, Any]:
    def median(attribute: str) -> float:
        return float(statistics.median(getattr(t, attribute) for t in trials))

    return {
        "trials": [dataclasses.asdict(t) for t in trials],
        "median_authorizer_init_ms": median("authorizer_init_ms"),
        "median_cold_ms": median("cold_ms"),
        "median_warm_ms": median("warm_ms"),
        "median_cold_minus_warm_ms": median("cold_ms") - median("warm_ms"),
        "median_enforce_calls": median("enforce_calls"),
        "median_enforce_ms": median("enforce_ms"),
    }
