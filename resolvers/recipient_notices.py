"""Art. 19 notices for partner integrations: fetch the unacknowledged ones, acknowledge them.

A partner API key sees only the notices addressed to that key, never another
key's, even of the same tenant. The list works like a queue: acknowledged
notices drop out of it, so a partner fetches, processes, acknowledges, repeats.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from authz.kernel import owned_by, require
from basics.errors import BadUserInput
from basics.ids import decode_id
from basics.principal import PrincipalKind
from resolvers.context import RequestContext
from store.engine import write_transaction
from store.models import RecipientNotice
from store.types import utcnow


def _api_key(ctx: RequestContext, coordinate: str) -> tuple[str, str]:
    """The caller's (API key id, tenant id); only a partner key may use these fields."""
    caller = require(ctx.principal, ctx.decisions, coordinate, kind=PrincipalKind.PARTNER)
    return caller.api_key_id, caller.tenant_id


async def unacknowledged(ctx: RequestContext, first: int | None) -> list[RecipientNotice]:
    key_id, tenant_id = _api_key(ctx, "Query.recipientNotices")
    rows = await ctx.session.execute(
        select(RecipientNotice)
        .where(
            RecipientNotice.api_key_id == key_id,
            owned_by(RecipientNotice, tenant_id),
            RecipientNotice.delivered_at.is_(None),
        )
        .order_by(RecipientNotice.created_at, RecipientNotice.id)
        .limit(ctx.page_size(first))
    )
    return list(rows.scalars())


async def acknowledge(ctx: RequestContext, ids: Sequence[str]) -> list[RecipientNotice]:
    """Mark the caller's own notices among ``ids`` as received; others' ids are ignored.

    Acknowledging twice is harmless. An id that is not the caller's is simply
    not in the answer, exactly like an id that never existed.
    """
    key_id, tenant_id = _api_key(ctx, "Mutation.acknowledgeRecipientNotices")
    if len(ids) > ctx.settings.max_page_size:
        raise BadUserInput("ids", f"must hold at most {ctx.settings.max_page_size} ids")
    keys = sorted({decode_id("ids", given, "RecipientNotice") for given in ids})
    if not keys:
        return []
    now = utcnow()
    async with write_transaction(ctx.sessions) as tx:
        notices = list(
            (
                await tx.execute(
                    select(RecipientNotice)
                    .where(
                        RecipientNotice.id.in_(keys),
                        RecipientNotice.api_key_id == key_id,
                        owned_by(RecipientNotice, tenant_id),
                    )
                    .order_by(RecipientNotice.created_at, RecipientNotice.id)
                )
            ).scalars()
        )
        for notice in notices:
            if notice.delivered_at is None:
                notice.delivered_at = now
    return notices
