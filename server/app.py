"""The Starlette application: GraphQL, document downloads, health checks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types import ExecutionResult

from authz.decisions import Authorizer
from authz.scope import subject_customer_ids
from basics.errors import BadUserInput, RateLimited, ServiceError, Unauthenticated
from basics.principal import ANONYMOUS, Principal, PrincipalKind
from basics.request_facts import note_request, request_state
from basics.settings import Settings, get_settings
from identity.authenticate import authenticate
from pages.routes import PAGE_ROUTES
from resolvers.context import RequestContext
from resolvers.downloads import document_download
from resolvers.validation import has_unsafe_characters
from schema.build import build_schema
from server.observability import Metrics, Observability
from server.principal_limits import PrincipalRateLimiter, caller_key
from store.engine import SerialReader, create_engine, create_sessionmaker

logger = logging.getLogger("basics.errors")


@dataclass(frozen=True)
class Services:
    """What every request needs and nothing request-specific."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    authorizer: Authorizer
    limiter: PrincipalRateLimiter


def _error_response(error: ServiceError, status: int) -> JSONResponse:
    body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
    return JSONResponse(body, status_code=status)


def _over_budget(services: Services, request: Request, principal: Principal) -> Response | None:
    """``429 RATE_LIMITED`` with a retry hint when the caller has spent its budget."""
    address = request.client.host if request.client is not None else None
    wait = services.limiter.take(caller_key(principal, address))
    if not wait:
        return None
    note_request(request.scope, error_codes=["RATE_LIMITED"])
    error = RateLimited(
        f"too many requests from this caller: try again in {wait} seconds",
        retry_after_seconds=wait,
    )
    response = _error_response(error, 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _refused_credentials(services: Services, request: Request, exc: Unauthenticated) -> Response:
    """``401``, charged to the address's anonymous budget: guessing keys or tokens
    costs the guesser like any other anonymous request (``429`` once spent)."""
    return _over_budget(services, request, ANONYMOUS) or _error_response(exc, 401)


# A browser sends a multipart form cross-site without asking (it is a "simple"
# request), so a multipart GraphQL request must carry a header no form can set:
# then the browser asks first, and CORS refuses other origins. The names are the
# ones upload clients already send.
PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)


def _is_multipart(request: Request) -> bool:
    """As Strawberry will see it: parameters and surrounding space do not matter."""
    content_type, _ = parse_content_type(request.headers.get("content-type", ""))
    return content_type.strip().lower().startswith("multipart/")


def _cross_site_risk(request: Request) -> Response | None:
    """``400`` for a multipart request without a preflight-forcing header."""
    if request.method != "POST" or not _is_multipart(request):
        return None
    if any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
        return None
    note_request(request.scope, error_codes=["BAD_USER_INPUT"])
    error = BadUserInput(
        "headers",
        "of a multipart request must include GraphQL-Require-Preflight: 1 "
        "(or Apollo-Require-Preflight), so that browsers cannot send it cross-site",
    )
    return _error_response(error, 400)


def _oversized_json(request: Request, settings: Settings) -> Response | None:
    """``413`` for a JSON body over its limit, judged by Content-Length before reading it.

    Uploads (multipart) may be as large as ``max_body_bytes``; an operation and
    its variables never need more than ``max_json_body_bytes``.
    """
    if _is_multipart(request):
        return None
    try:
        length = int(request.headers.get("content-length", "0"))
    except ValueError:
        length = 0
    if length <= settings.max_json_body_bytes:
        return None
    error = BadUserInput("body", f"must be at most {settings.max_json_body_bytes} bytes")
    return _error_response(error, 413)


def _request_id(request: Request) -> str:
    """The id the observability middleware gave this request (one per request)."""
    given = request_state(request.scope).get("request_id")
    return given if isinstance(given, str) else uuid.uuid4().hex


