"""The statement's JSON text as the GraphQL answer, without decoding it.

Each object the statement writes opens with its reach tag,
``{"@r":[plan index, tenant id, subject id],`` (``sqlgen.REACH_KEY``). One
split of the text at the tags' opening finds every tagged row; each distinct
tag is checked against the caller's reach (the field guard's defence in
depth) and notes a partner's reads per customer, as the field guard notes
them; the tags are removed. What is left is the answer, byte for byte as the
database wrote it. (A plain split and a set of distinct tags cost less than
half of a regular-expression substitution calling back per row.)

A tag's opening cannot occur inside a string value: JSON escapes every quote
in a string, so ``{"`` only ever opens an object, and no response key of ours
can contain ``@``. A tag that is not exactly ``index, "tenant id", "subject
id" | null`` is out of reach.

A connection's rows arrive as result rows; the edges, cursors and page info
around them are written here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from authz.relations import possible_relations
from resolvers.compiled.access import Access
from resolvers.compiled.planner import ObjectPlan, RootPlan
from resolvers.pagination import cursor_for

# How each database writes a tag's opening and closing: PostgreSQL's
# json_build_object and json_build_array put spaces after ":" and ",".
COMPACT_TAG = ('{"@r":[', "],")
SPACED_TAG = ('{"@r" : [', "], ")
TAG_VALUE = re.compile(r'(\d+), ?"(\w+)", ?(?:"(\w+)"|null)')

# Fields of a person's rows that carry nothing about the person (as the field guard).
NOT_PERSONAL_FIELDS = frozenset({"id", "tenant", "service"})


class OutOfReach(Exception):
    """A row the caller has no relation to: the executor answers (and reports) it instead."""


def _personal_fields(plan: ObjectPlan) -> list[str]:
    return [
        f"{plan.type_name}.{field.name}"
        for field in plan.fields
        if field.name not in NOT_PERSONAL_FIELDS and not field.name.startswith("__")
    ]


# Joins a page's object texts for one pass of the pattern: a control character,
# which JSON text never holds unescaped, so it cannot occur inside any of them.
_SEPARATOR = "\x1e"


class AnswerWriter:
    """Checks and finishes the answers of one request's compiled root fields."""

    def __init__(self, access: Access, partner_reads: dict[str, set[str]] | None) -> None:
        self.access = access
        self.partner_reads = partner_reads
        self._expected: dict[str, tuple[str, ...]] = {}
        # Tags already checked in this request, as written: a page repeats the
        # same service, tenant and customers many times.
        self._seen: set[str] = set()

    def checked(self, root: RootPlan, text: str) -> str:
        """``text`` with every row's reach checked and its tag removed."""
        opening, closing = SPACED_TAG if text.startswith(SPACED_TAG[0]) else COMPACT_TAG
        if not text.startswith(opening) and SPACED_TAG[0] in text:
            opening, closing = SPACED_TAG
        parts = text.split(opening)
        kept = [parts[0]]
        seen = self._seen
        for part in parts[1:]:
            tag, closed, rest = part.partition(closing)
            if not closed:
                raise OutOfReach(text[:40])
            if tag not in seen:
                self._check_tag(root, tag)
                seen.add(tag)
            kept.append(rest)
        return "{".join(kept)

    def _check_tag(self, root: RootPlan, tag: str) -> None:
        match = TAG_VALUE.fullmatch(tag)
        if match is None:
            raise OutOfReach(tag[:40])
        index, tenant_id, subject_id = int(match[1]), match[2], match[3]
        objects = root.objects
        if index >= len(objects):
            raise OutOfReach(tag[:40])
        plan = objects[index]
        self._check_reach(plan.type_name, tenant_id, subject_id)
        if self.partner_reads is not None and subject_id is not None:
            personal = _personal_fields(plan)
            if personal:
                self.partner_reads.setdefault(subject_id, set()).update(personal)

    def _check_reach(self, type_name: str, tenant_id: str, subject_id: str | None) -> None:
        relation = self.access.relation(type_name, tenant_id, subject_id)
        expected = self._expected.get(type_name)
        if expected is None:
            expected = possible_relations(self.access.principal, type_name)
            self._expected[type_name] = expected
        if relation is None or relation not in expected:
            raise OutOfReach(type_name)

    def connection(self, root: RootPlan, rows: Sequence[Any], first: int, after: str | None) -> str:
        """The connection's JSON from the page's result rows (``sqlgen.page``)."""
        present = [row for row in rows if row.id is not None]
        has_next = len(present) > first
        present = present[:first]
        cursors = (
            [cursor_for(row.sort_value, row.id) for row in present] if root.edge_cursors else None
        )
        nodes: list[str | None] = [row.node for row in present]
        if present and nodes[0] is not None:
            joined = self.checked(root, _SEPARATOR.join(nodes))  # type: ignore[arg-type]
            nodes = list(joined.split(_SEPARATOR))
        parts: list[str] = []
        for wrapper in root.wrappers:
            key = json.dumps(wrapper.key)
            if wrapper.name == "__typename":
                parts.append(f"{key}:{json.dumps(root.connection_type)}")
            elif wrapper.name == "totalCount":
                parts.append(f"{key}:{int(rows[0].total)}")
            elif wrapper.name == "edges":
                edges = _edges(wrapper.fields, wrapper.type_name, cursors, nodes)
                parts.append(f"{key}:[{edges}]")
            else:
                info = {
                    "hasNextPage": has_next,
                    "hasPreviousPage": after is not None,
                    "startCursor": _cursor(present, 0, cursors),
                    "endCursor": _cursor(present, -1, cursors),
                    "__typename": wrapper.type_name,
                }
                chosen = {name: info[field] for name, field in wrapper.fields}
                parts.append(f"{key}:{json.dumps(chosen, separators=(',', ':'))}")
        return "{" + ",".join(parts) + "}"


def _cursor(present: Sequence[Any], index: int, cursors: list[str] | None) -> str | None:
    """The cursor of the page's row at ``index``, made now if the edges did not need them."""
    if not present:
        return None
    if cursors is not None:
        return cursors[index]
    row = present[index]
    return cursor_for(row.sort_value, row.id)


def _edges(
    fields: list[tuple[str, str]],
    type_name: str,
    cursors: list[str] | None,
    nodes: list[str | None],
) -> str:
    """The edges' JSON: each asked field under its key, in the selection's order."""
    typename = json.dumps(type_name)
    keys = [(json.dumps(key) + ":", name) for key, name in fields]
    edges = []
    for index, node in enumerate(nodes):
        parts = []
        for key, name in keys:
            if name == "cursor":
                assert cursors is not None  # made whenever an edge asks for its cursor
                cursor = cursors[index]
                # base64url: nothing in a cursor needs escaping in JSON.
                parts.append(f'{key}"{cursor}"')
            elif name == "node":
                parts.append(key + ("null" if node is None else node))
            else:
                parts.append(key + typename)
        edges.append("{" + ",".join(parts) + "}")
    return ",".join(edges)
