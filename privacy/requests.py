"""The lifecycle of privacy requests: received → verified → pending controller →
in progress → completed | partially completed | rejected.

A request is due one month after it was received (GDPR Art. 12(3)); the
business may extend that once by two months, with a reason the person is
sent. Every step is an audit event. Requests hold ids and parameters, never
personal values, so they outlive an erasure.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail as audit
from basics.errors import BadUserInput, Conflict
from privacy.notices import tell_person
from store.models import (
    OPEN_REQUEST_STATUSES,
    Customer,
    PrivacyRequest,
    PrivacyRequestStatus,
    PrivacyRequestType,
)
from store.types import utcnow

MAX_REASON_LENGTH = 1000


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


async def _step(
    tx: AsyncSession,
    request: PrivacyRequest,
    status: PrivacyRequestStatus,
    actor: str,
    **details: Any,
) -> None:
    request.status = status
    if status not in OPEN_REQUEST_STATUSES:
        request.resolved_at = utcnow()
    await audit.record(
        tx,
        tenant_id=request.tenant_id,
        actor=actor,
        action=f"privacy_request.{status.value.lower()}",
        entity_type="PrivacyRequest",
        entity_id=request.id,
        details={"type": request.type.value, **details},
    )


async def open_request(
    tx: AsyncSession,
    customer: Customer,
    request_type: PrivacyRequestType,
    *,
    actor: str,
    verified: bool,
    parameters: dict[str, Any] | None = None,
) -> PrivacyRequest:
    """Receive a request for one customer record; a verified identity skips straight on."""
    now = utcnow()
    request = PrivacyRequest(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        type=request_type,
        status=PrivacyRequestStatus.RECEIVED,
        received_at=now,
        due_at=add_months(now, 1),
        requested_by=actor,
        parameters=parameters or {},
        outcome={},
    )
    tx.add(request)
    await tx.flush()
    await _step(tx, request, PrivacyRequestStatus.RECEIVED, actor)
    if verified:
        await _step(tx, request, PrivacyRequestStatus.VERIFIED, actor, method="verified email")
    return request


async def await_controller(tx: AsyncSession, request: PrivacyRequest, actor: str) -> None:
    await _step(tx, request, PrivacyRequestStatus.PENDING_CONTROLLER, actor)


async def start(tx: AsyncSession, request: PrivacyRequest, actor: str) -> None:
    if request.status not in OPEN_REQUEST_STATUSES:
        raise Conflict(f"the request is already {request.status.value}", field="id")
    await _step(tx, request, PrivacyRequestStatus.IN_PROGRESS, actor)


async def complete(
    tx: AsyncSession, request: PrivacyRequest, actor: str, outcome: dict[str, Any], *, partial: bool
) -> None:
    request.outcome = outcome
    status = PrivacyRequestStatus.PARTIALLY_COMPLETED if partial else PrivacyRequestStatus.COMPLETED
    await _step(tx, request, status, actor)


def _reason(field: str, value: str | None) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise BadUserInput(field, "is required")
    if len(cleaned) > MAX_REASON_LENGTH:
        raise BadUserInput(field, f"must be at most {MAX_REASON_LENGTH} characters")
    return cleaned


async def reject(
    tx: AsyncSession,
    request: PrivacyRequest,
    customer: Customer | None,
    actor: str,
    *,
    reason: str | None,
    legal_reference: str | None,
) -> None:
    """Refuse with a reason and its legal reference; the person is told both."""
    if request.status not in OPEN_REQUEST_STATUSES:
        raise Conflict(f"the request is already {request.status.value}", field="id")
    request.rejection_reason = _reason("reason", reason)
    request.legal_reference = _reason("legalReference", legal_reference)[:200]
    await _step(tx, request, PrivacyRequestStatus.REJECTED, actor)
    if customer is not None:
        await tell_person(
            tx,
            customer,
            "Your privacy request was refused",
            f"Your {request.type.value.lower()} request received "
            f"{request.received_at.date().isoformat()} was refused.\n"
            f"Reason: {request.rejection_reason}\nLegal basis: {request.legal_reference}\n"
            "You may complain to Datatilsynet (www.datatilsynet.dk).",
        )


async def extend(
    tx: AsyncSession, request: PrivacyRequest, customer: Customer | None, actor: str, reason: str
) -> None:
    """Art. 12(3): two more months, once, with a reason sent to the person."""
    if request.status not in OPEN_REQUEST_STATUSES:
        raise Conflict(f"the request is already {request.status.value}", field="id")
    if request.extension_reason is not None:
        raise Conflict("the deadline has already been extended once", field="id")
    request.extension_reason = _reason("reason", reason)
    request.due_at = add_months(request.due_at, 2)
    await audit.record(
        tx,
        tenant_id=request.tenant_id,
        actor=actor,
        action="privacy_request.extended",
        entity_type="PrivacyRequest",
        entity_id=request.id,
        details={"type": request.type.value, "due_at": request.due_at.isoformat()},
    )
    if customer is not None:
        await tell_person(
            tx,
            customer,
            "More time is needed for your privacy request",
            f"Your {request.type.value.lower()} request will be answered by "
            f"{request.due_at.date().isoformat()}.\nReason: {request.extension_reason}",
        )


def is_overdue(request: PrivacyRequest, now: datetime | None = None) -> bool:
    return request.status in OPEN_REQUEST_STATUSES and request.due_at < (now or utcnow())
