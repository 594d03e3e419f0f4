"""Erasure for a tenant's administrators: the GraphQL side of ``privacy.erasure``.

The static check has already refused every role but ``tenant_admin``; both
resolvers check again where the work happens. A customer outside the caller's
tenant, one that never existed and one already erased all answer ``NOT_FOUND``,
so erasing twice is harmless and reveals nothing.
"""

from __future__ import annotations

from authz.kernel import require, require_writer
from basics.errors import NotFound
from basics.ids import decode_id
from basics.principal import PrincipalKind
from privacy.erasure import erase_customer as erase
from privacy.erasure import plan_erasure
from privacy.erasure_receipt import ErasurePlan, ErasureReceipt
from privacy.flush import engine_of, flush_erased_pages
from resolvers.context import RequestContext
from store.engine import write_transaction


def _require_reader(ctx: RequestContext, field: str) -> str:
    """The caller's tenant id, if its roles may call ``Query.<field>``; otherwise ``FORBIDDEN``."""
    return require(
        ctx.principal, ctx.decisions, f"Query.{field}", kind=PrincipalKind.STAFF
    ).tenant_id


async def preview_erasure(ctx: RequestContext, customer_id: str) -> ErasurePlan:
    tenant_id = _require_reader(ctx, "previewErasure")
    key = decode_id("customerId", customer_id, "Customer")
    async with ctx.sessions() as session:
        plan = await plan_erasure(session, key, tenant_id, settings=ctx.settings)
    if plan is None:
        raise NotFound("Customer not found", field="customerId")
    return plan


async def erase_customer(ctx: RequestContext, customer_id: str) -> ErasureReceipt:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "eraseCustomer")
    key = decode_id("id", customer_id, "Customer")
    async with write_transaction(ctx.sessions) as tx:
        receipt = await erase(tx, key, tenant_id, actor=ctx.principal.actor, settings=ctx.settings)
    if not receipt.found:
        raise NotFound("Customer not found", field="id")
    await flush_erased_pages(engine_of(ctx.sessions))
    return receipt
