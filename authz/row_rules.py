"""Row rules from the policy files: document kinds, retained rows and purposes per role.

Field rules say which fields of a row a role may read; row rules say which rows
a role holds at all. They are policy lines like the field rules (in
``policy.d/rows.csv``), so ``tenantgraph policy explain`` names the line that
decided and the matrix shows them. Only the platform files count: a tenant's
database lines may only allow reads of fields, so a tenant cannot widen them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

import casbin

from authz.decisions import PLATFORM_DOMAIN, new_enforcer
from store.models import DocumentKind

HOLD = "hold"
ADD = "add"
SERVE = "serve"
ROWS_PREFIX = "rows:"
RETAINED_DOCUMENTS = "rows:Document.retained"
PURPOSE_PREFIX = "rows:Purpose."


def document_kind_object(kind: DocumentKind) -> str:
    return f"rows:Document.kind.{kind.value}"


def purpose_object(purpose: str) -> str:
    return f"{PURPOSE_PREFIX}{purpose}"


@dataclass(frozen=True)
class RowRules:
    """What one role set holds under one relation (``tenant`` or ``self``)."""

    # None: every kind; otherwise the kinds it holds (possibly none).
    document_kinds: frozenset[DocumentKind] | None
    # The kinds it may add (addDocument), possibly none.
    addable_kinds: frozenset[DocumentKind]
    keeps_retained: bool
    purposes: frozenset[str]


_lock = threading.Lock()


@cache
def _platform() -> casbin.Enforcer:
    return new_enforcer()


def _allows(roles: frozenset[str], obj: str, action: str, relation: str) -> bool:
    enforcer = _platform()
    with _lock:
        return any(
            bool(enforcer.enforce(role, PLATFORM_DOMAIN, obj, action, relation)) for role in roles
        )


def known_purposes() -> tuple[str, ...]:
    """Every purpose some role serves, as named in the policy files."""
    enforcer = _platform()
    with _lock:
        lines = enforcer.get_policy()
    return tuple(
        sorted(
            {line[2][len(PURPOSE_PREFIX) :] for line in lines if line[2].startswith(PURPOSE_PREFIX)}
        )
    )


@cache
def row_rules(roles: frozenset[str], relation: str) -> RowRules:
    """The row rules of a role set, computed once per process (the platform files are fixed)."""
    kinds = frozenset(
        kind for kind in DocumentKind if _allows(roles, document_kind_object(kind), HOLD, relation)
    )
    return RowRules(
        document_kinds=None if kinds == frozenset(DocumentKind) else kinds,
        addable_kinds=frozenset(
            kind
            for kind in DocumentKind
            if _allows(roles, document_kind_object(kind), ADD, relation)
        ),
        keeps_retained=_allows(roles, RETAINED_DOCUMENTS, HOLD, relation),
        purposes=frozenset(
            p for p in known_purposes() if _allows(roles, purpose_object(p), SERVE, relation)
        ),
    )
