"""Input types. Server-set columns (tenant, creator, price, status) are never inputs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.file_uploads import Upload

from schema.enums import BookingChannel, BookingStatus, CreatedVia, DocumentKind


def provided(obj: object, renames: dict[str, str] | None = None) -> dict[str, Any]:
    """The fields the client actually sent (omitted ones are UNSET), by Python name."""
    renames = renames or {}
    return {
        renames.get(name, name): value
        for name, value in vars(obj).items()
        if value is not strawberry.UNSET
    }


@strawberry.input
class CreateCustomerInput:
    name: str
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    street: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    created_via: CreatedVia = CreatedVia.STAFF


@strawberry.input(description="Omitted fields stay as they are; null clears an optional field.")
class UpdateCustomerInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    street: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET


@strawberry.input
class CreateVehicleInput:
    owner_id: strawberry.ID | None = strawberry.UNSET
    registration: str | None = strawberry.UNSET
    vin: str | None = strawberry.UNSET
    make: str | None = strawberry.UNSET
    model: str | None = strawberry.UNSET
    first_registration_date: date | None = strawberry.UNSET


@strawberry.input(description="Omitted fields stay as they are; null clears an optional field.")
class UpdateVehicleInput:
    owner_id: strawberry.ID | None = strawberry.UNSET
    registration: str | None = strawberry.UNSET
    vin: str | None = strawberry.UNSET
    make: str | None = strawberry.UNSET
    model: str | None = strawberry.UNSET
    first_registration_date: date | None = strawberry.UNSET


@strawberry.input
class CreateBookingInput:
    customer_id: strawberry.ID
    service_id: strawberry.ID
    starts_at: datetime
    vehicle_id: strawberry.ID | None = None
    customer_notes: str | None = None
    internal_notes: str | None = None
    channel: BookingChannel = BookingChannel.PHONE
    overbook: bool = strawberry.field(
        default=False,
        description="Book even if the slot is full: tenant_admin only, audited. "
        "Other roles must leave it out.",
    )


@strawberry.input
class AddDocumentInput:
    kind: DocumentKind
    title: str
    file: Upload
    booking_id: strawberry.ID | None = None
    customer_id: strawberry.ID | None = None


@strawberry.input
class BookingFilter:
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    status: list[BookingStatus] | None = None
    customer_id: strawberry.ID | None = None
    vehicle_id: strawberry.ID | None = None
