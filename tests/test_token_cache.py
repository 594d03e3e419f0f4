"""Verified tokens are remembered, and a remembered token is still checked every time.

The signature of a bearer token is verified once; its expiry and not-before
times, and the key it must be signed with, are checked on every request, so a
token that was accepted (and cached) stops working the moment it expires, and
a token signed with another key is never accepted, before or after a good one.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt

from identity.tokens import VERIFIED
from server.app import create_app
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import gql

VIEWER = "{ viewer { kind tenant { slug } } }"


def _claims(world: World, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "cache-test",
        "tid": world.a.id,
        "tenant": world.a.slug,
        "roles": ["staff"],
        "iss": world.settings.jwt_issuer,
        "aud": world.settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
        **overrides,
    }


def _signed(world: World, key: str | None = None, **overrides: Any) -> str:
    return jwt.encode(
        _claims(world, **overrides), key or world.settings.signing_key(), algorithm="HS256"
    )


async def test_a_repeated_token_is_verified_once(client: httpx.AsyncClient, world: World) -> None:
    token = _signed(world, sub="verified-once")
    misses = VERIFIED.misses
    for _ in range(3):
        result = await gql(client, VIEWER, token=token)
        assert result.ok()["viewer"]["tenant"]["slug"] == world.a.slug
    assert VERIFIED.misses == misses + 1


async def test_a_cached_token_is_refused_once_it_expires(
    client: httpx.AsyncClient, world: World
) -> None:
    expires = int(time.time()) + 2
    token = _signed(world, sub="expires-soon", exp=expires)
    for _ in range(2):
        assert (await gql(client, VIEWER, token=token)).ok()["viewer"]["kind"] == "STAFF"
    await asyncio.sleep(max(expires - time.time(), 0) + 0.1)
    for _ in range(2):
        refused = await gql(client, VIEWER, token=token)
        assert refused.status == 401 and refused.codes == ["UNAUTHENTICATED"]
        assert refused.errors[0]["message"].endswith("token has expired"), refused.body


async def test_a_token_signed_with_another_key_is_never_accepted(
    client: httpx.AsyncClient, world: World
) -> None:
    good = _signed(world, sub="same-claims")
    forged = _signed(world, key="another-key-" + "x" * 40, sub="same-claims")
    for token in (good, forged, good, forged):
        result = await gql(client, VIEWER, token=token)
        if token is good:
            assert result.ok()["viewer"]["kind"] == "STAFF"
        else:
            assert result.status == 401 and result.codes == ["UNAUTHENTICATED"]
            assert result.errors[0]["message"].endswith("token is not valid"), result.body


async def test_a_cached_token_is_refused_by_a_server_with_another_key(
    client: httpx.AsyncClient, backend: Backend, world: World
) -> None:
    """The key is looked up on every request: a key change takes effect at once."""
    token = _signed(world, sub="key-rotated")
    assert (await gql(client, VIEWER, token=token)).ok()["viewer"]["kind"] == "STAFF"
    rotated = backend.settings.model_copy(update={"secret_key": "rotated-key-" + "y" * 40})
    app = create_app(rotated, engine=backend.engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as other:
        refused = await gql(other, VIEWER, token=token)
    assert refused.status == 401 and refused.codes == ["UNAUTHENTICATED"]


async def test_a_token_not_yet_valid_is_refused_until_it_is(
    client: httpx.AsyncClient, world: World
) -> None:
    starts = int(time.time()) + 2
    token = _signed(world, sub="starts-later", nbf=starts)
    refused = await gql(client, VIEWER, token=token)
    assert refused.status == 401 and refused.codes == ["UNAUTHENTICATED"]
    await asyncio.sleep(max(starts - time.time(), 0) + 0.1)
    assert (await gql(client, VIEWER, token=token)).ok()["viewer"]["kind"] == "STAFF"


async def test_the_denial_style_of_each_request_is_kept(
    client: httpx.AsyncClient, world: World
) -> None:
    """One token, two denial styles: the cached principal does not carry one to the other."""
    token = _signed(world, sub="two-styles", roles=["inspector"])
    query = "{ customers(first: 1) { edges { node { name email } } } }"
    for _ in range(2):
        denied = await gql(client, query, token=token)
        assert denied.codes == ["FORBIDDEN"] and denied.data is None
        partial = await gql(client, query, token=token, headers={"X-Denial-Style": "partial"})
        assert "FORBIDDEN" in partial.codes and partial.data is not None
