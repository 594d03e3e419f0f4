"""``GET /documents/{id}``: a document's bytes, decided exactly as ``Document.content``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from resolvers.downloads import document_download
from server.caller import principal_of
from server.responses import request_id
from server.services import Services, make_context


def download_view(services: Services) -> Callable[[Request], Awaitable[Response]]:
    """The route's endpoint; the principal was found by ``server.caller``."""

    async def download(request: Request) -> Response:
        principal = principal_of(request)
        context = await make_context(services, request, None, principal, request_id(request))
        try:
            return await document_download(context, request.path_params["document_id"])
        finally:
            await context.session.close()

    return download
