"""The compiled path's only door to authorization: decisions, row reach, relations.

Kept narrow on purpose: field decisions per (type, field, relation), the row
reach of a model as a SQL predicate, and a row's relation to the caller from
the columns the statement returned. Nothing else in the compiled path decides.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.sql import visitors

from authz.decisions import Decisions
from authz.kernel import row_relation_by_keys
from authz.relations import possible_relations, relation_needs_subject
from authz.scope import row_scope, service_scope
from basics.principal import ROOT_RELATION, Action, Principal, PrincipalKind
from store.models import Base, Service


class Access:
    """What one caller may read, as the compiled path asks it."""

    def __init__(
        self, principal: Principal, decisions: Decisions, own_customer_ids: frozenset[str]
    ) -> None:
        self.principal = principal
        self.decisions = decisions
        self.own_customer_ids = own_customer_ids
        # Whether each row's tag must name the person it is about: to decide a
        # data subject's reach, and to note a partner's reads per person. For
        # staff the tenant decides, and a page then has a handful of distinct
        # tags to check instead of one per person on it.
        self.tags_subject = (
            relation_needs_subject(principal) or principal.kind is PrincipalKind.PARTNER
        )

    def may_query(self, root_field: str) -> bool:
        return self.decisions.allows(f"Query.{root_field}", Action.READ, ROOT_RELATION)

    def may_read_everywhere(self, type_name: str, field_name: str) -> bool:
        """Allowed whatever the row's relation: then no row needs a field check of its own."""
        return all(
            self.decisions.allows_field(type_name, field_name, relation)
            for relation in possible_relations(self.principal, type_name)
        )

    def reach(self, model: type[Base]) -> ColumnElement[bool]:
        """The row reach of ``model``, safe to nest inside other tables' subqueries.

        Subqueries inside the predicate are kept uncorrelated: nested under a
        statement that reads the same table, they must still mean the table
        itself, not the enclosing row.
        """
        if model is Service:
            predicate = service_scope(self.principal)
        else:
            predicate = row_scope(model, self.principal)  # type: ignore[arg-type]
        return visitors.replacement_traverse(predicate, {}, _uncorrelated)  # type: ignore[call-overload, no-any-return]

    def relation(self, type_name: str, tenant_id: str | None, subject_id: str | None) -> str | None:
        """The relation of a returned row, decided by the kernel from the row's keys."""
        return row_relation_by_keys(
            type_name, tenant_id, subject_id, self.principal, self.own_customer_ids
        )


def _uncorrelated(element: Any) -> Any:
    if isinstance(element, Select):
        return element.correlate(None)
    return None
