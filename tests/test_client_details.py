"""Details a client notices: download file names, and ids that let a client cache
(Apollo's, for one) keep one copy of a partner grant or an erasure preview."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from resolvers.download_names import download_filename, extension_for
from store.models import Document, DocumentKind
from tests.fixtures import World
from tests.graphql_client import gql

GRANTS = "{ partnerGrants { id role field } grantableFields { id role field } }"
PREVIEW = "query($id: ID!) { previewErasure(customerId: $id) { id customerId recipients } }"


def _filename(response: httpx.Response) -> str:
    match = re.fullmatch(r'attachment; filename="([^"]+)"', response.headers["content-disposition"])
    assert match, response.headers["content-disposition"]
    return match.group(1)


def test_file_names_say_what_the_file_is() -> None:
    document = Document(
        kind=DocumentKind.INSPECTION_REPORT,
        title="Synsrapport Århus / Ø",
        mime_type="application/pdf",
    )
    assert download_filename(document) == "inspection_report-synsrapport-aarhus-o.pdf"
    untitled = Document(kind=DocumentKind.INVOICE, title="!!!", mime_type="text/plain")
    assert download_filename(untitled) == "invoice.txt"
    assert extension_for("image/jpeg") == ".jpg"
    assert extension_for("application/x-unknown-thing") == ".bin"


async def test_a_download_is_named_with_its_extension(
    client: httpx.AsyncClient, world: World
) -> None:
    staff = {"Authorization": f"Bearer {world.a.tokens['staff']}"}
    stored = await client.get(f"/documents/{world.a.documents['anna-invoice']}", headers=staff)
    assert stored.status_code == 200
    assert re.fullmatch(r"invoice-faktura-\d+\.txt", _filename(stored))

    booking = world.a.bookings["anna-past"]
    operations = {
        "query": "mutation($input: AddDocumentInput!) { addDocument(input: $input) "
        "{ document { downloadUrl } } }",
        "variables": {
            "input": {"kind": "INSPECTION_REPORT", "title": "Synsrapport", "bookingId": booking}
            | {"file": None}
        },
    }
    uploaded = await client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("rapport.pdf", b"%PDF-1.4 rapport", "application/pdf")},
        headers={**staff, "GraphQL-Require-Preflight": "1"},
    )
    assert uploaded.status_code == 200, uploaded.text
    url = uploaded.json()["data"]["addDocument"]["document"]["downloadUrl"]
    pdf = await client.get(url, headers=staff)
    assert pdf.status_code == 200 and pdf.content == b"%PDF-1.4 rapport"
    assert _filename(pdf) == "inspection_report-synsrapport.pdf"


async def test_partner_grants_have_stable_ids(client: httpx.AsyncClient, world: World) -> None:
    admin = world.a.tokens["tenant_admin"]
    grantable = (await gql(client, GRANTS, token=admin)).ok()["grantableFields"]
    ids = [g["id"] for g in grantable]
    assert len(set(ids)) == len(ids) > 0
    first = grantable[0]
    granted = await gql(
        client,
        "mutation($r: String!, $f: String!) { grantPartnerField(role: $r, field: $f) "
        "{ grant { id role field } } }",
        {"r": first["role"], "f": first["field"]},
        token=admin,
    )
    assert granted.ok()["grantPartnerField"]["grant"] == first
    listed = (await gql(client, GRANTS, token=admin)).ok()["partnerGrants"]
    assert first in listed
    await gql(
        client,
        "mutation($r: String!, $f: String!) { revokePartnerField(role: $r, field: $f) "
        "{ grant { id } } }",
        {"r": first["role"], "f": first["field"]},
        token=admin,
    )


@pytest.mark.parametrize("who", ["staff", "partner", "subject", "other subject", "anonymous"])
async def test_grant_ids_are_for_the_tenant_admin_only(
    client: httpx.AsyncClient, world: World, who: str
) -> None:
    token = {
        "staff": world.a.tokens["staff"],
        "partner": world.a.api_keys["partner_reminders"],
        "subject": world.subject_tokens["anna"],
        "other subject": world.subject_tokens["carl"],
    }.get(who)
    result = await gql(client, "{ partnerGrants { id } }", token=token)
    assert result.data is None and result.codes == ["FORBIDDEN"]


async def test_an_erasure_preview_is_identified_by_its_customer(
    client: httpx.AsyncClient, world: World
) -> None:
    customer = world.a.customers["anna"]
    preview = await gql(client, PREVIEW, {"id": customer}, token=world.a.tokens["tenant_admin"])
    answer = preview.ok()["previewErasure"]
    assert answer["id"] == answer["customerId"] == customer


@pytest.mark.parametrize("who", ["other tenant", "staff", "partner", "subject", "other subject"])
async def test_an_erasure_preview_stays_with_its_tenant_admin(
    client: httpx.AsyncClient, world: World, who: str
) -> None:
    token = {
        "other tenant": world.b.tokens["tenant_admin"],
        "staff": world.a.tokens["staff"],
        "partner": world.a.api_keys["partner_accounting"],
        "subject": world.subject_tokens["anna"],
        "other subject": world.subject_tokens["carl"],
    }[who]
    result = await gql(client, PREVIEW, {"id": world.a.customers["anna"]}, token=token)
    assert result.data is None
    assert result.codes == (["NOT_FOUND"] if who == "other tenant" else ["FORBIDDEN"])
