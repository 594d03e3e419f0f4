"""Per-document caches: parsing, validation and the static authorization check.

A client sends the same few documents over and over; parsing and validating
them was about 40 % of a lookup by id. Each cache is keyed by the document
text (and whatever else the cached answer depends on), is bounded (least
recently used entries go first) and counts its hits, so a key that never
repeats shows up as a zero hit rate instead of passing unnoticed.

The operation limits are checked on every request, against what is cached:
the depth, alias and directive counts and the cost plan of a document are
measured once (``schema.limits``) and compared with the limits each time; the
cost is finished with each request's variables. The token limit is part of the
parse cache's key (a document over it never parses, so it is never stored).
Validation remembers only a pass, of the standard rules and of the extra rules
(introspection off) together: a document that fails is validated again each
time, so it is refused every time with errors of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphql import DocumentNode, GraphQLError, specified_rules, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from basics.lru import LRU

V = TypeVar("V")

_STANDARD_RULES = frozenset(specified_rules)


@dataclass
class DocumentCaches:
    """The caches of one schema (one set of limits and one type system)."""

    documents: LRU[DocumentNode] = field(default_factory=LRU)
    # Only documents that passed the standard rules are stored: an invalid
    # document is validated again each time, and no error object is shared.
    valid: LRU[bool] = field(default_factory=LRU)
    static_checks: LRU[Any] = field(default_factory=LRU)
    # Compiled read plans (``resolvers.compiled``), per document and decisions.
    plans: LRU[Any] = field(default_factory=LRU)
    # What the operation limits measure (``schema.limits``), per document and limits.
    measures: LRU[Any] = field(default_factory=LRU)
    # Where the argument text check looks (``schema.input_text``), per document.
    argument_texts: LRU[Any] = field(default_factory=LRU)
    # Reads that passed every per-document check and compiled whole
    # (``schema.settled_reads``), per document and decisions.
    settled: LRU[Any] = field(default_factory=LRU)

    def clear(self) -> None:
        self.documents.clear()
        self.valid.clear()
        self.static_checks.clear()
        self.plans.clear()
        self.measures.clear()
        self.argument_texts.clear()
        self.settled.clear()


def caches_of(execution_context: Any) -> DocumentCaches | None:
    found = getattr(execution_context.schema, "document_caches", None)
    return found if isinstance(found, DocumentCaches) else None


class CachedParse(SchemaExtension):
    """Reuse the parsed document of a text parsed before with the same options."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        caches = caches_of(context)
        if caches is None or not context.query:
            yield
            return
        # The token limit is a parse option: it is part of the key.
        key = (context.query, tuple(sorted(context.parse_options.items())))
        cached = caches.documents.get(key)
        if cached is not None:
            context.graphql_document = cached
        yield
        if cached is None and context.graphql_document is not None:
            caches.documents.put(key, context.graphql_document)


class CachedValidation(SchemaExtension):
    """Validate a document once: a pass is remembered, a failure is not."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        caches = caches_of(context)
        document = context.graphql_document
        if (
            caches is None
            or document is None
            or not context.query
            or context.pre_execution_errors is not None
        ):
            yield
            return
        rules = tuple(context.validation_rules)
        # Every rule in force is part of the key: a pass under fewer rules
        # says nothing about a request that brings more (introspection off).
        key = (context.query, rules)
        if caches.valid.get(key) is not None:
            context.pre_execution_errors = []
            yield
            return
        standard = tuple(r for r in rules if r in _STANDARD_RULES)
        extra = tuple(r for r in rules if r not in _STANDARD_RULES)
        errors: list[GraphQLError] = (
            validate(context.schema._schema, document, extra) if extra else []
        )
        errors.extend(validate_document(context.schema._schema, document, standard))
        if not errors:
            caches.valid.put(key, True)
        context.pre_execution_errors = errors
        yield


def cached_static_check(
    execution_context: Any, key: tuple[Hashable, ...] | None, compute: Callable[[], V]
) -> V:
    """``compute()``, remembered under ``key`` for this schema (no key: not cacheable)."""
    caches = caches_of(execution_context)
    if caches is None or key is None:
        return compute()
    found = caches.static_checks.get(key)
    if found is None:
        found = compute()
        caches.static_checks.put(key, found)
    return found
