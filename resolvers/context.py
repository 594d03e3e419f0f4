"""The per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from authz.decisions import Authorizer, Decisions
from basics.principal import Principal
from basics.settings import Settings
from privacy.recipients import record_partner_reads
from resolvers.loaders import Loaders
from resolvers.pagination import clamp_first
from store.engine import SerialReader


@dataclass
class RequestContext:
    request: Request | None
    response: Response | None
    principal: Principal
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    # Reads share one session per request; writes open their own transaction.
    session: SerialReader
    decisions: Decisions
    authorizer: Authorizer
    # For a data subject: the ids of their customer records in every tenant.
    own_customer_ids: frozenset[str] = frozenset()
    request_id: str = ""
    # Rows this request created on the caller's behalf: they relate to the caller
    # as "self" even when nothing else links them any more (an erasure request
    # whose customer it has just erased).
    created_for_caller: set[str] = field(default_factory=set)
    # The field guard's memo: id(row) -> the row's relation to the caller.
    row_relations: dict[int, str | None] = field(default_factory=dict)
    # For a partner: customer id -> personal fields sent to it in this request.
    partner_reads: dict[str, set[str]] | None = None
    # Set by the HTTP view: compiled answers may stay JSON text (``RawJSON``)
    # until the response is written.
    raw_json: bool = False
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.session, self.principal)
        if self.principal.api_key_id is not None:
            self.partner_reads = {}

    async def record_partner_reads(self) -> None:
        """Record, once the request has answered, which personal fields a partner received."""
        principal = self.principal
        if self.partner_reads and principal.api_key_id and principal.tenant_id:
            await record_partner_reads(
                self.sessions,
                tenant_id=principal.tenant_id,
                api_key_id=principal.api_key_id,
                reads=self.partner_reads,
            )

    def page_size(self, first: int | None) -> int:
        return clamp_first(
            first, default=self.settings.default_page_size, maximum=self.settings.max_page_size
        )
