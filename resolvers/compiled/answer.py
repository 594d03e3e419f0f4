"""The statement's JSON text as the GraphQL answer, without decoding it.

Each object the statement writes opens with its reach tag,
``{"@r":[plan index, tenant id, subject id],`` (``sqlgen.REACH_KEY``). One
regular-expression pass over the text checks every tagged row against the
caller's reach (the field guard's defence in depth), notes a partner's reads
per customer, as the field guard notes them, and removes the tag. What is left
is the answer, byte for byte as the database wrote it.

The pattern cannot match inside a string value: JSON escapes every quote in
a string, so ``{"`` only ever opens an object, and no response key of ours
can contain ``@``.

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

REACH_TAG = re.compile(r'\{"@r" ?: ?\[(\d+), ?"(\w+)", ?(?:"(\w+)"|null)\], ?')

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


class AnswerWriter:
    """Checks and finishes the answers of one request's compiled root fields."""

    def __init__(self, access: Access, partner_reads: dict[str, set[str]] | None) -> None:
        self.access = access
        self.partner_reads = partner_reads
        self._expected: dict[str, tuple[str, ...]] = {}

    def checked(self, root: RootPlan, text: str) -> str:
        """``text`` with every row's reach checked and its tag removed."""
        objects = root.objects

        def untag(match: re.Match[str]) -> str:
            index, tenant_id, subject_id = int(match[1]), match[2], match[3]
            if index >= len(objects):
                raise OutOfReach(text[:40])
            plan = objects[index]
            self._check_reach(plan.type_name, tenant_id, subject_id)
            if self.partner_reads is not None and subject_id is not None:
                personal = _personal_fields(plan)
                if personal:
                    self.partner_reads.setdefault(subject_id, set()).update(personal)
            return "{"

        return REACH_TAG.sub(untag, text)

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
        cursors = [cursor_for(row.sort_value, row.id) for row in present]
        parts: list[str] = []
        for wrapper in root.wrappers:
            key = json.dumps(wrapper.key)
            if wrapper.name == "__typename":
                parts.append(f"{key}:{json.dumps(root.connection_type)}")
            elif wrapper.name == "totalCount":
                parts.append(f"{key}:{int(rows[0].total)}")
            elif wrapper.name == "edges":
                edges = (
                    self._edge(root, wrapper.fields, wrapper.type_name, cursor, row.node)
                    for cursor, row in zip(cursors, present, strict=True)
                )
                parts.append(f"{key}:[{','.join(edges)}]")
            else:
                info = {
                    "hasNextPage": has_next,
                    "hasPreviousPage": after is not None,
                    "startCursor": cursors[0] if cursors else None,
                    "endCursor": cursors[-1] if cursors else None,
                    "__typename": wrapper.type_name,
                }
                chosen = {name: info[field] for name, field in wrapper.fields}
                parts.append(f"{key}:{json.dumps(chosen, separators=(',', ':'))}")
        return "{" + ",".join(parts) + "}"

    def _edge(
        self,
        root: RootPlan,
        fields: list[tuple[str, str]],
        type_name: str,
        cursor: str,
        node: str | None,
    ) -> str:
        parts = []
        for key, name in fields:
            if name == "cursor":
                value = json.dumps(cursor)
            elif name == "node":
                value = "null" if node is None else self.checked(root, node)
            else:
                value = json.dumps(type_name)
            parts.append(f"{json.dumps(key)}:{value}")
        return "{" + ",".join(parts) + "}"
