"""Runs a read operation's covered root fields through the compiled path.

After the static decisions (``FieldGuard``) and the limits, each root field
the planner covers is answered by one SQL statement; the others run through
the executor on a copy of the document that holds only them, and the two
answers are merged in the document's order. Plans are cached per (document,
operation, principal kind, role set, tenant, policy version).

An answer stays JSON text (``RawJSON``) all the way to the HTTP response when
the request came through the HTTP view (``RequestContext.raw_json``);
otherwise it is decoded into Python values like any other result.

With ``compiled_reads = "compare"`` the executor answers everything and the
compiled answers are only compared with it: any difference is logged and kept
in ``MISMATCHES`` (the test suite fails on one).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from basics.raw_json import RawJSON
from resolvers.compiled.access import Access
from resolvers.compiled.planner import OperationPlan, plan_operation
from resolvers.compiled.run import Fallback, RootRunner
from resolvers.context import RequestContext
from schema.caches import caches_of
from schema.limits import Limits
from schema.settled_reads import SettledRead, settled_key

logger = logging.getLogger("tenantgraph.compiled")

# (root field, compiled answer, executor answer) for every difference seen in "compare" mode.
MISMATCHES: list[tuple[str, Any, Any]] = []


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def _response_key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _without(
    document: DocumentNode, operation: OperationDefinitionNode, done: set[str]
) -> DocumentNode:
    """The document with the compiled root fields left out of ``operation``."""
    kept = tuple(
        s
        for s in operation.selection_set.selections
        if not (isinstance(s, FieldNode) and _response_key(s) in done)
    )
    reduced = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=kept, loc=operation.selection_set.loc),
        loc=operation.loc,
    )
    return DocumentNode(
        definitions=tuple(reduced if d is operation else d for d in document.definitions),
        loc=document.loc,
    )


class CompiledReads(SchemaExtension):
    _compiled_reads: dict[str, set[str]] | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: RequestContext = execution.context
        mode = context.settings.compiled_reads
        document = execution.graphql_document
        operation = _operation(document, execution.operation_name) if document else None
        if (
            mode == "off"
            or execution.result is not None
            or document is None
            or operation is None
            or operation.operation is not OperationType.QUERY
        ):
            yield
            return
        access = Access(context.principal, context.decisions, context.own_customer_ids)
        plan = self._plan(operation, document, access)
        raw_answers = await self._answers(plan, operation, access, compare=mode == "compare")
        if mode == "compare":
            yield
            self._compare(raw_answers)
            return
        answers: dict[str, Any] = dict(raw_answers)
        if not answers:
            yield
            return
        if not context.raw_json:
            answers = {key: answer.value() for key, answer in answers.items()}
        if len(answers) == len(plan.order):
            execution.result = ExecutionResult(data={k: answers[k] for k in plan.order})
            self._settle(operation, plan)
            yield
            return
        execution.graphql_document = _without(document, operation, set(answers))
        try:
            yield
        finally:
            execution.graphql_document = document
        result = execution.result
        if result is not None and result.data is not None:
            result.data = {k: answers[k] if k in answers else result.data[k] for k in plan.order}

    def _settle(self, operation: OperationDefinitionNode, plan: OperationPlan) -> None:
        """Remember a read that compiled whole, with what its per-document checks found.

        Only when every such check is on record as passed for this document:
        the static check denied nothing, the limits' measures and the argument
        text sources are cached. Then ``schema.settled_reads`` may answer its
        repeats.
        """
        execution = self.execution_context
        context: RequestContext = execution.context
        caches = caches_of(execution)
        limits = getattr(execution.schema, "limits", None)
        query = execution.query
        if caches is None or not isinstance(limits, Limits) or not query:
            return
        static = caches.static_checks.peek(settled_key(query, execution.operation_name, context))
        measures = caches.measures.peek((query, limits))
        sources = caches.argument_texts.peek(query)
        if static != [] or measures is None or sources is None:
            return
        # The name the client gave (None for a document's only operation), as
        # the lane will be asked with it.
        provided = getattr(execution, "_provided_operation_name", execution.operation_name)
        caches.settled.put(
            settled_key(query, provided, context), SettledRead(operation, plan, measures, sources)
        )

    def _plan(
        self, operation: OperationDefinitionNode, document: DocumentNode, access: Access
    ) -> OperationPlan:
        execution = self.execution_context
        principal = access.principal
        key = (
            "compiled",
            execution.query,
            execution.operation_name,
            principal.kind,
            principal.roles,
            principal.tenant_id,
            access.decisions.version,
        )
        caches = caches_of(execution)
        found = caches.plans.get(key) if caches is not None else None
        if found is None:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            found = plan_operation(execution.schema._schema, operation, fragments, access)
            if caches is not None:
                caches.plans.put(key, found)
        return found

    async def _answers(
        self,
        plan: OperationPlan,
        operation: OperationDefinitionNode,
        access: Access,
        *,
        compare: bool,
    ) -> dict[str, RawJSON]:
        if not plan.roots:
            return {}
        execution = self.execution_context
        context: RequestContext = execution.context
        schema = execution.schema._schema
        reads = {} if compare and context.partner_reads is not None else context.partner_reads
        runner = RootRunner.for_request(
            context, schema, operation, execution.variables, access, reads
        )
        if runner is None:
            return {}  # the executor reports bad variables
        answers: dict[str, RawJSON] = {}
        for key, root in plan.roots.items():
            try:
                answers[key] = await runner.run(root)
            except Fallback:
                continue
            except Exception:
                if compare:
                    raise
                logger.exception("compiled read of %s failed; the executor answers it", root.name)
                await context.session.rollback()
        self._compiled_reads = reads
        return answers

    def _compare(self, raw_answers: dict[str, RawJSON]) -> None:
        answers = {key: answer.value() for key, answer in raw_answers.items()}
        result = self.execution_context.result
        data = result.data if result is not None else None
        errors = (result.errors or []) if result is not None else []
        for key, answer in answers.items():
            expected = None if data is None else data.get(key)
            failed = [e.message for e in errors if e.path and e.path[0] == key]
            if answer != expected or failed:
                MISMATCHES.append((key, answer, failed or expected))
                logger.error("compiled answer of %s differs from the executor's", key)
        context: RequestContext = self.execution_context.context
        whole = answers and data is not None and len(answers) == len(data)
        if whole and (self._compiled_reads or {}) != (context.partner_reads or {}):
            MISMATCHES.append(("partner reads", self._compiled_reads, context.partner_reads))
            logger.error("compiled partner reads differ from the executor's")
