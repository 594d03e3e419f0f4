"""``GET /documents/{id}``: the bytes of a document, authorised as ``Document.content``.

It goes through the same scoped loader as the GraphQL field, so whoever cannot
read ``content`` in GraphQL cannot download it here either.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from basics.errors import ServiceError
from resolvers.context import RequestContext
from resolvers.download_names import content_disposition
from resolvers.queries import load_one
from store.models import Document

STATUS_BY_CODE = {"NOT_FOUND": 404, "BAD_USER_INPUT": 404, "FORBIDDEN": 403}


async def document_download(context: RequestContext, global_id: str) -> Response:
    try:
        document = await load_one(context, Document, global_id)
        content = await context.loaders.document_content().load(document.id)
    except ServiceError as exc:
        status = STATUS_BY_CODE.get(str(exc.extensions.get("code")), 400) if exc.extensions else 400
        return JSONResponse(
            {"errors": [{"message": exc.message, "extensions": exc.extensions}]}, status_code=status
        )
    if content is None:
        return JSONResponse(
            {"errors": [{"message": "Document not found", "extensions": {"code": "NOT_FOUND"}}]},
            status_code=404,
        )
    return Response(
        content,
        media_type=document.mime_type,
        headers={
            "Content-Disposition": content_disposition(document),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
