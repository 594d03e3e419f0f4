"""Every door answers as the kernel does: downloads as ``Document.content``, meta fields per spec.

The download route and the GraphQL field ``Document.content`` are two doors to
the same bytes; a caller gets both or neither. ``__typename`` is answerable by
everyone, and introspection shows each principal its own schema.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from store.engine import create_sessionmaker
from store.models import ApiKey, PartnerRead
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import gql

DOCUMENTS = ("anna-invoice", "anna-report", "bo-invoice", "bo-report")


def _key_or_token(world: World, who: str) -> str:
    return world.a.api_keys.get(who) or world.a.tokens[who]


async def _graphql_content(client: httpx.AsyncClient, token: str, doc_id: str) -> str:
    """``ok``, ``FORBIDDEN`` or ``NOT_FOUND``: what GraphQL says about ``content``."""
    result = await gql(
        client, "query($id: ID!) { document(id: $id) { content } }", {"id": doc_id}, token=token
    )
    if not result.errors:
        return "ok"
    return str(result.codes[0])


async def _download(client: httpx.AsyncClient, token: str, doc_id: str) -> str:
    response = await client.get(
        f"/documents/{doc_id}", headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code == 200:
        return "ok"
    return {403: "FORBIDDEN", 404: "NOT_FOUND"}.get(response.status_code, str(response.status_code))


# Written from the roles' purpose, not from the policy files: a reminder service
# never holds a document, accounting holds invoices only, an inspector no invoice.
EXPECTED_DOWNLOADS = {
    "partner_reminders": {"invoice": False, "report": False},
    "partner_accounting": {"invoice": True, "report": False},
    "inspector": {"invoice": False, "report": True},
    "staff": {"invoice": True, "report": True},
    "tenant_admin": {"invoice": True, "report": True},
}


@pytest.mark.parametrize("who", sorted(EXPECTED_DOWNLOADS))
@pytest.mark.parametrize("document", DOCUMENTS)
async def test_download_decided_as_content_field(
    client: httpx.AsyncClient, world: World, who: str, document: str
) -> None:
    token = _key_or_token(world, who)
    doc_id = world.a.documents[document]
    kind = document.split("-")[1]
    via_graphql = await _graphql_content(client, token, doc_id)
    via_download = await _download(client, token, doc_id)
    # Both doors give the bytes, or both refuse (FORBIDDEN or NOT_FOUND: a
    # download refused outright is a 404, as for an id outside the reach).
    assert (via_download == "ok") is (via_graphql == "ok"), (who, document, via_graphql)
    assert via_download in ("ok", "FORBIDDEN", "NOT_FOUND")
    assert (via_download == "ok") is EXPECTED_DOWNLOADS[who][kind], (who, document)


async def test_partner_reminders_key_refused_for_every_document(
    client: httpx.AsyncClient, world: World
) -> None:
    key = world.a.api_keys["partner_reminders"]
    for document in DOCUMENTS:
        response = await client.get(
            f"/documents/{world.a.documents[document]}", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code in (403, 404), document
        assert response.json()["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")
        assert b"Invoice" not in response.content and b"report" not in response.content.lower()


async def test_partner_download_is_recorded_as_a_partner_read(
    client: httpx.AsyncClient, world: World, backend: Backend
) -> None:
    key = world.b.api_keys["partner_accounting"]
    carl = world.b.raw_ids["customer-carl"]
    response = await client.get(
        f"/documents/{world.b.documents['carl-invoice']}",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200
    async with create_sessionmaker(backend.engine)() as session:
        key_id = (
            await session.execute(select(ApiKey.id).where(ApiKey.prefix == key[4:16]))
        ).scalar_one()
        fields = (
            await session.execute(
                select(PartnerRead.fields).where(
                    PartnerRead.api_key_id == key_id, PartnerRead.customer_id == carl
                )
            )
        ).scalar_one()
    assert "Document.content" in fields


def _callers(world: World) -> dict[str, str | None]:
    return {
        "anonymous": None,
        "staff": world.a.tokens["staff"],
        "inspector": world.a.tokens["inspector"],
        "partner_reminders": world.a.api_keys["partner_reminders"],
        "partner_accounting": world.a.api_keys["partner_accounting"],
        "subject": world.subject_tokens["anna"],
        "platform_admin": world.platform_token,
        "tenant_admin": world.a.tokens["tenant_admin"],
    }


@pytest.mark.parametrize(
    "who",
    [
        "anonymous",
        "staff",
        "inspector",
        "partner_reminders",
        "partner_accounting",
        "subject",
        "platform_admin",
        "tenant_admin",
    ],
)
async def test_typename_answers_for_everyone(
    client: httpx.AsyncClient, world: World, who: str
) -> None:
    token = _callers(world)[who]
    assert (await gql(client, "{ __typename }", token=token)).ok() == {"__typename": "Query"}
    aliased = await gql(client, "query Q { t: __typename viewer { __typename } }", token=token)
    assert aliased.ok()["t"] == "Query"
    mutation = await gql(client, "mutation { __typename }", token=token)
    assert mutation.ok() == {"__typename": "Mutation"}


@pytest.mark.parametrize("who", ["anonymous", "staff", "partner_reminders", "subject"])
async def test_introspection_answers_in_development(
    client: httpx.AsyncClient, world: World, who: str
) -> None:
    token = _callers(world)[who]
    data = (
        await gql(
            client,
            '{ __schema { queryType { name } types { name } } __type(name: "Query") { name } }',
            token=token,
        )
    ).ok()
    assert data["__schema"]["queryType"]["name"] == "Query"
    assert data["__type"]["name"] == "Query"
