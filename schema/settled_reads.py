"""Repeat reads that compiled whole, answered without the per-operation pipeline.

A read is *settled* once it has run through the whole pipeline (parse, the
limits, validation, the static authorization check, the argument text check)
and every one of its root fields compiled (``schema.compiled_reads``), for one
(document, operation, principal kind, role set, tenant, policy version). Every
check that depends only on those has then passed and cannot answer otherwise
until one of them changes, and each is a key part. What depends on the request
is done again here, each as its extension does it: the cost limit and the
argument text check with this request's variables, the variables' coercion,
the compiled statements with the caller's row reach, the reach check of every
row, and, at the end, the partner-read record, the log facts and the session.

Anything unusual (a variable the executor would refuse, a limit, a root field
that falls back, an error) returns ``None``, and the request runs through the
whole pipeline, which answers or refuses it in its own words. So the lane can
only answer what the pipeline would have answered identically; the compare
mode and ``tests/test_settled_reads.py`` check that it does.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from graphql import OperationDefinitionNode
from strawberry.types import ExecutionResult

from basics.raw_json import RawJSON
from basics.request_facts import note_request
from resolvers.compiled.access import Access
from resolvers.compiled.planner import OperationPlan
from resolvers.compiled.run import Fallback, RootRunner
from resolvers.context import RequestContext
from schema.caches import DocumentCaches
from schema.input_text import Source, first_problem
from schema.limits import DocumentMeasures, Limits

logger = logging.getLogger("tenantgraph.compiled")


@dataclass(frozen=True)
class SettledRead:
    """A read whose every per-document check passed and whose every root field compiled."""

    operation: OperationDefinitionNode
    plan: OperationPlan
    measures: DocumentMeasures
    argument_sources: tuple[Source, ...]


def settled_key(
    query: str, operation_name: str | None, context: RequestContext
) -> tuple[Hashable, ...]:
    """What every per-document check of a read depends on (as the static check's key)."""
    principal = context.principal
    return (
        query,
        operation_name,
        principal.kind,
        principal.roles,
        principal.tenant_id,
        context.decisions.version,
    )


async def answer_settled(
    caches: DocumentCaches,
    limits: Limits,
    graphql_schema: Any,
    context: RequestContext,
    query: str | None,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> tuple[ExecutionResult, SettledRead] | None:
    """The answer of a settled read, or ``None``: then the whole pipeline answers."""
    if not query or context.settings.compiled_reads != "on":
        return None
    settled: SettledRead | None = caches.settled.get(settled_key(query, operation_name, context))
    if settled is None:
        return None
    given = dict(variables or {})
    if limits.refusal(settled.measures, given) is not None:
        return None
    if first_problem(settled.argument_sources, given) is not None:
        return None
    reads: dict[str, set[str]] | None = {} if context.partner_reads is not None else None
    access = Access(context.principal, context.decisions, context.own_customer_ids)
    runner = RootRunner.for_request(
        context, graphql_schema, settled.operation, given, access, reads
    )
    if runner is None:
        return None
    answers: dict[str, RawJSON] = {}
    for key, root in settled.plan.roots.items():
        try:
            answers[key] = await runner.run(root)
        except Fallback:
            return None
        except Exception:
            logger.exception("settled read of %s failed; the pipeline answers it", root.name)
            await context.session.rollback()
            return None
    if reads and context.partner_reads is not None:
        for customer_id, fields in reads.items():
            context.partner_reads.setdefault(customer_id, set()).update(fields)
    order = settled.plan.order
    if context.raw_json:
        return ExecutionResult(data={key: answers[key] for key in order}, errors=None), settled
    return ExecutionResult(data={key: answers[key].value() for key in order}, errors=None), settled


async def finish_settled(context: RequestContext, operation: OperationDefinitionNode) -> None:
    """What the extensions do as an operation ends, in their order.

    ``FieldGuard`` records a partner's reads, ``ErrorCodes`` notes the log
    facts (a settled read has no errors), ``CloseSession`` closes the session.
    """
    try:
        await context.record_partner_reads()
        if context.request is not None:
            note_request(
                context.request.scope,
                operation=operation.name.value if operation.name else None,
                operation_type="query",
                error_codes=[],
            )
    finally:
        await context.session.close()
