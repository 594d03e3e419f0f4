"""The customer search index: every suffix of a customer's name, email and phone.

Each suffix is folded as the field's search condition compares it
(lower-cased for the name's ILIKE; the email as LIKE compares it on each
backend, see migration 0007) and cut to ``SEARCH_PART_LENGTH`` characters,
with the customer's name beside it. ``name ILIKE '%term%'`` holds exactly
when some suffix of lower(name) starts with lower(term), so the customers
matching a term are one index range per tenant (``part`` from the term up to
the term followed by the highest code point), already holding (name, id),
the order pages are cut in; a term longer than a part is narrowed by its
first ``SEARCH_PART_LENGTH`` characters and the original condition decides
(``resolvers.customer_search``).

The rows are written by triggers on ``customers`` (migration 0007), so every
write path keeps them in step, and go with the customer row (foreign key, and
a delete trigger on SQLite, where foreign keys are a per-connection pragma).
One table per field, so each holds one data category (``store.data_map``)
and a search stays limited to the fields the caller may read. ``part``
compares bytewise on PostgreSQL (collation "C"), as SQLite's BINARY does, so
a prefix is a range; ``name`` keeps the collation of ``customers.name``, so
it sorts as pages do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from store.models import Base

SEARCH_PART_LENGTH = 12
SEARCH_PART = String(SEARCH_PART_LENGTH).with_variant(
    String(SEARCH_PART_LENGTH, collation="C"), "postgresql"
)


class _CustomerSearchPart:
    """One suffix of one customer's field: the key of the index a search ranges over."""

    __tablename__: str

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[str] = mapped_column(SEARCH_PART, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            Index(f"ix_{cls.__tablename__}_lookup", "tenant_id", "part", "name", "customer_id"),
            {"sqlite_with_rowid": False},
        )


class CustomerSearchName(_CustomerSearchPart, Base):
    __tablename__ = "customer_search_name"


class CustomerSearchEmail(_CustomerSearchPart, Base):
    __tablename__ = "customer_search_email"


class CustomerSearchPhone(_CustomerSearchPart, Base):
    __tablename__ = "customer_search_phone"
