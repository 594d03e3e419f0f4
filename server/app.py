"""The Starlette application: routes and middleware put together, nothing more.

Each part has its own module: ``guards`` (request shape), ``caller`` (the one
place a request is authenticated and charged), ``graphql_view``, ``downloads``,
``health`` and ``responses`` (error bodies).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, request_response

from authz.decisions import Authorizer
from basics.settings import Settings, get_settings
from pages.routes import PAGE_ROUTES
from server.caller import Authenticated
from server.downloads import download_view
from server.graphql_view import GraphQLEndpoint
from server.guards import PREFLIGHT_HEADERS, cross_site_risk, oversized_json, unproven_get
from server.health import health_routes
from server.observability import Metrics, Observability
from server.responses import internal_error
from server.services import Services, build_services


def _cors(settings: Settings) -> Middleware:
    return Middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=[
            "authorization",
            "content-type",
            "x-denial-style",
            "x-request-id",
            *PREFLIGHT_HEADERS,
        ],
        allow_credentials=True,
        max_age=600,
    )


def api_routes(services: Services) -> list[Route]:
    """The doors that need a caller: GraphQL and document downloads."""
    graphql = Authenticated(
        services, GraphQLEndpoint(services), guards=(cross_site_risk, unproven_get, oversized_json)
    )
    download = Authenticated(services, request_response(download_view(services)))
    return [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/documents/{document_id}", download, methods=["GET"]),
    ]


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    authorizer: Authorizer | None = None,
) -> Starlette:
    settings = settings or get_settings()
    settings.require_startable()  # every secret present before the first request
    services = build_services(settings, engine, authorizer)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await services.engine.dispose()

    metrics = Metrics()
    app = Starlette(
        routes=[*api_routes(services), *health_routes(services.engine, metrics), *PAGE_ROUTES],
        middleware=[
            Middleware(Observability, metrics=metrics, production=settings.is_production),
            _cors(settings),
        ],
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        exception_handlers={Exception: internal_error},
    )
    app.state.services = services
    return app


def serve_app() -> Starlette:
    """The factory uvicorn runs in every worker: JSON log lines on stderr, then the app."""
    access = logging.getLogger("tenantgraph")
    if not access.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    return create_app()
