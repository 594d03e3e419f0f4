"""``GET /documents/{id}``: the bytes of a document, decided exactly as ``Document.content``.

The route asks the kernel the same three questions GraphQL asks for
``{ document(id: ...) { content } }``, in the same order: the static decision
for the selection, the row within the caller's reach, and the field decision
for the row's relation to the caller. A caller refused by the static decision
holds no document at all, so for it no document exists: 404 ``NOT_FOUND``,
exactly as for a row outside its reach, revealing nothing about the id. A
row-dependent refusal of a reachable row is 403 ``FORBIDDEN``. A partner key's
download is recorded as a partner read, as the GraphQL answer would be.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from authz.decisions import READ
from authz.kernel import may_read, may_select, note_partner_read, row_relation
from basics.errors import Forbidden, NotFound, ServiceError
from privacy.recipients import record_partner_reads
from resolvers.context import RequestContext
from resolvers.download_names import content_disposition
from resolvers.queries import load_one
from store.models import Document

STATUS_BY_CODE = {"NOT_FOUND": 404, "BAD_USER_INPUT": 404, "FORBIDDEN": 403}
# The selection a download stands for: `document(id:) { content }`.
SELECTION = (
    ("document", "Query.document", "Query"),
    ("document.content", "Document.content", "Document"),
)


def _refusal(exc: ServiceError) -> Response:
    status = STATUS_BY_CODE.get(str(exc.extensions.get("code")), 400) if exc.extensions else 400
    return JSONResponse(
        {"errors": [{"message": exc.message, "extensions": exc.extensions}]}, status_code=status
    )


def _statically_denied(context: RequestContext) -> NotFound | None:
    denied = [
        path
        for path, coordinate, type_name in SELECTION
        if not may_select(context.principal, context.decisions, coordinate, READ, type_name)
    ]
    return NotFound("Document not found", field="id") if denied else None


async def document_download(context: RequestContext, global_id: str) -> Response:
    refused = _statically_denied(context)
    if refused is not None:
        return _refusal(refused)
    try:
        document = await load_one(context, Document, global_id)
    except ServiceError as exc:
        return _refusal(exc)
    relation = row_relation(document, context.principal, context.own_customer_ids)
    if relation is None or not may_read(context.decisions, "Document", "content", relation):
        return _refusal(Forbidden("not allowed to read Document.content"))
    content = await context.loaders.document_content().load(document.id)
    if content is None:
        return JSONResponse(
            {"errors": [{"message": "Document not found", "extensions": {"code": "NOT_FOUND"}}]},
            status_code=404,
        )
    await _record_partner_read(context, document)
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


async def _record_partner_read(context: RequestContext, document: Document) -> None:
    principal = context.principal
    reads = context.partner_reads
    if reads is None or principal.api_key_id is None or principal.tenant_id is None:
        return
    note_partner_read(reads, document, "Document.content", "content")
    await record_partner_reads(
        context.sessions,
        tenant_id=principal.tenant_id,
        api_key_id=principal.api_key_id,
        reads=reads,
    )
