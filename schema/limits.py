"""Limits on the document, checked after parsing and before validation.

Depth, aliases, directives (known or not) and the estimated cost are checked
before validation, so a document built to overload the validator (hundreds of
unknown directives, say) is refused with one error instead of one per fault;
tokens are counted by Strawberry's parser limit, earlier still. An operation
above a limit is refused before any resolver runs.

Everything but the cost depends on the document text alone, so it is measured
once per document (:class:`DocumentMeasures`, kept in the schema's document
caches) and compared with the limits on every request: a cached document over
a limit is refused each time it comes, with a fresh error. The cost is planned
once per document too (``schema.cost_plan``) and finished with each request's
variables, so a page size given as a variable is always counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import DirectiveNode, DocumentNode, GraphQLSchema, Visitor, visit
from strawberry.extensions import SchemaExtension

from basics.errors import BadUserInput
from schema.caches import caches_of
from schema.cost_plan import Cost, evaluate, int_defaults, operation_costs
from schema.document_shape import alias_count, operation_depth


class _DirectiveCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, _node: DirectiveNode, *_args: Any) -> None:
        self.count += 1


def directive_count(document: DocumentNode) -> int:
    """Directives written anywhere in the document, known to the schema or not."""
    counter = _DirectiveCounter()
    visit(document, counter)
    return counter.count


@dataclass(frozen=True)
class DocumentMeasures:
    """What the limits look at, measured once per document.

    The walks stop early as they did when they ran per request: the depth is
    measured only up to the limit, and a document refused for its depth,
    aliases or directives is not planned for cost (``costs`` is ``None``).
    """

    depth: int
    aliases: int
    directives: int
    costs: tuple[Cost, ...] | None
    int_defaults: dict[str, int]


@dataclass(frozen=True)
class Limits:
    max_cost: int
    max_directives: int
    default_page: int
    max_depth: int
    max_aliases: int

    def measure(self, document: DocumentNode, schema: GraphQLSchema) -> DocumentMeasures:
        depth = operation_depth(document, self.max_depth)
        aliases = directives = 0
        costs: tuple[Cost, ...] | None = None
        if depth <= self.max_depth:
            aliases = alias_count(document)
            if aliases <= self.max_aliases:
                directives = directive_count(document)
                if directives <= self.max_directives:
                    costs = operation_costs(document, schema, self.default_page)
        return DocumentMeasures(depth, aliases, directives, costs, int_defaults(document))

    def refusal(
        self, measures: DocumentMeasures, variables: dict[str, Any] | None
    ) -> BadUserInput | None:
        """The first limit the document (with these variables) is over, as today's message."""
        if measures.depth > self.max_depth:
            return BadUserInput(
                "query", f"is nested more than {self.max_depth} levels deep (maximum depth)"
            )
        if measures.aliases > self.max_aliases:
            return BadUserInput(
                "query", f"uses {measures.aliases} aliases; the limit is {self.max_aliases}"
            )
        if measures.directives > self.max_directives:
            return BadUserInput(
                "query",
                f"uses {measures.directives} directives; the limit is {self.max_directives}",
            )
        values: dict[str, Any] = {**measures.int_defaults, **(variables or {})}
        for plan in measures.costs or ():
            cost = evaluate(plan, values)
            if cost > self.max_cost:
                return BadUserInput(
                    "query",
                    f"may touch about {cost} rows; the limit is {self.max_cost} "
                    "(ask for smaller pages or fewer nested lists)",
                )
        return None


class OperationLimits(SchemaExtension):
    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        """A refusal here stands in for validation's errors: validation is skipped."""
        if self.execution_context.pre_execution_errors is None:
            error = self._check()
            if error is not None:
                self.execution_context.pre_execution_errors = [error]
        yield

    def _check(self) -> BadUserInput | None:
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            return None
        return self.limits.refusal(self._measures(document), context.variables)

    def _measures(self, document: DocumentNode) -> DocumentMeasures:
        """The document's measures, from the cache when its text was measured before."""
        context = self.execution_context
        schema = context.schema._schema
        caches = caches_of(context)
        if caches is None or not context.query:
            return self.limits.measure(document, schema)
        # The limits decide where the walks stop, so they are part of the key.
        key = (context.query, self.limits)
        found = caches.measures.get(key)
        if found is None:
            found = self.limits.measure(document, schema)
            caches.measures.put(key, found)
        return found
