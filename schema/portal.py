"""The data-subject portal and Art. 19 notices: login by one-time code, rectification.

``PortalQuery`` and ``PortalMutation`` are mixed into the root types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import Parent

from basics.ids import encode_id
from resolvers import recipient_notices, rectification, subject_login
from schema.context import Info
from schema.inputs import provided
from schema.types import Customer
from store import models


@strawberry.type
class RequestSubjectLoginPayload:
    accepted: bool = strawberry.field(
        description="Always true: the answer never tells whether the email is known."
    )


@strawberry.type
class VerifySubjectLoginPayload:
    token: str = strawberry.field(description="Bearer token of the data subject.")
    expires_at: datetime


@strawberry.input(
    description="Omitted fields stay as they are. A new email or phone is applied only "
    "after confirmRectification with the code sent to the new address."
)
class RectifyMyDataInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    street: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    tenant_slug: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Only the record at this business; omitted: every business you booked with.",
    )


@strawberry.type
class RectifyMyDataPayload:
    customers: list[Customer] = strawberry.field(description="Your records the change applies to.")
    changed_fields: list[str] = strawberry.field(description="Fields changed now.")
    pending_confirmation: list[str] = strawberry.field(
        description="email and/or phone: a code was sent to the new address; "
        "confirmRectification applies the change."
    )


@strawberry.type
class ConfirmRectificationPayload:
    customers: list[Customer]
    changed_fields: list[str]


@strawberry.input(description="Omitted fields stay as they are; null clears an optional field.")
class RectifyCustomerInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    street: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET


@strawberry.type
class RectifyCustomerPayload:
    customer: Customer
    changed_fields: list[str]


@strawberry.type(
    description="A change to personal data this partner key received earlier (GDPR Art. 19). "
    "It names the fields, never the values: read the customer again if still allowed."
)
class RecipientNotice:
    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, models.RecipientNotice)

    @strawberry.field
    def id(self, root: Parent[models.RecipientNotice]) -> strawberry.ID:
        return strawberry.ID(encode_id("RecipientNotice", root.id))

    @strawberry.field(description="RECTIFICATION, ERASURE or RESTRICTION.")
    def kind(self, root: Parent[models.RecipientNotice]) -> str:
        return root.kind

    @strawberry.field(
        description="The customer's global id as this key received it; the record may be gone."
    )
    def customer_id(self, root: Parent[models.RecipientNotice]) -> strawberry.ID:
        return strawberry.ID(root.customer_ref)

    @strawberry.field(
        description="Schema coordinates (Customer.city) of the changed fields this key received; "
        "empty when the notice concerns the whole record."
    )
    def fields(self, root: Parent[models.RecipientNotice]) -> list[str]:
        return list(root.fields)

    @strawberry.field
    def created_at(self, root: Parent[models.RecipientNotice]) -> datetime:
        return root.created_at

    @strawberry.field
    def acknowledged_at(self, root: Parent[models.RecipientNotice]) -> datetime | None:
        return root.delivered_at


@strawberry.type
class AcknowledgeRecipientNoticesPayload:
    notices: list[RecipientNotice] = strawberry.field(
        description="The caller's notices among the ids, now acknowledged; other ids are left out."
    )


@strawberry.type
class PortalQuery:
    @strawberry.field(
        description="Partner API keys: unacknowledged notices addressed to this key, oldest "
        "first (a queue: acknowledge them to get the next ones)."
    )
    async def recipient_notices(
        self, info: Info, first: int | None = None
    ) -> list[RecipientNotice]:
        rows = await recipient_notices.unacknowledged(info.context, first)
        return rows  # type: ignore[return-value]


@strawberry.type
class PortalMutation:
    @strawberry.mutation(
        description="Ask for a one-time code by email. The answer is the same whether or not "
        "the email belongs to anyone; a code is sent only to an email already on file."
    )
    async def request_subject_login(self, info: Info, email: str) -> RequestSubjectLoginPayload:
        await subject_login.request_login(info.context, email)
        return RequestSubjectLoginPayload(accepted=True)

    @strawberry.mutation(
        description="Trade the emailed code (valid 10 minutes, 5 attempts, once) for a "
        "data-subject token."
    )
    async def verify_subject_login(
        self, info: Info, email: str, code: str
    ) -> VerifySubjectLoginPayload:
        session = await subject_login.verify_login(info.context, email, code)
        return VerifySubjectLoginPayload(token=session.token, expires_at=session.expires_at)

    @strawberry.mutation(
        description="Correct your data (GDPR Art. 16) in every business you booked with, or "
        "one. Name and address apply at once; a new email or phone after confirmation."
    )
    async def rectify_my_data(self, info: Info, input: RectifyMyDataInput) -> RectifyMyDataPayload:
        done = await rectification.rectify_my_data(info.context, provided(input))
        return RectifyMyDataPayload(
            customers=done.customers,  # type: ignore[arg-type]
            changed_fields=done.changed_fields,
            pending_confirmation=done.pending_confirmation,
        )

    @strawberry.mutation(
        description="Apply a pending email or phone change with the code sent to the new "
        "address. After an email change, sign in again with the new address."
    )
    async def confirm_rectification(self, info: Info, code: str) -> ConfirmRectificationPayload:
        done = await rectification.confirm_rectification(info.context, code)
        return ConfirmRectificationPayload(
            customers=done.customers,  # type: ignore[arg-type]
            changed_fields=done.changed_fields,
        )

    @strawberry.mutation(
        description="Correct a customer's data on the person's request (GDPR Art. 16): "
        "audited, and partners that received the data are notified (Art. 19)."
    )
    async def rectify_customer(
        self, info: Info, id: strawberry.ID, input: RectifyCustomerInput
    ) -> RectifyCustomerPayload:
        done = await rectification.rectify_customer(info.context, id, provided(input))
        return RectifyCustomerPayload(
            customer=done.customers[0],  # type: ignore[arg-type]
            changed_fields=done.changed_fields,
        )

    @strawberry.mutation(description="Partner API keys: confirm receipt of notices.")
    async def acknowledge_recipient_notices(
        self, info: Info, ids: list[strawberry.ID]
    ) -> AcknowledgeRecipientNoticesPayload:
        rows = await recipient_notices.acknowledge(info.context, ids)
        return AcknowledgeRecipientNoticesPayload(notices=rows)  # type: ignore[arg-type]
