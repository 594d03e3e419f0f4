"""Per-request JSON logs, Prometheus metrics and security headers, as one ASGI middleware.

A log line names the request id, the principal's kind and tenant, the GraphQL
operation, the duration and the outcome (error codes), never a personal value:
no query text, no variables, no tokens. What the GraphQL layer learns is
passed out through ``scope["state"]`` (``note_request``).
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from basics.request_facts import note_request, request_state

REQUEST_ID_HEADER = "x-request-id"
access_log = logging.getLogger("tenantgraph.access")

_BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# Nothing served here needs to load anything; GraphiQL (development only) does.
_STRICT_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class Metrics:
    """The service's Prometheus metrics, one registry per application."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tenantgraph_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "tenantgraph_request_seconds",
            "Request duration",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.denials = Counter(
            "tenantgraph_authorization_denials",
            "Operations or fields refused by authorization",
            ["principal_kind"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "tenantgraph_rate_limit_hits",
            "Requests refused by a rate limit",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _route(path: str) -> str:
    if path.startswith("/documents/"):
        return "/documents/{id}"
    return path if path in ("/graphql", "/healthz", "/readyz", "/metrics") else "other"


class Observability:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, production: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        request_state(scope)["request_id"] = request_id
        status = 500
        content_type = b""

        async def send_with_headers(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                extra = [(REQUEST_ID_HEADER.encode(), request_id.encode()), *_BASE_HEADERS]
                if not content_type.startswith(b"text/html") or self.production:
                    extra.append(_STRICT_CSP)
                if self.production:
                    extra.append(_HSTS)
                present = {k.lower() for k, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Answered by the app's last-resort handler after this line is written.
            note_request(scope, error_codes=["INTERNAL_SERVER_ERROR"])
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = _route(scope["path"])
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.latency.labels(route).observe(elapsed)
            facts = dict(request_state(scope).get("log", {}))
            codes = facts.get("error_codes") or []
            if "FORBIDDEN" in codes:
                self.metrics.denials.labels(facts.get("principal_kind", "unknown")).inc()
            if "RATE_LIMITED" in codes or status == 429:
                self.metrics.rate_limited.inc()
            if access_log.isEnabledFor(logging.INFO):
                line = {
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    **facts,
                }
                _log_access(json.dumps(line, separators=(",", ":")))


def _log_access(line: str) -> None:
    """One access line, without the stack walk ``Logger.info`` makes for the
    caller's file and line: this line always comes from here, and that walk
    was a third of the cost of logging it on every request."""
    record = access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, line, (), None)
    access_log.handle(record)


def _incoming_request_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == REQUEST_ID_HEADER.encode():
            given = str(value.decode("latin-1"))
            if 0 < len(given) <= 64 and given.replace("-", "").isalnum():
                return given
    return None
