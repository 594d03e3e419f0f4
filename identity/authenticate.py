"""Identify the caller of an HTTP request: JWT, partner API key, or nobody."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from basics.errors import Unauthenticated
from basics.principal import ANONYMOUS, DenialStyle, Principal
from basics.settings import Settings
from identity.apikeys import KEY_PREFIX, principal_from_api_key
from identity.tokens import principal_from_token

DENIAL_STYLE_HEADER = "x-denial-style"


def _denial_style(connection: HTTPConnection) -> DenialStyle:
    value = connection.headers.get(DENIAL_STYLE_HEADER, DenialStyle.REJECT.value).strip().lower()
    try:
        return DenialStyle(value)
    except ValueError:
        raise Unauthenticated(
            f"{DENIAL_STYLE_HEADER} must be 'reject' or 'partial'", field=DENIAL_STYLE_HEADER
        ) from None


async def authenticate(
    connection: HTTPConnection,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> Principal:
    """The principal behind the ``Authorization`` header; no header means anonymous.

    A header that is present but wrong is an error, never a silent fall-back to
    anonymous, so a client with a broken token learns it at once.
    """
    header = connection.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise Unauthenticated("Authorization must be 'Bearer <token or API key>'")
    if credential.startswith(KEY_PREFIX):
        return await principal_from_api_key(sessions, credential)
    return principal_from_token(settings, credential, _denial_style(connection))
