"""The statement's JSON as the GraphQL answer, rendered exactly as the executor renders it.

Global ids, the download path, dates and times, enums and booleans are
formatted here, in the selection's order and under its aliases. Every row is
checked to be within the caller's reach (the field guard's defence in depth)
and, for a partner, every personal field sent is noted per customer, as the
field guard notes it.
"""

from __future__ import annotations

from typing import Any

from authz.relations import possible_relations
from basics.ids import encode_id
from resolvers.compiled.access import Access
from resolvers.compiled.catalog import CONVERTERS, TYPES, as_datetime
from resolvers.compiled.planner import ObjectPlan, RootPlan
from resolvers.compiled.sqlgen import slot
from resolvers.pagination import SortKey, cursor_for

# Fields of a person's rows that carry nothing about the person (as the field guard).
NOT_PERSONAL_FIELDS = frozenset({"id", "tenant", "service"})


class OutOfReach(Exception):
    """A row the caller has no relation to: the executor answers (and reports) it instead."""


class Shaper:
    def __init__(self, access: Access, partner_reads: dict[str, set[str]] | None) -> None:
        self.access = access
        self.partner_reads = partner_reads
        self._expected: dict[str, tuple[str, ...]] = {}

    def _check_reach(self, type_name: str, row: dict[str, Any]) -> None:
        spec = TYPES[type_name]
        subject = row.get(spec.subject) if spec.subject else None
        relation = self.access.relation(type_name, row.get("tenant_id"), subject)
        expected = self._expected.get(type_name)
        if expected is None:
            expected = possible_relations(self.access.principal, type_name)
            self._expected[type_name] = expected
        if relation is None or relation not in expected:
            raise OutOfReach(type_name)

    def obj(self, plan: ObjectPlan, row: dict[str, Any]) -> dict[str, Any]:
        type_name = plan.type_name
        self._check_reach(type_name, row)
        out: dict[str, Any] = {}
        for field in plan.fields:
            kind = field.kind
            if kind == "column":
                value = row[field.column]  # type: ignore[index]
                out[field.key] = None if value is None else CONVERTERS[field.convert](value)  # type: ignore[index]
            elif kind == "id":
                out[field.key] = encode_id(type_name, row["id"])
            elif kind == "typename":
                out[field.key] = type_name
            elif kind == "download":
                out[field.key] = f"/documents/{encode_id(type_name, row['id'])}"
            elif kind == "one":
                value = row[slot(field)]
                out[field.key] = None if value is None else self.obj(field.child, value)  # type: ignore[arg-type]
            else:
                out[field.key] = [self.obj(field.child, item) for item in row[slot(field)]]  # type: ignore[arg-type]
        if self.partner_reads is not None:
            self._note_reads(plan, row)
        return out

    def _note_reads(self, plan: ObjectPlan, row: dict[str, Any]) -> None:
        spec = TYPES[plan.type_name]
        customer_id = row.get(spec.subject) if spec.subject else None
        if customer_id is None or self.partner_reads is None:
            return
        for field in plan.fields:
            if field.name in NOT_PERSONAL_FIELDS or field.name.startswith("__"):
                continue
            self.partner_reads.setdefault(customer_id, set()).add(f"{plan.type_name}.{field.name}")

    def connection(
        self,
        root: RootPlan,
        data: dict[str, Any],
        sort: SortKey,
        first: int,
        after: str | None,
    ) -> dict[str, Any]:
        rows: list[dict[str, Any]] = data["rows"]
        has_next = len(rows) > first
        rows = rows[:first]
        cursors = [cursor_for(self._sort_value(sort, row), row["id"]) for row in rows]
        wants_nodes = any(
            w.name == "edges" and any(name == "node" for _key, name in w.fields)
            for w in root.wrappers
        )
        nodes = [self.obj(root.node, row) for row in rows] if wants_nodes else []
        out: dict[str, Any] = {}
        for wrapper in root.wrappers:
            if wrapper.name == "__typename":
                out[wrapper.key] = root.connection_type
            elif wrapper.name == "totalCount":
                out[wrapper.key] = int(data["total"])
            elif wrapper.name == "edges":
                out[wrapper.key] = [
                    self._edge(
                        wrapper.fields, wrapper.type_name, cursor, nodes[i] if nodes else None
                    )
                    for i, cursor in enumerate(cursors)
                ]
            else:
                info = {
                    "hasNextPage": has_next,
                    "hasPreviousPage": after is not None,
                    "startCursor": cursors[0] if cursors else None,
                    "endCursor": cursors[-1] if cursors else None,
                    "__typename": wrapper.type_name,
                }
                out[wrapper.key] = {key: info[name] for key, name in wrapper.fields}
        return out

    @staticmethod
    def _edge(
        fields: list[tuple[str, str]], type_name: str, cursor: str, node: dict[str, Any] | None
    ) -> dict[str, Any]:
        values = {"cursor": cursor, "node": node, "__typename": type_name}
        return {key: values[name] for key, name in fields}

    @staticmethod
    def _sort_value(sort: SortKey, row: dict[str, Any]) -> Any:
        value = row[sort.column.key]
        if sort.is_datetime and value is not None:
            return as_datetime(value)
        return value