async def _internal_error(request: Request, exc: Exception) -> Response:
    """Anything unexpected outside GraphQL's own error handling: a code and an id, no details."""
    request_id = _request_id(request)
    logger.error("unexpected error (request %s)", request_id, exc_info=exc)
    body = {
        "errors": [
            {
                "message": "Internal server error",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ]
    }
    return JSONResponse(body, status_code=500)


async def make_context(
    services: Services,
    request: Request | None,
    response: Response | None,
    principal: Principal,
    request_id: str,
) -> RequestContext:
    await services.authorizer.refresh_if_stale(services.sessions)
    own_customer_ids: frozenset[str] = frozenset()
    if principal.kind is PrincipalKind.SUBJECT:
        async with services.sessions() as session:
            rows = await session.execute(subject_customer_ids(principal))
            own_customer_ids = frozenset(rows.scalars())
    return RequestContext(
        request=request,
        response=response,
        principal=principal,
        settings=services.settings,
        sessions=services.sessions,
        session=SerialReader(services.sessions()),
        decisions=services.authorizer.decisions(principal.roles, principal.tenant_id),
        authorizer=services.authorizer,
        own_customer_ids=own_customer_ids,
        request_id=request_id,
    )


class TenantGraphQL(GraphQL[RequestContext, None]):
    """Strawberry's ASGI app with our context; the principal is resolved before it runs."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        super().__init__(
            build_schema(settings),
            graphql_ide=None if settings.is_production else "graphiql",
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
        )
        self.services = services

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """Stop an operation that runs longer than the configured timeout."""
        limit = self.services.settings.execution_timeout_seconds
        try:
            async with asyncio.timeout(limit):
                return await super().execute_operation(*args, **kwargs)
        except TimeoutError:
            logger.warning("operation stopped after %.1f s", limit)
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"The operation took longer than {limit:g} s and was stopped",
                        extensions={"code": "INTERNAL_SERVER_ERROR", "reason": "timeout"},
                    )
                ],
            )

    def decode_json(self, data: str | bytes) -> object:
        """Strict UTF-8 first: overlong forms and encoded surrogates are a 400, not a 500."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise json.JSONDecodeError(
                    f"body is not UTF-8 ({exc.reason})", "", exc.start
                ) from None
        try:
            return json.loads(data)
        except RecursionError:  # "[[[[..." nested beyond the interpreter's stack
            raise json.JSONDecodeError("body is nested too deeply", "", 0) from None

    async def parse_http_body(self, request: Any) -> Any:
        """Strawberry's parsing, with every malformed shape a 400 instead of a 500.

        A body that is JSON but not a GraphQL request (``"x"``, ``1``, a ``map``
        that is not an object) fails inside the parser with attribute or type
        errors; an ``operationName`` with a lone surrogate would fail only when
        the error naming it is written.
        """
        try:
            data = await super().parse_http_body(request)
        except (AttributeError, TypeError, RecursionError) as exc:
            raise HTTPException(400, "The request body is not a GraphQL request") from exc
        for item in data if isinstance(data, list) else [data]:
            name = item.operation_name
            if name is not None and (not isinstance(name, str) or has_unsafe_characters(name)):
                raise HTTPException(400, "operationName is not a valid operation name")
            if item.variables is not None and not isinstance(item.variables, dict):
                raise HTTPException(400, "variables must be a JSON object")
        return data

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        return await make_context(
            self.services, request, response, request.state.principal, request.state.request_id
        )


class AuthenticatedGraphQL:
    """Authenticate first: a bad credential is answered 401 before GraphQL parses anything."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.graphql = TenantGraphQL(services)
        # Content-Length is checked up front (_oversized_json); this also counts
        # the bytes of a chunked JSON body as they arrive.
        self.json_graphql = RequestBodyLimitMiddleware(
            self.graphql, max_body_size=services.settings.max_json_body_bytes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await PlainTextResponse("Not found", status_code=404)(scope, receive, send)
            return
        request = Request(scope, receive)
        request.state.request_id = _request_id(request)
        refused = _cross_site_risk(request) or _oversized_json(request, self.services.settings)
        if refused is not None:
            await refused(scope, receive, send)
            return
        try:
            principal = await authenticate(request, self.services.settings, self.services.sessions)
        except Unauthenticated as exc:
            note_request(scope, principal_kind="invalid", error_codes=["UNAUTHENTICATED"])
            await _refused_credentials(self.services, request, exc)(scope, receive, send)
            return
        request.state.principal = principal
        note_request(scope, principal_kind=principal.kind.value, tenant=principal.tenant_id)
        refused = _over_budget(self.services, request, principal)
        if refused is not None:
            await refused(scope, receive, send)
            return
        await (self.graphql if _is_multipart(request) else self.json_graphql)(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    authorizer: Authorizer | None = None,
) -> Starlette:
    settings = settings or get_settings()
    settings.signing_key()  # refuse to start without a usable key
    engine = engine or create_engine(settings.database_url, echo=settings.sql_echo)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=create_sessionmaker(engine),
        authorizer=authorizer or Authorizer(),
        limiter=PrincipalRateLimiter(
            settings.principal_rate_limit, settings.principal_rate_window_seconds
        ),
    )

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        try:
            async with services.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # any database failure means not ready
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ready", "database": "up"})

    async def download(request: Request) -> Response:
        request_id = _request_id(request)
        try:
            principal = await authenticate(request, settings, services.sessions)
        except Unauthenticated as exc:
            return _refused_credentials(services, request, exc)
        refused = _over_budget(services, request, principal)
        if refused is not None:
            return refused
        context = await make_context(services, request, None, principal, request_id)
        try:
            return await document_download(context, request.path_params["document_id"])
        finally:
            await context.session.close()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await services.engine.dispose()

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    metrics = Metrics()
    graphql = AuthenticatedGraphQL(services)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/documents/{document_id}", download, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *PAGE_ROUTES,
        ],
        middleware=[
            Middleware(Observability, metrics=metrics, production=settings.is_production),
            Middleware(
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
            ),
        ],
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        exception_handlers={Exception: _internal_error},
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
