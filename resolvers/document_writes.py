"""Adding documents (invoices, inspection reports) to a booking or customer."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

from sqlalchemy import select

from audit.trail import record_write
from authz.kernel import owned_by, require_writer, rules_of
from basics.errors import BadUserInput, Forbidden, NotFound
from basics.ids import decode_id
from resolvers import validation
from resolvers.context import RequestContext
from store.engine import write_transaction
from store.models import Booking, Customer, Document, DocumentKind
from store.types import utcnow

ALLOWED_MIME_TYPES = frozenset(
    {"application/pdf", "text/plain", "text/html", "image/png", "image/jpeg", "application/json"}
)
BOOKKEEPING_YEARS = 5
_MIME = re.compile(r"^[a-z]+/[a-z0-9.+-]+$")


def bookkeeping_retention(issued_at: datetime) -> date:
    """Danish bookkeeping law: keep 5 years from the end of the financial year of issue."""
    return date(issued_at.year + BOOKKEEPING_YEARS, 12, 31)


def _mime_type(declared: str | None) -> str:
    base = (declared or "").split(";")[0].strip().lower()
    if not _MIME.match(base) or base not in ALLOWED_MIME_TYPES:
        raise BadUserInput(
            "input.file", f"content type must be one of {', '.join(sorted(ALLOWED_MIME_TYPES))}"
        )
    return base


async def add_document(
    ctx: RequestContext,
    *,
    kind: DocumentKind,
    title: str,
    content: bytes,
    declared_mime_type: str | None,
    booking_id: str | None,
    customer_id: str | None,
) -> Document:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "addDocument")
    if kind not in rules_of(ctx.principal).addable_kinds:
        raise Forbidden(f"not allowed to add a document of kind {kind.value}", path=["addDocument"])
    clean_title = validation.text("input.title", title, max_length=200)
    mime_type = _mime_type(declared_mime_type)
    if not content:
        raise BadUserInput("input.file", "must not be empty")
    if len(content) > ctx.settings.max_upload_bytes:
        raise BadUserInput("input.file", f"must be at most {ctx.settings.max_upload_bytes} bytes")
    if booking_id is None and customer_id is None:
        raise BadUserInput("input.bookingId", "or customerId is required")
    # An empty string is a malformed id, not an omitted one: it must not leave the document
    # attached to nothing.
    booking_key = (
        decode_id("input.bookingId", booking_id, "Booking") if booking_id is not None else None
    )
    customer_key = (
        decode_id("input.customerId", customer_id, "Customer") if customer_id is not None else None
    )
    async with write_transaction(ctx.sessions) as tx:
        if booking_key is not None:
            booking = (
                await tx.execute(
                    select(Booking).where(Booking.id == booking_key, owned_by(Booking, tenant_id))
                )
            ).scalar_one_or_none()
            if booking is None:
                raise NotFound("Booking not found", field="input.bookingId")
            if customer_key is not None and customer_key != booking.customer_id:
                raise BadUserInput("input.customerId", "must be the booking's customer")
            customer_key = booking.customer_id
        elif customer_key is not None:
            found = (
                await tx.execute(
                    select(Customer.id).where(
                        Customer.id == customer_key, owned_by(Customer, tenant_id)
                    )
                )
            ).scalar_one_or_none()
            if found is None:
                raise NotFound("Customer not found", field="input.customerId")
        issued_at = utcnow()
        document = Document(
            tenant_id=tenant_id,
            booking_id=booking_key,
            customer_id=customer_key,
            kind=kind,
            title=clean_title,
            issued_at=issued_at,
            mime_type=mime_type,
            size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            retain_until=bookkeeping_retention(issued_at) if kind is DocumentKind.INVOICE else None,
            created_by=ctx.principal.actor,
        )
        tx.add(document)
        await tx.flush()
        await record_write(tx, ctx.principal, "document.add", document, ["content", "title"])
    return document
