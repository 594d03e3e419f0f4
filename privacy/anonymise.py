"""Carrying out an erasure plan: what anonymising, retaining and deleting do to the rows.

Column by column as ``DATA_MAP`` says (bookings: customer and vehicle links
and notes cleared, the reference replaced by a fresh random one; date,
service and price kept). Nothing that links a kept row to the person is left,
and no hash of a phone number, email, plate or VIN either.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Enum as SAEnum
from sqlalchemy import String, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authz.kernel import owned_by
from basics.ids import encode_id
from bookings.references import REFERENCE_ALPHABET as _REFERENCE_ALPHABET
from privacy.erasure_targets import Targets, mentions
from store.data_map import DATA_MAP, Erasure
from store.models import (
    Booking,
    BookingStatus,
    Customer,
    Document,
    OneTimeCode,
    OutboxMessage,
    PartnerRead,
    PrivacyRequest,
    RecipientNotice,
    Vehicle,
)
from store.types import new_id

NOTICE_KIND = "ERASURE"

# What an anonymised booking's reference becomes: random, so it links to nothing,
# and recognisable, so staff see at once that the booking was anonymised.
ANONYMOUS_REFERENCE_PREFIX = "ANON-"
# What a kept text column becomes when it happens to name the person.
SCRUBBED = "erased"


def _new_reference() -> str:
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{ANONYMOUS_REFERENCE_PREFIX}{chars}"


# Fresh values for the columns the data map says to REPLACE, by (table, column).
REPLACEMENTS: dict[tuple[str, str], Callable[[], str]] = {
    ("bookings", "reference"): _new_reference,
}


@dataclass(frozen=True)
class ColumnPlan:
    """What anonymising a row of one table does to its personal columns (from DATA_MAP)."""

    nulls: tuple[str, ...]
    replaced: tuple[str, ...]
    kept: tuple[str, ...]


def anonymisation_plan(table: str) -> ColumnPlan:
    """NULL, REPLACE and KEEP columns of ``table`` per DATA_MAP.

    Refuses a column the erasure cannot honour (RETAIN on a row that is not
    retained, or a REPLACE without a generator), so the data map can never
    promise more than this module does.
    """
    nulls: list[str] = []
    replaced: list[str] = []
    kept: list[str] = []
    for column, note in DATA_MAP[table].columns.items():
        if not note.personal:
            continue
        if note.erasure is Erasure.NULL:
            nulls.append(column)
        elif note.erasure is Erasure.REPLACE:
            if (table, column) not in REPLACEMENTS:
                raise RuntimeError(f"no replacement value generator for {table}.{column}")
            replaced.append(column)
        elif note.erasure is Erasure.KEEP:
            kept.append(column)
        else:
            raise RuntimeError(f"{table}.{column}: {note.erasure.value} on a row that is not kept")
    return ColumnPlan(tuple(nulls), tuple(replaced), tuple(kept))


async def _fresh_values(tx: AsyncSession, tenant_id: str, column: str, n: int) -> list[str]:
    """``n`` fresh values for a booking column, none in use in the tenant (they are unique)."""
    generate = REPLACEMENTS[("bookings", column)]
    attribute = getattr(Booking, column)
    chosen: list[str] = []
    while len(chosen) < n:
        candidates = {generate() for _ in range(n - len(chosen))} - set(chosen)
        taken = set(
            (
                await tx.execute(
                    select(attribute).where(
                        owned_by(Booking, tenant_id), attribute.in_(sorted(candidates))
                    )
                )
            ).scalars()
        )
        chosen += sorted(candidates - taken)
    return chosen


def _is_text(model: Any, column: str) -> bool:
    """Text columns (not enums, times or JSON): where a person's details could be typed."""
    column_type = getattr(model, column).type
    return isinstance(column_type, String) and not isinstance(column_type, SAEnum)


async def _scrub_kept_text(
    tx: AsyncSession,
    model: type[Booking] | type[PrivacyRequest],
    ids: Sequence[str],
    columns: Sequence[str],
    needles: Sequence[str],
) -> None:
    """Overwrite a kept text column that happens to name the person ("subject:<email>").

    The data map keeps these columns because they normally hold no personal
    value; this makes sure an identifier that slipped into one does not survive.
    """
    if not ids or not needles:
        return
    for column in (c for c in columns if _is_text(model, c)):
        attribute = getattr(model, column)
        rows = (await tx.execute(select(model.id, attribute).where(model.id.in_(ids)))).all()
        hits = [row[0] for row in rows if row[1] and mentions(row[1], needles)]
        if hits:
            await tx.execute(update(model).where(model.id.in_(hits)).values({column: SCRUBBED}))


