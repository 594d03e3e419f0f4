"""Rectification by the data subject (across businesses) and by a business's staff.

Values are validated exactly as ``createCustomer`` validates them (the same
helpers), and errors name ``input.<field>``. After a change commits, SQLite's
WAL is checkpointed and truncated, so the old values' page images go too. The
privacy rules (audit, Art. 19 notices, restriction, confirming new contact
details) live in ``privacy.rectification``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from authz.kernel import require, require_writer, row_in_reach
from basics.errors import BadUserInput, NotFound
from basics.ids import decode_id
from basics.principal import PrincipalKind
from privacy import codes
from privacy import rectification as rules
from privacy.flush import engine_of, flush_erased_pages
from resolvers.address_limits import code_limit, limit_by_address
from resolvers.context import RequestContext
from resolvers.customer_writes import customer_fields, require_contact
from store.engine import write_transaction
from store.models import Customer, Tenant


@dataclass
class Rectified:
    customers: list[Customer]
    changed_fields: list[str]
    pending_confirmation: list[str] = field(default_factory=list)


def _subject_email(ctx: RequestContext, mutation: str) -> str:
    """The verified email of the calling data subject; anyone else is FORBIDDEN."""
    return require(
        ctx.principal, ctx.decisions, f"Mutation.{mutation}", kind=PrincipalKind.SUBJECT
    ).email


def _validated(values: Mapping[str, Any]) -> dict[str, Any]:
    fields = customer_fields(values, "input")
    if not fields:
        raise BadUserInput("input", "names no field to change")
    return fields


async def rectify_my_data(ctx: RequestContext, values: Mapping[str, Any]) -> Rectified:
    """Correct the caller's records at once; a new email or phone waits for its code."""
    email = _subject_email(ctx, "rectifyMyData")
    values = dict(values)
    tenant_slug = values.pop("tenant_slug", None)
    if "email" in values and values["email"] is None:
        raise BadUserInput("input.email", "must not be null: it is the address you sign in with")
    fields = _validated(values)
    confirm = {c: fields.pop(c) for c in rules.CONFIRM_PURPOSES if fields.get(c) is not None}
    if confirm:  # a code goes to the new address: limited like a login
        await limit_by_address(ctx, "rectifyMyData", code_limit(ctx))
    signing_key = ctx.settings.signing_key()
    async with write_transaction(ctx.sessions) as tx:
        tenant_id: str | None = None
        if tenant_slug is not None:
            tenant_id = (
                await tx.execute(select(Tenant.id).where(Tenant.slug == tenant_slug))
            ).scalar_one_or_none()
        customers = (
            []
            if tenant_slug is not None and tenant_id is None
            else await rules.subject_customers(tx, email, tenant_id)
        )
        if not customers:
            field_name = "input.tenantSlug" if tenant_slug is not None else "input"
            raise NotFound("no customer record of yours was found", field=field_name)
        await rules.ensure_not_restricted(tx, customers)
        changed = await rules.rectify(
            tx,
            customers,
            fields,
            actor=ctx.principal.actor,
            journal_key=ctx.settings.erasure_journal_key(),
        )
        pending: list[str] = []
        for column, value in confirm.items():
            if all(getattr(c, column) == value for c in customers):
                continue
            await rules.request_contact_change(
                tx,
                signing_key,
                subject_email=email,
                column=column,
                value=value,
                tenant_id=tenant_id,
            )
            pending.append(rules.RECTIFIABLE[column])
    if changed:
        await flush_erased_pages(engine_of(ctx.sessions))
    return Rectified(customers, changed, pending)


async def confirm_rectification(ctx: RequestContext, code: str) -> Rectified:
    """Apply a pending email or phone change with the code sent to the new address."""
    email = _subject_email(ctx, "confirmRectification")
    await limit_by_address(ctx, "confirmRectification", code_limit(ctx))
    given = codes.normalise_code(code)
    if given is None:
        raise BadUserInput("code", f"must be the {codes.CODE_DIGITS} digits from the message")
    async with write_transaction(ctx.sessions) as tx:
        outcome = await rules.confirm_contact_change(
            tx,
            ctx.settings.signing_key(),
            subject_email=email,
            code=given,
            actor=ctx.principal.actor,
            journal_key=ctx.settings.erasure_journal_key(),
        )
    # Raised after the commit, so a wrong guess is counted.
    if outcome is None:
        raise BadUserInput("code", "is not valid (wrong, expired, already used or tried too often)")
    customers, changed = outcome
    if changed:
        await flush_erased_pages(engine_of(ctx.sessions))
    return Rectified(customers, changed)


async def rectify_customer(
    ctx: RequestContext, global_id: str, values: Mapping[str, Any]
) -> Rectified:
    """Staff correct one of their tenant's customers, with audit and recipient notices."""
    tenant_id = require_writer(ctx.principal, ctx.decisions, "rectifyCustomer")
    key = decode_id("id", global_id, "Customer")
    fields = _validated(values)
    async with write_transaction(ctx.sessions) as tx:
        customer = await row_in_reach(tx, Customer, key, tenant_id, lock=True)
        await rules.ensure_not_restricted(tx, [customer])
        require_contact(
            fields.get("email", customer.email), fields.get("phone", customer.phone), "input"
        )
        changed = await rules.rectify(
            tx,
            [customer],
            fields,
            actor=ctx.principal.actor,
            journal_key=ctx.settings.erasure_journal_key(),
        )
    if changed:
        await flush_erased_pages(engine_of(ctx.sessions))
    return Rectified([customer], changed)
