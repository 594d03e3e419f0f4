"""The relational model of tenantgraph.

Every tenant-owned table carries ``tenant_id`` and an index that starts with it,
so each tenant-scoped query is an index range scan. Primary keys are random
(``new_id``), never sequential, so they cannot be enumerated.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# The value enums live in store.enums; imported here as well, next to the tables storing them.
from store.enums import ACTIVE_BOOKING_STATUSES as ACTIVE_BOOKING_STATUSES
from store.enums import OPEN_REQUEST_STATUSES as OPEN_REQUEST_STATUSES
from store.enums import BookingChannel as BookingChannel
from store.enums import BookingStatus as BookingStatus
from store.enums import CreatedVia as CreatedVia
from store.enums import DocumentKind as DocumentKind
from store.enums import PrivacyRequestStatus as PrivacyRequestStatus
from store.enums import PrivacyRequestType as PrivacyRequestType
from store.enums import TenantKind as TenantKind
from store.types import UTCDateTime, new_id, utcnow


class Base(DeclarativeBase):
    pass


def _parent(target: str) -> Mapped[Any]:
    """A many-to-one link that is never loaded implicitly (``lazy="raise"``).

    It exists so the unit of work inserts parents before children in one
    flush; reads go through scoped DataLoaders instead.
    """
    return relationship(target, lazy="raise")


def _enum(cls: type[enum.StrEnum]) -> Enum:
    # Stored as plain strings with a CHECK-free VARCHAR so migrations stay simple.
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TenantKind] = mapped_column(_enum(TenantKind))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Copenhagen")
    # {"mon": [["07:00", "16:00"]], ..., "sun": []} in the tenant's local time.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Approve erasure requests without a tenant_admin's review.
    auto_approve_erasure: Mapped[bool] = mapped_column(default=False)
    # Years to keep inspection reports after an erasure (a tenant's legal or QA
    # duty); None means reports are deleted with the rest.
    report_retention_years: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (Index("ix_services_tenant_name", "tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    price_ore: Mapped[int] = mapped_column(Integer)
    capacity_per_slot: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(default=True)

    tenant: Mapped[Tenant] = _parent("Tenant")


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_tenant_name", "tenant_id", "name", "id"),
        Index("ix_customers_tenant_email", "tenant_id", "email"),
        Index("ix_customers_tenant_phone", "tenant_id", "phone"),
        Index("ix_customers_email", "email"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # Stored lower-case so a data subject is matched across tenants by index.
    email: Mapped[str | None] = mapped_column(String(254))
    # E.164.
    phone: Mapped[str | None] = mapped_column(String(20))
    street: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    created_via: Mapped[CreatedVia] = mapped_column(_enum(CreatedVia))
    # Art. 18: kept, visible to the tenant's staff, but not processed further.
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restriction_reason: Mapped[str | None] = mapped_column(String(500))
    # Art. 21: purposes the person objected to ("service_reminders", "marketing").
    objections: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Keyed hashes (erasure journal key) of every email and phone this record
    # had before a rectification, so a restored backup holding an old value is
    # still recognised as this person; see privacy/journal.py.
    former_identity_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tenant: Mapped[Tenant] = _parent("Tenant")


class Vehicle(Base):
    __tablename__ = "vehicles"
    __table_args__ = (
        Index("ix_vehicles_tenant_registration", "tenant_id", "registration", "id"),
        Index("ix_vehicles_owner", "owner_id"),
        Index("ix_vehicles_tenant_vin", "tenant_id", "vin"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    # Upper-case, no spaces: "AB12345".
    registration: Mapped[str | None] = mapped_column(String(10))
    vin: Mapped[str | None] = mapped_column(String(17))
    make: Mapped[str | None] = mapped_column(String(60))
    model: Mapped[str | None] = mapped_column(String(60))
    first_registration_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[Tenant] = _parent("Tenant")
    owner: Mapped[Customer | None] = _parent("Customer")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reference", name="uq_bookings_tenant_reference"),
        Index("ix_bookings_tenant_starts", "tenant_id", "starts_at", "id"),
        Index("ix_bookings_service_starts", "service_id", "starts_at"),
        # Free slots and capacity checks look for bookings ending after a time.
        Index("ix_bookings_service_ends", "service_id", "ends_at"),
        Index("ix_bookings_customer", "customer_id", "starts_at"),
        Index("ix_bookings_vehicle", "vehicle_id", "starts_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    vehicle_id: Mapped[str | None] = mapped_column(ForeignKey("vehicles.id", ondelete="SET NULL"))
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus))
    reference: Mapped[str] = mapped_column(String(16))
    customer_notes: Mapped[str | None] = mapped_column(Text)
    internal_notes: Mapped[str | None] = mapped_column(Text)
    # Why the staff note is withheld from the person's copy (GDPR Art. 15(4)); None: shown.
    internal_notes_withheld: Mapped[str | None] = mapped_column(String(500))
    price_ore: Mapped[int] = mapped_column(Integer)
    channel: Mapped[BookingChannel] = mapped_column(_enum(BookingChannel))
    # The principal that created the booking ("staff:<sub>", "apikey:<id>", ...): set by the server.
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tenant: Mapped[Tenant] = _parent("Tenant")
    customer: Mapped[Customer | None] = _parent("Customer")
    vehicle: Mapped[Vehicle | None] = _parent("Vehicle")
    service: Mapped[Service] = _parent("Service")


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_tenant_issued", "tenant_id", "issued_at", "id"),
        Index("ix_documents_booking", "booking_id", "issued_at"),
        Index("ix_documents_customer", "customer_id", "issued_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    booking_id: Mapped[str | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind))
    title: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mime_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    retain_until: Mapped[date | None] = mapped_column(Date)
    # Set when the person was erased but the document must be kept (an issued
    # invoice): from then on only the roles that must keep it may see it.
    retained_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a retained document loses its booking: the bookkeeping facts it
    # needs to stand on its own (the reference it was issued under, the amount).
    reference: Mapped[str | None] = mapped_column(String(32))
    amount_ore: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[Tenant] = _parent("Tenant")
    booking: Mapped[Booking | None] = _parent("Booking")
    customer: Mapped[Customer | None] = _parent("Customer")


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant", "tenant_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    # The public part of the key, used to find the row; the secret is only hashed.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    denial_style: Mapped[str] = mapped_column(String(16), default="reject")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tenant: Mapped[Tenant] = _parent("Tenant")


class PolicyRule(Base):
    """Casbin policy lines held in the database: the tenants' own grants.

    The platform policy lives in ``authz/policy.csv``; this table holds only
    lines in a tenant's domain, written through the Casbin adapter.
    """

    __tablename__ = "casbin_rule"
    __table_args__ = (Index("ix_casbin_rule_ptype_domain", "ptype", "v1"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ptype: Mapped[str] = mapped_column(String(255))
    v0: Mapped[str | None] = mapped_column(String(255))
    v1: Mapped[str | None] = mapped_column(String(255))
    v2: Mapped[str | None] = mapped_column(String(255))
    v3: Mapped[str | None] = mapped_column(String(255))
    v4: Mapped[str | None] = mapped_column(String(255))
    v5: Mapped[str | None] = mapped_column(String(255))

    def __str__(self) -> str:
        # The adapter parses this back as a CSV policy line.
        values = [self.ptype, self.v0, self.v1, self.v2, self.v3, self.v4, self.v5]
        return ", ".join(v for v in values if v is not None)


class PolicyState(Base):
    """One row: the version of the database-held policy, bumped on every change.

    Every server process polls it and reloads the grants when it moves.
    """

    __tablename__ = "policy_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """Who did what to whose data: ids, field names and counts, never values.

    Events are chained per tenant: each carries the hash of the previous one,
    so a changed or removed row breaks the chain (``tenantgraph audit verify``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("chain", "seq", name="uq_audit_events_chain_seq"),
        Index("ix_audit_events_tenant_time", "tenant_id", "occurred_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The tenant id, or "platform" for events outside any tenant.
    chain: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    tenant_id: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The newest event of each chain; updating it serialises appends per tenant."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class PrivacyRequest(Base):
    """A data subject's request to one business (the controller), with its deadline."""

    __tablename__ = "privacy_requests"
    __table_args__ = (
        Index("ix_privacy_requests_tenant_received", "tenant_id", "received_at", "id"),
        Index("ix_privacy_requests_customer", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # Cleared when the customer is erased; the request itself holds no personal data.
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    type: Mapped[PrivacyRequestType] = mapped_column(_enum(PrivacyRequestType))
    status: Mapped[PrivacyRequestStatus] = mapped_column(_enum(PrivacyRequestStatus))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    extension_reason: Mapped[str | None] = mapped_column(String(1000))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(1000))
    legal_reference: Mapped[str | None] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(100))
    # Type-specific parameters without personal values (e.g. the objected purpose).
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The erasure receipt or other outcome, by entity and count.
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    tenant: Mapped[Tenant] = _parent("Tenant")
    customer: Mapped[Customer | None] = _parent("Customer")


class OneTimeCode(Base):
    """A one-time code sent to a contact detail: subject login or confirming a new address."""

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_lookup", "purpose", "target_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    purpose: Mapped[str] = mapped_column(String(32))
    # Keyed hash of the normalised address the code was sent to.
    target_key: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For a rectification: which customer records change and to what (deleted on use).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(Base):
    """A message waiting for (or handed to) the sender: codes and notices to people."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PartnerRead(Base):
    """A partner integration received personal fields of a customer (Art. 15(1)(c) recipients)."""

    __tablename__ = "partner_reads"
    __table_args__ = (
        UniqueConstraint(
            "api_key_id", "customer_id", "day", name="uq_partner_reads_key_customer_day"
        ),
        Index("ix_partner_reads_customer", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecipientNotice(Base):
    """Art. 19: a partner that received a person's data must be told of a change to it."""

    __tablename__ = "recipient_notices"
    __table_args__ = (Index("ix_recipient_notices_key", "api_key_id", "delivered_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    # The customer's global id as the partner knew it; the row itself may be gone.
    customer_ref: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ErasureJournalEntry(Base):
    """Which identities were erased, by keyed hash only, to erase them again after a restore."""

    __tablename__ = "erasure_journal"
    __table_args__ = (Index("ix_erasure_journal_tenant", "tenant_id", "erased_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # HMAC of the normalised email / phone with a key kept outside the database.
    identity_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The erased customer row's id: a restored backup holds the row under the
    # same opaque id, whatever its email or phone were then.
    customer_id: Mapped[str | None] = mapped_column(String(32))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(32))


class BookingDraft(Base):
    """An unfinished online booking: the slot it holds, and nothing about the person.

    The ``tg_draft`` cookie carries only this row's random id (signed). While
    ``hold_expires_at`` lies ahead the draft counts against the slot's capacity;
    after that it simply stops counting. ``expires_at`` is when the draft itself
    (and the cookie) lapse; ``tenantgraph purge`` deletes the row then.
    """

    __tablename__ = "booking_drafts"
    __table_args__ = (
        Index("ix_booking_drafts_service_hold", "service_id", "hold_expires_at"),
        Index("ix_booking_drafts_expires", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hold_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the booking was made; the row stays until ``expires_at`` so a
    # replayed cookie is told the booking was already completed.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RateLimitWindow(Base):
    """One fixed-window counter of a rate limit, shared by every server process.

    ``client_key`` is a keyed hash of the client address, never the address.
    """

    __tablename__ = "rate_limit_windows"
    __table_args__ = (Index("ix_rate_limit_windows_start", "window_start"),)

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)


# The customer search index's tables, on Base.metadata with the rest (a plain
# import, so either module may be imported first).
import store.search_index  # noqa: E402, F401
