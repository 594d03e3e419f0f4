"""The GraphQL endpoint: Strawberry's ASGI view with our context, parsing and timeout."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from resolvers.context import RequestContext
from resolvers.validation import has_unsafe_characters
from schema.build import build_schema
from schema.caches import DocumentCaches
from schema.extensions import mask_uncoded
from schema.limits import Limits
from schema.settled_reads import answer_settled, finish_settled
from server.caller import principal_of
from server.guards import is_multipart
from server.ide import GRAPHIQL_CSP
from server.json_body import encode_body
from server.media import (
    content_type,
    error_body,
    graphql_response,
    response_media_type,
    shape_result,
)
from server.services import Services, make_context

# What an HTTP-level refusal means, in the service's own error codes.
_HTTP_CODES = {404: "NOT_FOUND", 413: "BAD_USER_INPUT", 500: "INTERNAL_SERVER_ERROR"}

logger = logging.getLogger("basics.errors")


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's view, with its plain-text refusals turned into GraphQL error bodies."""
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            code = _HTTP_CODES.get(exc.status_code, "BAD_USER_INPUT")
            body = error_body(exc.reason, {"code": code})
            response = graphql_response(request, body, exc.status_code)
            if exc.status_code == 405:
                response.headers["Allow"] = "POST"
        await response(scope, receive, send)

    async def execute_single(self, *args: Any, **kwargs: Any) -> Any:
        """A settled read answers at once; a mutation sent as GET is ``405``, as the spec says."""
        settled = await self._answer_settled(kwargs)
        if settled is not None:
            return settled
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, exc.reason) from exc
            raise

    async def _answer_settled(self, kwargs: dict[str, Any]) -> ExecutionResult | None:
        """A repeat of a read that compiled whole, without the per-operation pipeline."""
        context = kwargs.get("context")
        data = kwargs.get("request_data")
        schema = self.schema
        caches = getattr(schema, "document_caches", None)
        limits = getattr(schema, "limits", None)
        if (
            not isinstance(context, RequestContext)
            or data is None
            or not isinstance(caches, DocumentCaches)
            or not isinstance(limits, Limits)
        ):
            return None
        answer = await answer_settled(
            caches,
            limits,
            schema._schema,  # type: ignore[attr-defined]
            context,
            data.query,
            data.variables,
            data.operation_name,
        )
        if answer is None:
            return None
        result, settled = answer
        await finish_settled(context, settled.operation)
        return result

    async def render_graphql_ide(self, request: Any) -> Response:
        """GraphiQL (development only), with a CSP that allows exactly what it loads."""
        csp = {"content-security-policy": GRAPHIQL_CSP}
        return HTMLResponse(self.graphql_ide_html, headers=csp)

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = await super().get_sub_response(request)
        request.state.sub_response = sub_response
        return sub_response

    async def process_result(self, request: Any, result: Any) -> GraphQLHTTPResponse:
        """The result shaped for the negotiated media type; the status goes with it."""
        if result.errors:
            result.errors = mask_uncoded(result.errors, request.state.request_id)
        processed = dict(await super().process_result(request, result))
        body, status = shape_result(response_media_type(request), processed)
        sub_response = request.state.sub_response
        if status != 200:
            sub_response.status_code = status
        sub_response.media_type = response_media_type(request)
        return body  # type: ignore[return-value]

    def encode_json(self, data: object) -> str:
        """Compiled answers (``RawJSON``) go into the body as the database wrote them."""
        return encode_body(data)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = sub_response.media_type or "application/json"
        response.headers["content-type"] = content_type(media_type)
        return response

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
        context = await make_context(
            self.services, request, response, principal_of(request), request.state.request_id
        )
        context.raw_json = True
        return context


class GraphQLEndpoint:
    """The view behind the JSON body limit; uploads are limited by the app's body size."""

    def __init__(self, services: Services) -> None:
        self.graphql = TenantGraphQL(services)
        # Content-Length is checked up front (guards.oversized_json); this also
        # counts the bytes of a chunked JSON body as they arrive.
        self.json_graphql = RequestBodyLimitMiddleware(
            self.graphql, max_body_size=services.settings.max_json_body_bytes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        multipart = is_multipart(Request(scope))
        await (self.graphql if multipart else self.json_graphql)(scope, receive, send)
