"""Who is calling, decided once per request for every door that needs it.

GraphQL and document downloads both sit behind :class:`Authenticated`: it runs
the request guards, asks ``identity.authenticate`` for the principal, charges the
caller's request budget and leaves the principal in the request's state for the
view, which never authenticates again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from basics.errors import RateLimited, Unauthenticated
from basics.principal import ANONYMOUS, Principal
from basics.request_facts import note_request
from basics.settings import Settings
from identity.authenticate import authenticate
from server.principal_limits import caller_key
from server.responses import error_response, request_id
from server.services import Services

Guard = Callable[[Request, Settings], Response | None]


def principal_of(request: Request) -> Principal:
    """The principal :class:`Authenticated` found for this request."""
    principal = request.state.principal
    assert isinstance(principal, Principal)
    return principal


def over_budget(services: Services, request: Request, principal: Principal) -> Response | None:
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
    response = error_response(request, error, 429)
    response.headers["Retry-After"] = str(wait)
    return response


def refused_credentials(services: Services, request: Request, exc: Unauthenticated) -> Response:
    """``401``, charged to the address's anonymous budget: guessing keys or tokens
    costs the guesser like any other anonymous request (``429`` once spent)."""
    return over_budget(services, request, ANONYMOUS) or error_response(request, exc, 401)


class Authenticated:
    """Guards, then the principal, then the budget; only then the wrapped app."""

    def __init__(self, services: Services, app: ASGIApp, guards: Sequence[Guard] = ()) -> None:
        self.services = services
        self.app = app
        self.guards = tuple(guards)

    async def refusal(self, request: Request) -> Response | None:
        """Why this request goes no further, or ``None`` with the principal in its state."""
        for guard in self.guards:
            refused = guard(request, self.services.settings)
            if refused is not None:
                return refused
        try:
            principal = await authenticate(request, self.services.settings, self.services.sessions)
        except Unauthenticated as exc:
            note_request(request.scope, principal_kind="invalid", error_codes=["UNAUTHENTICATED"])
            return refused_credentials(self.services, request, exc)
        request.state.principal = principal
        note_request(request.scope, principal_kind=principal.kind.value, tenant=principal.tenant_id)
        return over_budget(self.services, request, principal)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await PlainTextResponse("Not found", status_code=404)(scope, receive, send)
            return
        request = Request(scope, receive)
        request.state.request_id = request_id(request)
        refused = await self.refusal(request)
        if refused is not None:
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)