def _notify_recipients(tx: AsyncSession, targets: Targets, now: datetime) -> None:
    """Art. 19: recipients are told before the record of what they received goes."""
    customer_ref = encode_id("Customer", targets.customer.id)
    for api_key_id, fields in sorted(targets.recipients().items()):
        tx.add(
            RecipientNotice(
                id=new_id(),
                tenant_id=targets.tenant.id,
                api_key_id=api_key_id,
                customer_ref=customer_ref,
                kind=NOTICE_KIND,
                fields=sorted(fields),
                created_at=now,
            )
        )


async def _anonymise_bookings(tx: AsyncSession, targets: Targets) -> None:
    # A future booking frees its slot before it loses its person.
    if targets.cancel_ids:
        await tx.execute(
            update(Booking)
            .where(Booking.id.in_(targets.cancel_ids))
            .values(status=BookingStatus.CANCELLED)
        )
    if not targets.booking_ids:
        return
    plan = anonymisation_plan("bookings")
    n = len(targets.booking_ids)
    fresh = {c: await _fresh_values(tx, targets.tenant.id, c, n) for c in plan.replaced}
    for index, booking_id in enumerate(targets.booking_ids):
        values: dict[str, Any] = dict.fromkeys(plan.nulls)
        values.update({c: fresh[c][index] for c in plan.replaced})
        await tx.execute(update(Booking).where(Booking.id == booking_id).values(values))
    await _scrub_kept_text(tx, Booking, targets.booking_ids, plan.kept, targets.identifiers)


async def _retain_documents(tx: AsyncSession, targets: Targets, now: datetime) -> None:
    """Retained documents stay exactly as issued (content, title, hash): only the
    service's own columns change: since when the document is held, until when (if
    it had no date yet), and the links to the customer and the booking, which go.
    The document keeps its booking's reference and amount, so it stands on its own
    in the books and the anonymised booking does not lead to it."""
    for doc_id, (_basis, until) in targets.retained.items():
        since_unset, until_unset = targets.retained_unset[doc_id]
        values: dict[str, Any] = {"customer_id": None, "booking_id": None}
        values.update(targets.retained_facts.get(doc_id, {}))
        if since_unset:
            values["retained_since"] = now
        if until_unset:
            values["retain_until"] = until
        await tx.execute(update(Document).where(Document.id == doc_id).values(values))


async def _delete_rows(tx: AsyncSession, targets: Targets) -> None:
    deletions: list[tuple[Any, Sequence[str]]] = [
        (Document, targets.deleted_document_ids),
        (Vehicle, targets.vehicle_ids),
        (OneTimeCode, targets.code_ids),
        (OutboxMessage, targets.outbox_ids),
        # The foreign key would cascade these; deleting them explicitly does not
        # depend on SQLite's per-connection foreign_keys pragma.
        (PartnerRead, [r for r, _k, _f in targets.partner_reads]),
    ]
    for model, ids in deletions:
        if ids:
            await tx.execute(delete(model).where(model.id.in_(ids)))


async def _anonymise_requests(tx: AsyncSession, targets: Targets) -> None:
    if not targets.request_ids:
        return
    plan = anonymisation_plan("privacy_requests")
    await tx.execute(
        update(PrivacyRequest)
        .where(PrivacyRequest.id.in_(targets.request_ids))
        .values(dict.fromkeys(plan.nulls))
    )
    await _scrub_kept_text(tx, PrivacyRequest, targets.request_ids, plan.kept, targets.identifiers)


async def apply(tx: AsyncSession, targets: Targets, now: datetime) -> None:
    """Carry out the plan, children before parents, in the caller's transaction."""
    _notify_recipients(tx, targets, now)
    await tx.flush()
    await _anonymise_bookings(tx, targets)
    await _retain_documents(tx, targets, now)
    await _delete_rows(tx, targets)
    await _anonymise_requests(tx, targets)
    await tx.execute(delete(Customer).where(Customer.id == targets.customer.id))
