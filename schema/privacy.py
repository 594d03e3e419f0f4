"""The privacy rights in GraphQL: the subject's portal and the business's tools."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry import Parent
from strawberry.scalars import JSON

from basics.ids import encode_id
from privacy import access, staff_notes
from privacy.requests import is_overdue
from resolvers import privacy_rights
from resolvers import staff_notes as resolvers_staff_notes
from schema.connection import Connection, connection_from_page
from schema.context import Info
from schema.types import Customer, Node, Tenant
from store import models

strawberry.enum(models.PrivacyRequestType)
strawberry.enum(models.PrivacyRequestStatus)


@strawberry.enum(description="What a person may object to (GDPR Art. 21).")
class ObjectionPurpose(enum.Enum):
    SERVICE_REMINDERS = "service_reminders"
    MARKETING = "marketing"


@strawberry.enum
class ExportFormat(enum.Enum):
    JSON = "JSON"
    HTML = "HTML"


@strawberry.type(description="A request under GDPR Art. 15-21 to one business.")
class PrivacyRequest(Node):
    type: models.PrivacyRequestType
    status: models.PrivacyRequestStatus
    received_at: datetime
    due_at: datetime = strawberry.field(
        description="One month after receipt (Art. 12(3)), or as extended."
    )
    extension_reason: str | None
    resolved_at: datetime | None
    rejection_reason: str | None
    legal_reference: str | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, models.PrivacyRequest)

    @strawberry.field
    def overdue(self, root: Parent[models.PrivacyRequest]) -> bool:
        return is_overdue(root)

    @strawberry.field(
        description="The erasure receipt or other outcome: entities and counts, no values."
    )
    def outcome(self, root: Parent[models.PrivacyRequest]) -> JSON:
        return cast(JSON, root.outcome)

    @strawberry.field
    async def tenant(self, root: Parent[models.PrivacyRequest], info: Info) -> Tenant | None:
        return await info.context.loaders.by_id(models.Tenant).load(root.tenant_id)  # type: ignore[return-value]

    @strawberry.field(description="The customer record, until it is erased.")
    async def customer(self, root: Parent[models.PrivacyRequest], info: Info) -> Customer | None:
        if root.customer_id is None:
            return None
        return await info.context.loaders.by_id(models.Customer).load(root.customer_id)  # type: ignore[return-value]


@strawberry.type(description="An append-only, hash-chained record of who did what to whose data.")
class AuditEvent(Node):
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    fields: list[str] = strawberry.field(description="Field names only, never values.")
    prev_hash: str
    hash: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, models.AuditEvent)

    @strawberry.field
    def entity_id(self, root: Parent[models.AuditEvent]) -> strawberry.ID | None:
        if root.entity_id is None:
            return None
        return strawberry.ID(encode_id(root.entity_type, root.entity_id))

    @strawberry.field
    def details(self, root: Parent[models.AuditEvent]) -> JSON:
        return cast(JSON, root.details)


@strawberry.type
class PurposeFact:
    purpose: str
    description: str
    legal_basis: str
    retention: str


@strawberry.type(
    description="What is kept about one kind of record, why, and for how long (Art. 15(1))."
)
class RecordFacts:
    entity: str
    categories: list[str]
    purposes: list[PurposeFact]


@strawberry.type(description="A partner integration that received the person's data.")
class Recipient:
    name: str
    role: str
    fields: list[str]
    first_read_at: datetime
    last_read_at: datetime


@strawberry.type(
    description="A note the business's staff wrote about the person on a booking. A note "
    "withheld under GDPR Art. 15(4) shows no text, only that it exists and why it is withheld."
)
class StaffNote:
    booking_id: strawberry.ID
    note: str | None = strawberry.field(description="The staff note; null when withheld.")
    withheld: bool
    withheld_reason: str | None


def _staff_note(fact: staff_notes.StaffNoteFact) -> StaffNote:
    return StaffNote(
        booking_id=strawberry.ID(fact.booking_id),
        note=fact.note,
        withheld=fact.withheld,
        withheld_reason=fact.withheld_reason,
    )


@strawberry.type
class WithholdStaffNotePayload:
    booking_id: strawberry.ID
    withheld: bool
    withheld_reason: str | None


@strawberry.type(description="Everything one business (the controller) holds about the person.")
class ControllerData:
    view: strawberry.Private[privacy_rights.ControllerView]

    @strawberry.field
    async def tenant(self, info: Info) -> Tenant | None:
        return await info.context.loaders.by_id(models.Tenant).load(self.view.tenant_id)  # type: ignore[return-value]

    @strawberry.field(description="The customer record, with its vehicles, bookings and documents.")
    def customer(self) -> Customer:
        return self.view.customer  # type: ignore[return-value]

    @strawberry.field
    def source(self) -> str:
        return access.source_of(self.view.customer)

    @strawberry.field
    async def privacy_requests(self, info: Info) -> list[PrivacyRequest]:
        loader = info.context.loaders.children(
            models.PrivacyRequest,
            models.PrivacyRequest.customer_id,
            [models.PrivacyRequest.received_at],
            info.context.settings.max_page_size,
        )
        return await loader.load(self.view.customer.id)  # type: ignore[return-value]

    @strawberry.field
    async def recipients(self, info: Info) -> list[Recipient]:
        found = await privacy_rights.recipients(info.context, self.view.customer.id)
        return [Recipient(**r.__dict__) for r in found]

    @strawberry.field(description="Notes the business's staff wrote about you (staff notes).")
    async def staff_notes(self, info: Info) -> list[StaffNote]:
        found = await resolvers_staff_notes.notes_of(info.context, self.view.customer.id)
        return [_staff_note(fact) for fact in found]

    @strawberry.field
    def facts(self) -> list[RecordFacts]:
        return [
            RecordFacts(
                entity=facts.entity,
                categories=facts.categories,
                purposes=[PurposeFact(**p.__dict__) for p in facts.purposes],
            )
            for facts in (access.entity_facts(e) for e in access.ENTITY_TABLES)
        ]


@strawberry.type(description="The data subject's own data across every business (Art. 15).")
class MyData:
    email: str
    generated_at: datetime
    controllers: list[ControllerData]
    rights: list[str]


@strawberry.type
class ExportPayload:
    format: ExportFormat
    content_type: str
    filename: str
    format_version: str = strawberry.field(
        description="Version of the tenantgraph.subject-export format."
    )
    content: str


@strawberry.type
class PrivacyRequestsPayload:
    requests: list[PrivacyRequest]


@strawberry.type
class PrivacyRequestPayload:
    request: PrivacyRequest


@strawberry.type
class RestrictionPayload:
    customer: Customer


@strawberry.input
class PrivacyRequestFilter:
    status: list[models.PrivacyRequestStatus] | None = None
    type: list[models.PrivacyRequestType] | None = None
    overdue: bool | None = None


@strawberry.input
class AuditEventFilter:
    entity_type: str | None = None
    entity_id: strawberry.ID | None = None
    action: str | None = None
    since: datetime | None = None


def _export(export: privacy_rights.Export) -> ExportPayload:
    return ExportPayload(
        format=ExportFormat(export.format),
        content_type=export.content_type,
        filename=export.filename,
        format_version=access.FORMAT_VERSION,
        content=export.content,
    )


@strawberry.type
class PrivacyQuery:
    @strawberry.field(description="Everything about the calling data subject, per business.")
    async def my_data(self, info: Info, tenant_slug: str | None = None) -> MyData:
        views = await privacy_rights.my_data(info.context, tenant_slug)
        return MyData(
            email=info.context.principal.email or "",
            generated_at=datetime.now().astimezone(),
            controllers=[ControllerData(view=v) for v in views],
            rights=list(access.RIGHTS),
        )

    @strawberry.field(description="The business's privacy requests (tenant_admin).")
    async def privacy_requests(
        self,
        info: Info,
        filter: PrivacyRequestFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[PrivacyRequest]:
        flt = privacy_rights.RequestFilter()
        if filter is not None:
            flt = privacy_rights.RequestFilter(
                statuses=tuple(filter.status or ()),
                types=tuple(filter.type or ()),
                overdue=filter.overdue,
            )
        return connection_from_page(
            await privacy_rights.list_requests(info.context, flt, first, after)
        )

    @strawberry.field(description="The audit trail of the business (tenant_admin), oldest first.")
    async def audit_events(
        self,
        info: Info,
        filter: AuditEventFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AuditEvent]:
        flt = privacy_rights.AuditFilter()
        if filter is not None:
            flt = privacy_rights.AuditFilter(
                entity_type=filter.entity_type,
                entity_id=filter.entity_id,
                action=filter.action,
                since=filter.since,
            )
        return connection_from_page(
            await privacy_rights.list_audit_events(info.context, flt, first, after)
        )


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(description="A copy of your data (Art. 15/20), as JSON or HTML.")
    async def export_my_data(
        self, info: Info, format: ExportFormat = ExportFormat.JSON, tenant_slug: str | None = None
    ) -> ExportPayload:
        return _export(await privacy_rights.export_my_data(info.context, format.value, tenant_slug))

    @strawberry.mutation(
        description="Answer an access request on the person's behalf (tenant_admin)."
    )
    async def export_subject_data(
        self, info: Info, customer_id: strawberry.ID, format: ExportFormat = ExportFormat.JSON
    ) -> ExportPayload:
        return _export(
            await privacy_rights.export_subject_data(info.context, customer_id, format.value)
        )

    @strawberry.mutation(
        description="Ask each business you booked with (or one) to erase your data."
    )
    async def request_erasure(
        self, info: Info, tenant_slug: str | None = None
    ) -> PrivacyRequestsPayload:
        found = await privacy_rights.request_erasure(info.context, tenant_slug)
        return PrivacyRequestsPayload(requests=found)  # type: ignore[arg-type]

    @strawberry.mutation(description="Ask each business (or one) to restrict processing (Art. 18).")
    async def request_restriction(
        self, info: Info, reason: str, tenant_slug: str | None = None
    ) -> PrivacyRequestsPayload:
        found = await privacy_rights.request_restriction(info.context, reason, tenant_slug)
        return PrivacyRequestsPayload(requests=found)  # type: ignore[arg-type]

    @strawberry.mutation(description="Object to a purpose (Art. 21); takes effect at once.")
    async def object_to_processing(
        self, info: Info, purpose: ObjectionPurpose, tenant_slug: str | None = None
    ) -> PrivacyRequestsPayload:
        found = await privacy_rights.object_to_processing(info.context, purpose.value, tenant_slug)
        return PrivacyRequestsPayload(requests=found)  # type: ignore[arg-type]

    @strawberry.mutation(description="Withdraw an objection.")
    async def withdraw_objection(
        self, info: Info, purpose: ObjectionPurpose, tenant_slug: str | None = None
    ) -> PrivacyRequestsPayload:
        found = await privacy_rights.object_to_processing(
            info.context, purpose.value, tenant_slug, withdraw=True
        )
        return PrivacyRequestsPayload(requests=found)  # type: ignore[arg-type]

    @strawberry.mutation(description="Approve (and carry out) or reject a request (tenant_admin).")
    async def resolve_privacy_request(
        self,
        info: Info,
        id: strawberry.ID,
        approve: bool,
        reason: str | None = None,
        legal_reference: str | None = None,
    ) -> PrivacyRequestPayload:
        request = await privacy_rights.resolve_request(
            info.context, id, approve=approve, reason=reason, legal_reference=legal_reference
        )
        return PrivacyRequestPayload(request=request)  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Extend the deadline by two months, once, telling the person why."
    )
    async def extend_privacy_request(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> PrivacyRequestPayload:
        request = await privacy_rights.extend_request(info.context, id, reason)
        return PrivacyRequestPayload(request=request)  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Withhold a booking's staff note from the person's copy (GDPR Art. 15(4)); "
        "the person is shown that a note was withheld and the reason."
    )
    async def withhold_staff_note(
        self, info: Info, booking_id: strawberry.ID, reason: str
    ) -> WithholdStaffNotePayload:
        booking = await resolvers_staff_notes.withhold_staff_note(info.context, booking_id, reason)
        return WithholdStaffNotePayload(
            booking_id=booking_id,
            withheld=booking.internal_notes_withheld is not None,
            withheld_reason=booking.internal_notes_withheld,
        )

    @strawberry.mutation(description="Restrict processing of a customer's data (Art. 18).")
    async def restrict_processing(
        self, info: Info, customer_id: strawberry.ID, reason: str
    ) -> RestrictionPayload:
        customer = await privacy_rights.set_restriction(
            info.context, customer_id, reason=reason, lift=False
        )
        return RestrictionPayload(customer=customer)  # type: ignore[arg-type]

    @strawberry.mutation(description="Lift a restriction; the person is told first (Art. 18(3)).")
    async def lift_restriction(self, info: Info, customer_id: strawberry.ID) -> RestrictionPayload:
        customer = await privacy_rights.set_restriction(
            info.context, customer_id, reason=None, lift=True
        )
        return RestrictionPayload(customer=customer)  # type: ignore[arg-type]
