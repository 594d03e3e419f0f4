"""Who is calling: the principal every decision and every query scope starts from."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

STAFF_ROLES = frozenset({"tenant_admin", "staff", "inspector"})
PARTNER_ROLES = frozenset({"partner_accounting", "partner_reminders"})
SUBJECT_ROLE = "subject"
PLATFORM_ROLE = "platform_admin"
ANONYMOUS_ROLE = "anonymous"


class PrincipalKind(enum.StrEnum):
    STAFF = "STAFF"
    PARTNER = "PARTNER"
    SUBJECT = "SUBJECT"
    PLATFORM = "PLATFORM"
    ANONYMOUS = "ANONYMOUS"


class Action(enum.StrEnum):
    """What a policy line allows on a schema coordinate."""

    READ = "read"
    WRITE = "write"


class Relation(enum.StrEnum):
    """How a row relates to the caller, the third part of every policy request."""

    TENANT = "tenant"  # the row belongs to the caller's tenant
    SELF = "self"  # the row belongs to the calling data subject
    PUBLIC = "public"  # any other row, and the root fields, which belong to no row


# Root fields and mutations are decided with this relation: they belong to no row.
ROOT_RELATION = Relation.PUBLIC


class DenialStyle(enum.StrEnum):
    REJECT = "reject"
    PARTIAL = "partial"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``tenant_id`` is set for staff and partners only; ``email`` only for a data
    subject, whose rows are matched across tenants through that verified address.
    """

    kind: PrincipalKind
    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)
    tenant_id: str | None = None
    tenant_slug: str | None = None
    email: str | None = None
    api_key_id: str | None = None
    denial_style: DenialStyle = DenialStyle.REJECT

    @property
    def actor(self) -> str:
        """How the principal is recorded in ``created_by`` columns and audit events.

        A data subject is recorded as ``subject:self``, never by email: the
        audit trail outlives an erasure and must hold no personal values; the
        event's entity says whose record it was.
        """
        if self.api_key_id:
            return f"apikey:{self.api_key_id}"
        if self.kind is PrincipalKind.SUBJECT:
            return "subject:self"
        return f"{self.kind.value.lower()}:{self.subject}"

    @property
    def is_tenant_member(self) -> bool:
        return self.kind in (PrincipalKind.STAFF, PrincipalKind.PARTNER)

    def has_any_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


ANONYMOUS = Principal(
    kind=PrincipalKind.ANONYMOUS, subject="anonymous", roles=frozenset({ANONYMOUS_ROLE})
)
