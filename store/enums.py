"""The value sets of stored columns: kinds, statuses, channels and request types.

Stored as plain strings (``store.models._enum``); the GraphQL enums mirror them.
"""

from __future__ import annotations

import enum


class TenantKind(enum.StrEnum):
    INSPECTION_STATION = "INSPECTION_STATION"
    WORKSHOP = "WORKSHOP"


class CreatedVia(enum.StrEnum):
    ONLINE = "ONLINE"
    PHONE = "PHONE"
    STAFF = "STAFF"


class BookingStatus(enum.StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


# Statuses that occupy a slot's capacity.
ACTIVE_BOOKING_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class BookingChannel(enum.StrEnum):
    ONLINE = "ONLINE"
    PHONE = "PHONE"
    STAFF = "STAFF"
    PARTNER = "PARTNER"


class DocumentKind(enum.StrEnum):
    INVOICE = "INVOICE"
    INSPECTION_REPORT = "INSPECTION_REPORT"
    OTHER = "OTHER"


class PrivacyRequestType(enum.StrEnum):
    ACCESS = "ACCESS"
    PORTABILITY = "PORTABILITY"
    RECTIFICATION = "RECTIFICATION"
    ERASURE = "ERASURE"
    RESTRICTION = "RESTRICTION"
    OBJECTION = "OBJECTION"


class PrivacyRequestStatus(enum.StrEnum):
    RECEIVED = "RECEIVED"
    VERIFIED = "VERIFIED"
    PENDING_CONTROLLER = "PENDING_CONTROLLER"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    PARTIALLY_COMPLETED = "PARTIALLY_COMPLETED"
    REJECTED = "REJECTED"


OPEN_REQUEST_STATUSES = (
    PrivacyRequestStatus.RECEIVED,
    PrivacyRequestStatus.VERIFIED,
    PrivacyRequestStatus.PENDING_CONTROLLER,
    PrivacyRequestStatus.IN_PROGRESS,
)
