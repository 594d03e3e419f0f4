"""Per-request DataLoaders: every nested field is one query per level, not per row.

Every loader applies the caller's row scope, so a relation can never lead out
of it (a booking's customer is loaded through the same WHERE as ``customers``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, aliased
from strawberry.dataloader import DataLoader

from authz.scope import row_scope, service_scope, tenant_scope
from basics.principal import Principal
from privacy.access import RecipientFact, recipients_by_customer
from store.engine import SerialReader
from store.models import (
    AuditEvent,
    Booking,
    Customer,
    Document,
    PrivacyRequest,
    Service,
    Tenant,
    Vehicle,
)

M = TypeVar("M", Tenant, Service, Customer, Vehicle, Booking, Document, PrivacyRequest, AuditEvent)


class Loaders:
    """Lazily created loaders for one request and one principal."""

    def __init__(self, session: SerialReader, principal: Principal) -> None:
        self._session = session
        self._principal = principal
        self._loaders: dict[tuple[Any, ...], DataLoader[Any, Any]] = {}

    def scope(self, model: type[M]) -> ColumnElement[bool]:
        if model is Tenant:
            return tenant_scope(self._principal)
        if model is Service:
            return service_scope(self._principal)
        return row_scope(model, self._principal)  # type: ignore[arg-type]

    def by_id(self, model: type[M]) -> DataLoader[str, M | None]:
        key = ("by_id", model)
        if key not in self._loaders:
            self._loaders[key] = DataLoader(load_fn=self._by_id_fn(model))
        return self._loaders[key]

    def children(
        self,
        model: type[M],
        parent_column: InstrumentedAttribute[Any],
        order: Sequence[InstrumentedAttribute[Any]],
        limit: int,
    ) -> DataLoader[str, list[M]]:
        """Up to ``limit`` children per parent, in one windowed query for all parents."""
        key = ("children", model, parent_column.key, limit)
        if key not in self._loaders:
            self._loaders[key] = DataLoader(
                load_fn=self._children_fn(model, parent_column, order, limit)
            )
        return self._loaders[key]

    def document_content(self) -> DataLoader[str, bytes | None]:
        key = ("document_content",)
        if key not in self._loaders:

            async def load(ids: list[str]) -> list[bytes | None]:
                rows = await self._session.execute(
                    select(Document.id, Document.content).where(
                        Document.id.in_(ids), self.scope(Document)
                    )
                )
                found = {row.id: row.content for row in rows}
                return [found.get(i) for i in ids]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def recipients(self) -> DataLoader[str, list[RecipientFact]]:
        """Partners that received each customer's data, for many customers in one query."""
        key = ("recipients",)
        if key not in self._loaders:

            async def load(ids: list[str]) -> list[list[RecipientFact]]:
                found = await recipients_by_customer(self._session, ids)
                return [found.get(i, []) for i in ids]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def _by_id_fn(self, model: type[M]) -> Callable[[list[str]], Any]:
        async def load(ids: list[str]) -> list[M | None]:
            rows = await self._session.execute(
                select(model).where(model.id.in_(set(ids)), self.scope(model))
            )
            found = {row.id: row for row in rows.scalars()}
            return [found.get(i) for i in ids]

        return load

    def _children_fn(
        self,
        model: type[M],
        parent_column: InstrumentedAttribute[Any],
        order: Sequence[InstrumentedAttribute[Any]],
        limit: int,
    ) -> Callable[[list[str]], Any]:
        async def load(parent_ids: list[str]) -> list[list[M]]:
            position = (
                func.row_number()
                .over(partition_by=parent_column, order_by=[*order, model.id])
                .label("position")
            )
            ranked = (
                select(model, position)
                .where(parent_column.in_(set(parent_ids)), self.scope(model))
                .subquery()
            )
            row = aliased(model, ranked)
            statement = (
                select(row)
                .where(ranked.c.position <= limit)
                .order_by(ranked.c[parent_column.key], ranked.c.position)
            )
            grouped: dict[str, list[M]] = defaultdict(list)
            for item in (await self._session.execute(statement)).scalars():
                grouped[getattr(item, parent_column.key)].append(item)
            return [grouped.get(pid, []) for pid in parent_ids]

        return load
