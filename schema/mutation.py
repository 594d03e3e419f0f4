"""The root mutation type: each mutation returns a payload type."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from starlette.datastructures import UploadFile

from resolvers import booking_writes, customer_writes, document_writes
from schema.admin import AdminMutation, ApiKeyMutation
from schema.context import Info
from schema.erasure import ErasureMutation
from schema.inputs import (
    AddDocumentInput,
    CreateBookingInput,
    CreateCustomerInput,
    CreateVehicleInput,
    UpdateCustomerInput,
    UpdateVehicleInput,
    provided,
)
from schema.online_booking import OnlineBookingMutation
from schema.portal import PortalMutation
from schema.privacy import PrivacyMutation
from schema.types import Booking, Customer, Document, Vehicle
from store import models


@strawberry.type
class CustomerPayload:
    customer: Customer


@strawberry.type
class VehiclePayload:
    vehicle: Vehicle


@strawberry.type
class BookingPayload:
    booking: Booking


@strawberry.type
class DocumentPayload:
    document: Document


@strawberry.type
class Mutation(
    ErasureMutation,
    PortalMutation,
    PrivacyMutation,
    OnlineBookingMutation,
    AdminMutation,
    ApiKeyMutation,
):
    @strawberry.mutation
    async def create_customer(self, info: Info, input: CreateCustomerInput) -> CustomerPayload:
        values = provided(input)
        created_via = models.CreatedVia(values.pop("created_via"))
        customer = await customer_writes.create_customer(info.context, values, created_via)
        return CustomerPayload(customer=customer)  # type: ignore[arg-type]

    @strawberry.mutation
    async def update_customer(
        self, info: Info, id: strawberry.ID, input: UpdateCustomerInput
    ) -> CustomerPayload:
        customer = await customer_writes.update_customer(info.context, id, provided(input))
        return CustomerPayload(customer=customer)  # type: ignore[arg-type]

    @strawberry.mutation
    async def create_vehicle(self, info: Info, input: CreateVehicleInput) -> VehiclePayload:
        vehicle = await customer_writes.create_vehicle(info.context, provided(input))
        return VehiclePayload(vehicle=vehicle)  # type: ignore[arg-type]

    @strawberry.mutation
    async def update_vehicle(
        self, info: Info, id: strawberry.ID, input: UpdateVehicleInput
    ) -> VehiclePayload:
        vehicle = await customer_writes.update_vehicle(info.context, id, provided(input))
        return VehiclePayload(vehicle=vehicle)  # type: ignore[arg-type]

    @strawberry.mutation(description="Book a slot for a customer; refused when the slot is full.")
    async def create_booking(self, info: Info, input: CreateBookingInput) -> BookingPayload:
        booking = await booking_writes.create_booking(
            info.context,
            customer_id=input.customer_id,
            service_id=input.service_id,
            starts_at=input.starts_at,
            vehicle_id=input.vehicle_id,
            customer_notes=input.customer_notes,
            internal_notes=input.internal_notes,
            channel=models.BookingChannel(input.channel),
            overbook=input.overbook,
        )
        return BookingPayload(booking=booking)  # type: ignore[arg-type]

    @strawberry.mutation
    async def reschedule_booking(
        self, info: Info, id: strawberry.ID, starts_at: datetime
    ) -> BookingPayload:
        booking = await booking_writes.reschedule_booking(info.context, id, starts_at)
        return BookingPayload(booking=booking)  # type: ignore[arg-type]

    @strawberry.mutation(description="Cancel a booking; cancelling twice is harmless.")
    async def cancel_booking(self, info: Info, id: strawberry.ID) -> BookingPayload:
        booking = await booking_writes.cancel_booking(info.context, id)
        return BookingPayload(booking=booking)  # type: ignore[arg-type]

    @strawberry.mutation(description="Upload a document (GraphQL multipart request spec).")
    async def add_document(self, info: Info, input: AddDocumentInput) -> DocumentPayload:
        upload = cast(UploadFile, input.file)
        content = await upload.read(info.context.settings.max_upload_bytes + 1)
        document = await document_writes.add_document(
            info.context,
            kind=models.DocumentKind(input.kind),
            title=input.title,
            content=content,
            declared_mime_type=getattr(upload, "content_type", None),
            booking_id=input.booking_id,
            customer_id=input.customer_id,
        )
        return DocumentPayload(document=document)  # type: ignore[arg-type]
