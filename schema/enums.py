"""GraphQL enums: the stored enums themselves, registered with Strawberry.

``strawberry.enum`` marks the class in place, so resolvers hand out stored
values unchanged and the two can never drift.
"""

from __future__ import annotations

import strawberry

from store.models import (
    BookingChannel,
    BookingStatus,
    CreatedVia,
    DocumentKind,
    TenantKind,
)

strawberry.enum(TenantKind)
strawberry.enum(CreatedVia, description="How a customer record came to exist.")
strawberry.enum(BookingStatus)
strawberry.enum(BookingChannel, description="Where a booking was made.")
strawberry.enum(DocumentKind)

__all__ = ["BookingChannel", "BookingStatus", "CreatedVia", "DocumentKind", "TenantKind"]
