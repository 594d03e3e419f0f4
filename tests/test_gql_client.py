"""Python ``gql`` 4 against a live demo server, set up only as the README says:
the endpoint, ``Authorization: Bearer ...``, and ``GraphQL-Require-Preflight: 1``
for uploads. Paging, an error code, an upload, a data subject's sign-in."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.file_upload import FileVar
from gql.transport.httpx import HTTPXAsyncTransport

from tests.live_demo import DemoServer, demo_server

__all__ = ["demo_server"]

SUBJECT = "mette.sorensen@example.dk"
PAGE = gql(
    """query Page($after: String) {
      bookings(first: 20, after: $after) {
        totalCount
        edges { cursor node { id reference customer { name } } }
        pageInfo { hasNextPage endCursor }
      }
    }"""
)


@asynccontextmanager
async def session(
    server: DemoServer, token: str | None = None, **headers: str
) -> AsyncIterator[AsyncClientSession]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    transport = HTTPXAsyncTransport(url=server.graphql_url, headers=headers, timeout=30)
    async with Client(transport=transport) as opened:
        yield opened


def request(document: GraphQLRequest, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(document, variable_values=variables)


async def test_staff_pages_through_bookings_with_cursors(demo_server: DemoServer) -> None:
    seen: list[str] = []
    after: str | None = None
    async with session(demo_server, demo_server.staff_token()) as gql_session:
        for _ in range(3):
            page = (await gql_session.execute(request(PAGE, after=after)))["bookings"]
            seen += [edge["node"]["id"] for edge in page["edges"]]
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
            assert page["pageInfo"]["hasNextPage"]
            after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 60
    assert page["totalCount"] > 60


async def test_an_error_carries_its_code(demo_server: DemoServer) -> None:
    lookup = gql("query One($id: ID!) { booking(id: $id) { reference } }")
    async with session(demo_server, demo_server.staff_token()) as gql_session:
        with pytest.raises(TransportQueryError) as refused:
            await gql_session.execute(request(lookup, id="not-an-id"))
    assert refused.value.errors is not None
    error = refused.value.errors[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "id"
    async with session(demo_server, "not.a.token") as gql_session:
        with pytest.raises(TransportQueryError) as unauthenticated:
            await gql_session.execute(gql("{ viewer { kind } }"))
    assert unauthenticated.value.errors is not None
    assert unauthenticated.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_upload_with_the_preflight_header(demo_server: DemoServer) -> None:
    staff = demo_server.staff_token()
    add = gql(
        """mutation Add($file: Upload!, $booking: ID!) {
          addDocument(input: {kind: INSPECTION_REPORT, title: "Synsrapport", file: $file,
                              bookingId: $booking}) {
            document { id sha256 mimeType downloadUrl }
          }
        }"""
    )
    content = b"%PDF-1.4 synsrapport"
    async with session(demo_server, staff, **{"GraphQL-Require-Preflight": "1"}) as gql_session:
        first = (await gql_session.execute(request(PAGE, after=None)))["bookings"]["edges"][0]
        upload = request(
            add,
            file=FileVar(
                io.BytesIO(content), filename="rapport.pdf", content_type="application/pdf"
            ),
            booking=first["node"]["id"],
        )
        document = (await gql_session.execute(upload, upload_files=True))["addDocument"]["document"]
    assert document["mimeType"] == "application/pdf"
    async with httpx.AsyncClient(base_url=demo_server.live.url) as http:
        download = await http.get(
            document["downloadUrl"], headers={"Authorization": f"Bearer {staff}"}
        )
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-disposition"].endswith('.pdf"')


async def test_a_data_subject_signs_in_with_a_code_and_reads_their_data(
    demo_server: DemoServer,
) -> None:
    login = gql("mutation Ask($email: String!) { requestSubjectLogin(email: $email) { accepted } }")
    verify = gql(
        "mutation Verify($email: String!, $code: String!) "
        "{ verifySubjectLogin(email: $email, code: $code) { token expiresAt } }"
    )
    async with session(demo_server) as anonymous:
        asked = await anonymous.execute(request(login, email=SUBJECT))
        assert asked == {"requestSubjectLogin": {"accepted": True}}
        printed = demo_server.cli("outbox", "--to", SUBJECT)
        code = re.findall(r"Your one-time code to see your data: (\d{6})", printed)[-1]
        verified = await anonymous.execute(request(verify, email=SUBJECT, code=code))
    token = verified["verifySubjectLogin"]["token"]
    mine = gql("{ viewer { kind email } myData { email controllers { tenant { name } } } }")
    export = gql("mutation { exportMyData(format: JSON) { contentType formatVersion } }")
    async with session(demo_server, token) as subject:
        data = await subject.execute(mine)
        exported = await subject.execute(export)
    assert data["viewer"] == {"kind": "SUBJECT", "email": SUBJECT}
    assert data["myData"]["email"] == SUBJECT
    assert len(data["myData"]["controllers"]) >= 2
    assert exported["exportMyData"]["contentType"] == "application/json"
