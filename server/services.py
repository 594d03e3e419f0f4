"""What every request needs (settings, database, authorizer, limiter) and the
per-request context built from it for GraphQL and downloads alike."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from authz.decisions import Authorizer
from authz.scope import subject_customer_ids
from basics.principal import Principal, PrincipalKind
from basics.settings import Settings
from resolvers.context import RequestContext
from server.principal_limits import PrincipalRateLimiter
from store.engine import (
    SerialReader,
    create_engine,
    create_read_sessionmaker,
    create_sessionmaker,
)


@dataclass(frozen=True)
class Services:
    """What every request needs and nothing request-specific."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # For a request's reads only (``SerialReader``): see ``create_read_sessionmaker``.
    read_sessions: async_sessionmaker[AsyncSession]
    authorizer: Authorizer
    limiter: PrincipalRateLimiter


def build_services(
    settings: Settings, engine: AsyncEngine | None, authorizer: Authorizer | None
) -> Services:
    engine = engine or create_engine(
        settings.database_url,
        echo=settings.sql_echo,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    return Services(
        settings=settings,
        engine=engine,
        sessions=create_sessionmaker(engine),
        read_sessions=create_read_sessionmaker(engine),
        authorizer=authorizer or Authorizer(),
        limiter=PrincipalRateLimiter(
            settings.principal_rate_limit, settings.principal_rate_window_seconds
        ),
    )


async def make_context(
    services: Services,
    request: Request | None,
    response: Response | None,
    principal: Principal,
    request_id: str,
) -> RequestContext:
    """The request's context: fresh policy, the principal's decisions, its own rows."""
    await services.authorizer.refresh_if_stale(services.sessions)
    own_customer_ids: frozenset[str] = frozenset()
    if principal.kind is PrincipalKind.SUBJECT:
        async with services.sessions() as session:
            rows = await session.execute(subject_customer_ids(principal))
            own_customer_ids = frozenset(rows.scalars())
    return RequestContext(
        request=request,
        response=response,
        principal=principal,
        settings=services.settings,
        sessions=services.sessions,
        # Opened by the first read: a request that reads nothing opens none.
        session=SerialReader(services.read_sessions),
        decisions=services.authorizer.decisions(principal.roles, principal.tenant_id),
        authorizer=services.authorizer,
        own_customer_ids=own_customer_ids,
        request_id=request_id,
    )
