"""GraphQL over HTTP: which media type a response takes and which status it carries.

A client that accepts ``application/graphql-response+json`` (Apollo Client 4
and graphql-http send it first) gets it, with the status codes of the GraphQL
over HTTP specification: a request that fails before execution (parse,
validation, limits, variables) is ``400`` without a ``data`` entry, an operation
refused as a whole is ``401``/``403`` with the error body still readable. Every
other client gets ``application/json`` under the legacy rules: ``200`` for every
well-formed GraphQL response. Either way the body is a GraphQL response, even
for errors found before GraphQL runs, so ``errors[].extensions.code`` is always
where a client looks for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# Codes of a refusal of the whole request, by the status the spec asks for.
_REQUEST_STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "RATE_LIMITED": 429,
    "INTERNAL_SERVER_ERROR": 500,
}


def _quality(parameters: Sequence[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def _accepted(accept: str) -> dict[str, float]:
    """Media range → quality, as the client wrote them."""
    ranges: dict[str, float] = {}
    for item in accept.split(","):
        media, *parameters = item.split(";")
        media = media.strip().lower()
        if media:
            ranges[media] = max(ranges.get(media, 0.0), _quality(parameters))
    return ranges


def negotiate(accept: str | None) -> str:
    """``application/graphql-response+json`` when the client prefers it (or ties),
    ``application/json`` otherwise, including no or an unusable ``Accept``."""
    if not accept:
        return JSON
    ranges = _accepted(accept)
    wildcard = max(ranges.get("*/*", 0.0), ranges.get("application/*", 0.0))
    modern = ranges.get(GRAPHQL_RESPONSE, 0.0)
    legacy = ranges.get(JSON, wildcard)
    if modern > 0 and modern >= legacy:
        return GRAPHQL_RESPONSE
    return JSON


def response_media_type(connection: HTTPConnection) -> str:
    """The negotiated media type, decided once per request."""
    state = connection.scope.setdefault("state", {})
    chosen = state.get("media_type")
    if not isinstance(chosen, str):
        chosen = negotiate(connection.headers.get("accept"))
        state["media_type"] = chosen
    return chosen


def content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8"


def is_request_error(result: Mapping[str, Any]) -> bool:
    """No data and no error on a path: the operation never ran (or was refused whole)."""
    errors = result.get("errors") or []
    return result.get("data") is None and bool(errors) and not any(e.get("path") for e in errors)


def request_error_status(errors: Sequence[Mapping[str, Any]]) -> int:
    """``401``/``403``/``429``/``500`` when every error says so, else ``400``."""
    codes = {str((e.get("extensions") or {}).get("code")) for e in errors}
    for code, status in _REQUEST_STATUS.items():
        if codes == {code}:
            return status
    return 401 if "UNAUTHENTICATED" in codes else 400


def shape_result(media_type: str, result: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The body and status for a GraphQL result under the negotiated media type."""
    if media_type != GRAPHQL_RESPONSE or not is_request_error(result):
        return result, 200
    body = {key: value for key, value in result.items() if key != "data"}
    return body, request_error_status(body["errors"])


def error_body(message: str, extensions: Mapping[str, Any]) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": dict(extensions)}]}


def graphql_response(connection: HTTPConnection, body: Mapping[str, Any], status: int) -> Response:
    """A GraphQL response body in the negotiated media type."""
    encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(
        encoded,
        status_code=status,
        headers={"content-type": content_type(response_media_type(connection))},
    )
