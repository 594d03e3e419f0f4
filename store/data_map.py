"""The data map: every persisted column, what kind of data it holds and what erasure does to it.

This is the one place the privacy behaviour is derived from: the access
export, the erasure plan, the Art. 15(1) facts shown to a person, the Art. 30
record and the policy matrix's categories all read it. A test fails when a
column exists that is not annotated here, or an annotation names no column.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Category(enum.StrEnum):
    NAME = "name"
    CONTACT_EMAIL = "contact.email"
    CONTACT_PHONE = "contact.phone"
    CONTACT_ADDRESS = "contact.address"
    VEHICLE_REGISTRATION = "vehicle.registration"
    VEHICLE_VIN = "vehicle.vin"
    VEHICLE_DETAILS = "vehicle.details"
    BOOKING_DETAILS = "booking.details"
    FREE_TEXT = "free_text"
    DOCUMENT_CONTENT = "document.content"
    PRIVACY_STATE = "privacy.state"
    SUBJECT_LINK = "subject.link"
    IDENTIFIER = "record.identifier"
    NON_PERSONAL = "non_personal"


class Erasure(enum.StrEnum):
    """What erasure does to a column of a row that is kept (anonymised or retained)."""

    NULL = "null"  # set to NULL
    REPLACE = "replace"  # replaced by a fresh random value (an id-like key)
    KEEP = "keep"  # not personal once the row is unlinked; kept
    RETAIN = "retain"  # kept unaltered under a legal duty until the row's retention date


class RowErasure(enum.StrEnum):
    DELETE = "delete"  # the whole row goes
    ANONYMISE = "anonymise"  # the row stays, every personal column per its Erasure
    BY_KIND = "by_kind"  # documents: invoices retained, other kinds deleted
    KEEP = "keep"  # holds no personal values (ids, counts, keyed hashes)
    CASCADE = "cascade"  # removed with the row it belongs to


class Purpose(enum.StrEnum):
    BOOKING = "booking"
    BOOKKEEPING = "bookkeeping"
    INSPECTION = "inspection"
    SERVICE_REMINDERS = "service_reminders"
    PRIVACY_RIGHTS = "privacy_rights"
    SECURITY = "security"
    OPERATION = "operation"


PURPOSE_FACTS: dict[Purpose, tuple[str, str]] = {
    Purpose.BOOKING: (
        "To take, keep and carry out the booking the person made.",
        "GDPR Art. 6(1)(b): necessary for the contract with the person.",
    ),
    Purpose.BOOKKEEPING: (
        "To keep accounting records such as issued invoices.",
        "GDPR Art. 6(1)(c) and Art. 17(3)(b): the Danish Bookkeeping Act (bogføringsloven).",
    ),
    Purpose.INSPECTION: (
        "To document the vehicle inspection or workshop job.",
        "GDPR Art. 6(1)(b) and, for statutory inspections, Art. 6(1)(c).",
    ),
    Purpose.SERVICE_REMINDERS: (
        "To remind the person of the booking by SMS or email.",
        "GDPR Art. 6(1)(f): the business's legitimate interest; the person may object.",
    ),
    Purpose.PRIVACY_RIGHTS: (
        "To handle the person's requests under GDPR Art. 15-21.",
        "GDPR Art. 6(1)(c): the controller's duty to answer requests (Art. 12).",
    ),
    Purpose.SECURITY: (
        "To keep the data confidential, intact and available, and to show who did what.",
        "GDPR Art. 6(1)(c) and Art. 32 / Art. 5(2).",
    ),
    Purpose.OPERATION: ("To run the service.", "Not personal data."),
}

RETENTION_FACTS: dict[Purpose, str] = {
    Purpose.BOOKING: "Until the person asks for erasure or the business deletes the booking.",
    Purpose.BOOKKEEPING: "5 years from the end of the financial year of the invoice.",
    Purpose.INSPECTION: "Until erasure, or as long as the business's inspection duty requires.",
    Purpose.SERVICE_REMINDERS: "Until the booking has taken place or the person objects.",
    Purpose.PRIVACY_RIGHTS: "As long as needed to show the request was answered.",
    Purpose.SECURITY: "Kept without personal values; see the audit policy.",
    Purpose.OPERATION: "Not personal data.",
}


@dataclass(frozen=True)
class Annotation:
    category: Category
    erasure: Erasure
    purpose: Purpose

    @property
    def personal(self) -> bool:
        return self.category is not Category.NON_PERSONAL


@dataclass(frozen=True)
class TableMap:
    rows: RowErasure
    columns: dict[str, Annotation] = field(default_factory=dict)


def _a(category: Category, erasure: Erasure, purpose: Purpose) -> Annotation:
    return Annotation(category, erasure, purpose)


_NP = _a(Category.NON_PERSONAL, Erasure.KEEP, Purpose.OPERATION)
_ID = _a(Category.IDENTIFIER, Erasure.KEEP, Purpose.OPERATION)

DATA_MAP: dict[str, TableMap] = {
    "tenants": TableMap(
        RowErasure.KEEP,
        {
            c: _NP
            for c in (
                "id",
                "slug",
                "name",
                "kind",
                "description",
                "address",
                "contact_phone",
                "contact_email",
                "timezone",
                "opening_hours",
                "auto_approve_erasure",
                "report_retention_years",
                "created_at",
            )
        },
    ),
    "services": TableMap(
        RowErasure.KEEP,
        {
            c: _NP
            for c in (
                "id",
                "tenant_id",
                "name",
                "description",
                "duration_minutes",
                "price_ore",
                "capacity_per_slot",
                "active",
            )
        },
    ),
    "customers": TableMap(
        RowErasure.DELETE,
        {
            "id": _ID,
            "tenant_id": _NP,
            "name": _a(Category.NAME, Erasure.NULL, Purpose.BOOKING),
            "email": _a(Category.CONTACT_EMAIL, Erasure.NULL, Purpose.BOOKING),
            "phone": _a(Category.CONTACT_PHONE, Erasure.NULL, Purpose.BOOKING),
            "street": _a(Category.CONTACT_ADDRESS, Erasure.NULL, Purpose.BOOKING),
            "postal_code": _a(Category.CONTACT_ADDRESS, Erasure.NULL, Purpose.BOOKING),
            "city": _a(Category.CONTACT_ADDRESS, Erasure.NULL, Purpose.BOOKING),
            "created_via": _a(Category.BOOKING_DETAILS, Erasure.NULL, Purpose.BOOKING),
            "restricted_at": _a(Category.PRIVACY_STATE, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "restriction_reason": _a(Category.PRIVACY_STATE, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "objections": _a(Category.PRIVACY_STATE, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "former_identity_keys": _a(Category.IDENTIFIER, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "created_at": _a(Category.BOOKING_DETAILS, Erasure.NULL, Purpose.BOOKING),
            "updated_at": _a(Category.BOOKING_DETAILS, Erasure.NULL, Purpose.BOOKING),
        },
    ),
    # The search index's suffixes of a customer's name, email and phone, each
    # with the name pages sort by: the same data in pieces, written by
    # triggers and removed with the customer row.
    **{
        f"customer_search_{field}": TableMap(
            RowErasure.CASCADE,
            {
                "customer_id": _a(Category.SUBJECT_LINK, Erasure.NULL, Purpose.BOOKING),
                "tenant_id": _NP,
                "part": _a(category, Erasure.NULL, Purpose.BOOKING),
                "name": _a(Category.NAME, Erasure.NULL, Purpose.BOOKING),
            },
        )
        for field, category in (
            ("name", Category.NAME),
            ("email", Category.CONTACT_EMAIL),
            ("phone", Category.CONTACT_PHONE),
        )
    },
    "vehicles": TableMap(
        RowErasure.DELETE,
        {
            "id": _ID,
            "tenant_id": _NP,
            "owner_id": _a(Category.SUBJECT_LINK, Erasure.NULL, Purpose.BOOKING),
            "registration": _a(Category.VEHICLE_REGISTRATION, Erasure.NULL, Purpose.INSPECTION),
            "vin": _a(Category.VEHICLE_VIN, Erasure.NULL, Purpose.INSPECTION),
            "make": _a(Category.VEHICLE_DETAILS, Erasure.NULL, Purpose.INSPECTION),
            "model": _a(Category.VEHICLE_DETAILS, Erasure.NULL, Purpose.INSPECTION),
            "first_registration_date": _a(
                Category.VEHICLE_DETAILS, Erasure.NULL, Purpose.INSPECTION
            ),
            "created_at": _a(Category.VEHICLE_DETAILS, Erasure.NULL, Purpose.INSPECTION),
        },
    ),
    "bookings": TableMap(
        RowErasure.ANONYMISE,
        {
            "id": _ID,
            "tenant_id": _NP,
            "customer_id": _a(Category.SUBJECT_LINK, Erasure.NULL, Purpose.BOOKING),
            "vehicle_id": _a(Category.SUBJECT_LINK, Erasure.NULL, Purpose.BOOKING),
            "service_id": _a(Category.BOOKING_DETAILS, Erasure.KEEP, Purpose.BOOKING),
            "starts_at": _a(Category.BOOKING_DETAILS, Erasure.KEEP, Purpose.BOOKING),
            "ends_at": _a(Category.BOOKING_DETAILS, Erasure.KEEP, Purpose.BOOKING),
            "status": _a(Category.BOOKING_DETAILS, Erasure.KEEP, Purpose.BOOKING),
            # The person was given the reference: it would link the kept row back.
            "reference": _a(Category.SUBJECT_LINK, Erasure.REPLACE, Purpose.BOOKING),
            "customer_notes": _a(Category.FREE_TEXT, Erasure.NULL, Purpose.BOOKING),
            "internal_notes": _a(Category.FREE_TEXT, Erasure.NULL, Purpose.BOOKING),
            "internal_notes_withheld": _a(Category.FREE_TEXT, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "price_ore": _a(Category.BOOKING_DETAILS, Erasure.KEEP, Purpose.BOOKKEEPING),
            "channel": _a(Category.BOOKING_DETAILS, Erasure.KEEP, Purpose.BOOKING),
            "created_by": _a(Category.BOOKING_DETAILS, Erasure.KEEP, Purpose.SECURITY),
            "created_at": _a(Category.BOOKING_DETAILS, Erasure.KEEP, Purpose.BOOKING),
            "updated_at": _a(Category.BOOKING_DETAILS, Erasure.KEEP, Purpose.BOOKING),
        },
    ),
    "documents": TableMap(
        RowErasure.BY_KIND,
        {
            "id": _ID,
            "tenant_id": _NP,
            # A retained document loses both links: it stands on its own (reference, amount).
            "booking_id": _a(Category.SUBJECT_LINK, Erasure.NULL, Purpose.BOOKKEEPING),
            "customer_id": _a(Category.SUBJECT_LINK, Erasure.NULL, Purpose.BOOKKEEPING),
            "kind": _a(Category.BOOKING_DETAILS, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "title": _a(Category.DOCUMENT_CONTENT, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "issued_at": _a(Category.BOOKING_DETAILS, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "mime_type": _a(Category.BOOKING_DETAILS, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "size_bytes": _a(Category.BOOKING_DETAILS, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "sha256": _a(Category.DOCUMENT_CONTENT, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "content": _a(Category.DOCUMENT_CONTENT, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "retain_until": _a(Category.BOOKING_DETAILS, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "retained_since": _a(Category.PRIVACY_STATE, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "reference": _a(Category.BOOKING_DETAILS, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "amount_ore": _a(Category.BOOKING_DETAILS, Erasure.RETAIN, Purpose.BOOKKEEPING),
            "created_by": _a(Category.BOOKING_DETAILS, Erasure.RETAIN, Purpose.SECURITY),
            "created_at": _a(Category.BOOKING_DETAILS, Erasure.RETAIN, Purpose.BOOKKEEPING),
        },
    ),
    "api_keys": TableMap(
        RowErasure.KEEP,
        {
            c: _NP
            for c in (
                "id",
                "tenant_id",
                "role",
                "name",
                "prefix",
                "key_hash",
                "denial_style",
                "created_at",
                "last_used_at",
                "revoked_at",
            )
        },
    ),
    "casbin_rule": TableMap(
        RowErasure.KEEP, {c: _NP for c in ("id", "ptype", "v0", "v1", "v2", "v3", "v4", "v5")}
    ),
    "policy_state": TableMap(RowErasure.KEEP, {c: _NP for c in ("id", "version", "changed_at")}),
    "audit_events": TableMap(
        RowErasure.KEEP,
        {
            c: _a(Category.IDENTIFIER, Erasure.KEEP, Purpose.SECURITY)
            for c in (
                "id",
                "chain",
                "seq",
                "tenant_id",
                "occurred_at",
                "actor",
                "action",
                "entity_type",
                "entity_id",
                "fields",
                "details",
                "prev_hash",
                "hash",
            )
        },
    ),
    "audit_heads": TableMap(RowErasure.KEEP, {c: _NP for c in ("chain", "seq", "hash")}),
    "privacy_requests": TableMap(
        RowErasure.KEEP,
        {
            "id": _ID,
            "tenant_id": _NP,
            "customer_id": _a(Category.SUBJECT_LINK, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            **{
                c: _a(Category.PRIVACY_STATE, Erasure.KEEP, Purpose.PRIVACY_RIGHTS)
                for c in (
                    "type",
                    "status",
                    "received_at",
                    "due_at",
                    "extension_reason",
                    "resolved_at",
                    "rejection_reason",
                    "legal_reference",
                    "requested_by",
                    "parameters",
                    "outcome",
                )
            },
        },
    ),
    "one_time_codes": TableMap(
        RowErasure.DELETE,
        {
            "id": _ID,
            "purpose": _NP,
            "target_key": _a(Category.SUBJECT_LINK, Erasure.NULL, Purpose.SECURITY),
            "code_hash": _a(Category.IDENTIFIER, Erasure.NULL, Purpose.SECURITY),
            "expires_at": _NP,
            "attempts": _NP,
            "consumed_at": _NP,
            "payload": _a(Category.CONTACT_EMAIL, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "created_at": _NP,
        },
    ),
    "outbox": TableMap(
        RowErasure.DELETE,
        {
            "id": _ID,
            "channel": _NP,
            "recipient": _a(Category.CONTACT_EMAIL, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "subject": _a(Category.FREE_TEXT, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "body": _a(Category.FREE_TEXT, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "created_at": _NP,
            "sent_at": _NP,
        },
    ),
    "partner_reads": TableMap(
        RowErasure.CASCADE,
        {
            "id": _ID,
            "tenant_id": _NP,
            "customer_id": _a(Category.SUBJECT_LINK, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "api_key_id": _NP,
            "day": _a(Category.BOOKING_DETAILS, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "fields": _a(Category.BOOKING_DETAILS, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "first_read_at": _a(Category.BOOKING_DETAILS, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
            "last_read_at": _a(Category.BOOKING_DETAILS, Erasure.NULL, Purpose.PRIVACY_RIGHTS),
        },
    ),
    "recipient_notices": TableMap(
        RowErasure.KEEP,
        {
            "id": _ID,
            "tenant_id": _NP,
            "api_key_id": _NP,
            "customer_ref": _a(Category.IDENTIFIER, Erasure.KEEP, Purpose.PRIVACY_RIGHTS),
            "kind": _NP,
            "fields": _NP,
            "created_at": _NP,
            "delivered_at": _NP,
        },
    ),
    "erasure_journal": TableMap(
        RowErasure.KEEP,
        {
            "id": _ID,
            "tenant_id": _NP,
            "identity_keys": _a(Category.IDENTIFIER, Erasure.KEEP, Purpose.PRIVACY_RIGHTS),
            "customer_id": _a(Category.IDENTIFIER, Erasure.KEEP, Purpose.PRIVACY_RIGHTS),
            "erased_at": _NP,
            "request_id": _NP,
        },
    ),
    # An online booking in progress holds a slot, not a person: nothing typed
    # is stored until the booking is completed (then as customer and booking).
    "booking_drafts": TableMap(
        RowErasure.KEEP,
        {
            "id": _ID,
            "tenant_id": _NP,
            "service_id": _NP,
            "starts_at": _NP,
            "ends_at": _NP,
            "hold_expires_at": _NP,
            "expires_at": _NP,
            "completed_at": _NP,
            "created_at": _NP,
        },
    ),
    # Rate-limit counters: a keyed hash of the client address, for minutes.
    "rate_limit_windows": TableMap(
        RowErasure.KEEP,
        {
            "bucket": _NP,
            "client_key": _a(Category.IDENTIFIER, Erasure.KEEP, Purpose.SECURITY),
            "window_start": _NP,
            "hits": _NP,
        },
    ),
}


def annotation(table: str, column: str) -> Annotation:
    return DATA_MAP[table].columns[column]


def personal_columns(table: str) -> dict[str, Annotation]:
    return {c: a for c, a in DATA_MAP[table].columns.items() if a.personal}
