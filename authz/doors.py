"""The registry of doors: every HTTP route and how the kernel decides it.

A route that is not here does not exist as far as authorization is concerned,
and a test (``tests/test_door_registry.py``) fails when the application
serves one that is not declared, or declares one it does not serve. Root
GraphQL fields need no entry: the ``/graphql`` door decides each of them by
its policy coordinate (``Query.<field>`` / ``Mutation.<field>``) in the static
check and again in the field guard, and the same test calls every root field
as every role to prove it.
"""

from __future__ import annotations

from dataclasses import dataclass

# How a door is decided.
OPERATION = "operation"  # every selected field by the static check and the field guard
NO_DATA = "no data"  # answers nothing about any tenant or person (health, metrics)
# A page shell: the same template for every caller, no database read; the page
# fetches every datum from POST /graphql with the caller's own principal.
PAGE_SHELL = "page shell"


@dataclass(frozen=True)
class Door:
    path: str
    methods: frozenset[str]
    # OPERATION, NO_DATA, or the coordinate whose read decision the door applies.
    decided_as: str
    why: str


DOORS: tuple[Door, ...] = (
    Door(
        "/graphql",
        frozenset({"GET", "POST"}),
        OPERATION,
        "static check of every field before resolvers run, field guard per row and field; "
        "__typename for all, introspection per caller (authz.kernel)",
    ),
    Door(
        "/documents/{document_id}",
        frozenset({"GET"}),
        "Document.content",
        "the static decision of document { content }, the row reach, the field decision "
        "for the row's relation; partner reads recorded (resolvers/downloads.py)",
    ),
    Door("/healthz", frozenset({"GET"}), NO_DATA, "liveness: a constant answer"),
    Door("/readyz", frozenset({"GET"}), NO_DATA, "readiness: whether the database answers"),
    Door(
        "/metrics",
        frozenset({"GET"}),
        NO_DATA,
        "request counts and latencies by route and code; no tenant, person or value",
    ),
    Door("/", frozenset({"GET"}), PAGE_SHELL, "the front page"),
    Door("/book/{slug}", frozenset({"GET"}), PAGE_SHELL, "online booking; data via /graphql"),
    Door("/privacy", frozenset({"GET"}), PAGE_SHELL, "the data subject's portal"),
    Door("/privatliv", frozenset({"GET"}), PAGE_SHELL, "the portal, Danish address"),
    Door("/static", frozenset({"GET"}), NO_DATA, "the pages' scripts, styles and images"),
)


def door(path: str) -> Door | None:
    for found in DOORS:
        if found.path == path:
            return found
    return None
