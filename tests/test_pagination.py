"""Relay pagination edges: empty, first page, last page, bad cursors, limits."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures import World
from tests.graphql_client import gql

PAGE = """
query($first: Int, $after: String) {
  bookings(first: $first, after: $after) {
    totalCount
    edges { cursor node { id startsAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def test_walks_every_page_exactly_once(client: httpx.AsyncClient, world: World) -> None:
    token = world.a.tokens["staff"]
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = (await gql(client, PAGE, {"first": 2, "after": after}, token=token)).ok()["bookings"]
        pages += 1
        seen += [e["node"]["id"] for e in data["edges"]]
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
        assert after == data["edges"][-1]["cursor"]
    assert len(seen) == len(set(seen)) == data["totalCount"] == len(world.a.bookings)
    assert pages == 3


async def test_order_is_by_start_time(client: httpx.AsyncClient, world: World) -> None:
    data = (await gql(client, PAGE, {"first": 50}, token=world.a.tokens["staff"])).ok()["bookings"]
    starts = [e["node"]["startsAt"] for e in data["edges"]]
    assert starts == sorted(starts)


async def test_last_page_has_no_next(client: httpx.AsyncClient, world: World) -> None:
    total = len(world.a.bookings)
    data = (await gql(client, PAGE, {"first": total}, token=world.a.tokens["staff"])).ok()[
        "bookings"
    ]
    assert len(data["edges"]) == total
    assert data["pageInfo"]["hasNextPage"] is False
    after_last = (
        await gql(
            client,
            PAGE,
            {"first": 5, "after": data["pageInfo"]["endCursor"]},
            token=world.a.tokens["staff"],
        )
    ).ok()["bookings"]
    assert after_last["edges"] == []
    assert after_last["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": None,
        "endCursor": None,
    }


async def test_empty_connection(client: httpx.AsyncClient, world: World) -> None:
    data = (await gql(client, PAGE, {"first": 10}, token=world.subject_tokens["nobody"])).ok()[
        "bookings"
    ]
    assert data == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_first_zero_returns_no_rows_but_counts(
    client: httpx.AsyncClient, world: World
) -> None:
    data = (await gql(client, PAGE, {"first": 0}, token=world.a.tokens["staff"])).ok()["bookings"]
    assert data["edges"] == []
    assert data["totalCount"] == len(world.a.bookings)


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJ4IiwxXQ", "", "eyJhIjoxfQ", "!!!"])
async def test_bad_cursor_is_bad_user_input(
    client: httpx.AsyncClient, world: World, cursor: str
) -> None:
    result = await gql(client, PAGE, {"first": 2, "after": cursor}, token=world.a.tokens["staff"])
    assert result.status == 200
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "after"
    assert result.data is None


@pytest.mark.parametrize(("first", "ok"), [(500, True), (501, False), (-1, False)])
async def test_page_size_limits(
    client: httpx.AsyncClient, world: World, first: int, ok: bool
) -> None:
    result = await gql(client, PAGE, {"first": first}, token=world.a.tokens["staff"])
    if ok:
        result.ok()
    else:
        assert result.codes == ["BAD_USER_INPUT"]
        assert result.errors[0]["extensions"]["field"] == "first"


async def test_cursor_of_other_connection_type_is_rejected(
    client: httpx.AsyncClient, world: World
) -> None:
    customers = (
        await gql(
            client,
            "{ customers(first: 1) { pageInfo { endCursor } } }",
            token=world.a.tokens["staff"],
        )
    ).ok()
    cursor = customers["customers"]["pageInfo"]["endCursor"]
    result = await gql(client, PAGE, {"first": 2, "after": cursor}, token=world.a.tokens["staff"])
    assert result.codes == ["BAD_USER_INPUT"]


async def test_customer_pages_are_ordered_by_name(client: httpx.AsyncClient, world: World) -> None:
    query = "query($after: String) { customers(first: 1, after: $after) { edges { node { name } } pageInfo { endCursor hasNextPage } } }"
    names: list[str] = []
    after = None
    while True:
        data = (await gql(client, query, {"after": after}, token=world.a.tokens["staff"])).ok()[
            "customers"
        ]
        names += [e["node"]["name"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert names == sorted(names) and len(names) == len(world.a.customers)


async def test_booking_filters(client: httpx.AsyncClient, world: World) -> None:
    token = world.a.tokens["staff"]
    query = "query($f: BookingFilter) { bookings(filter: $f) { edges { node { id status } } } }"
    completed = (await gql(client, query, {"f": {"status": ["COMPLETED"]}}, token=token)).ok()
    assert {e["node"]["status"] for e in completed["bookings"]["edges"]} == {"COMPLETED"}
    past = (
        await gql(client, query, {"f": {"startsBefore": "2025-03-04T00:00:00+00:00"}}, token=token)
    ).ok()
    assert [e["node"]["id"] for e in past["bookings"]["edges"]] == [world.a.bookings["anna-past"]]
    window = (
        await gql(
            client,
            query,
            {
                "f": {
                    "startsFrom": "2025-03-04T00:00:00+00:00",
                    "startsBefore": "2025-03-05T00:00:00+00:00",
                }
            },
            token=token,
        )
    ).ok()
    assert [e["node"]["id"] for e in window["bookings"]["edges"]] == [world.a.bookings["bo-past"]]
    by_vehicle = (
        await gql(client, query, {"f": {"vehicleId": world.a.vehicles["dora"]}}, token=token)
    ).ok()
    assert {e["node"]["id"] for e in by_vehicle["bookings"]["edges"]} == {
        world.a.bookings["dora-past"],
        world.a.bookings["dora-future"],
    }
    naive = await gql(client, query, {"f": {"startsFrom": "2025-03-04T00:00:00"}}, token=token)
    assert (
        naive.codes == ["BAD_USER_INPUT"]
        and naive.errors[0]["extensions"]["field"] == "filter.startsFrom"
    )


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("anna", {"anna"}),
        ("ANNA JENSEN", {"anna"}),
        ("bo@example", {"bo"}),
        ("example", {"anna", "bo", "dora"}),
        ("AL 12342", {"dora"}),
        ("%", set()),
        ("_", set()),
    ],
)
async def test_customer_search(
    client: httpx.AsyncClient, world: World, search: str, expected: set[str]
) -> None:
    query = "query($s: String) { customers(search: $s) { edges { node { id } } } }"
    data = (await gql(client, query, {"s": search}, token=world.a.tokens["staff"])).ok()
    ids = {e["node"]["id"] for e in data["customers"]["edges"]}
    assert ids == {world.a.customers[k] for k in expected}


async def test_customer_search_by_phone_digits(client: httpx.AsyncClient, world: World) -> None:
    phone_query = "query($id: ID!) { customer(id: $id) { phone } }"
    found = await gql(
        client, phone_query, {"id": world.a.customers["bo"]}, token=world.a.tokens["staff"]
    )
    phone = found.ok()["customer"]["phone"]
    query = "query($s: String) { customers(search: $s) { edges { node { id } } } }"
    data = (await gql(client, query, {"s": phone[3:]}, token=world.a.tokens["staff"])).ok()
    assert world.a.customers["bo"] in {e["node"]["id"] for e in data["customers"]["edges"]}


async def test_vehicle_search_by_plate_and_vin(client: httpx.AsyncClient, world: World) -> None:
    query = "query($s: String) { vehicles(search: $s) { edges { node { id vin registration } } } }"
    by_plate = (await gql(client, query, {"s": "al-12341"}, token=world.a.tokens["staff"])).ok()
    edges = by_plate["vehicles"]["edges"]
    assert [e["node"]["id"] for e in edges] == [world.a.vehicles["bo"]]
    by_vin = (
        await gql(client, query, {"s": edges[0]["node"]["vin"]}, token=world.a.tokens["staff"])
    ).ok()
    assert [e["node"]["id"] for e in by_vin["vehicles"]["edges"]] == [world.a.vehicles["bo"]]


async def test_documents_filter_by_kind(client: httpx.AsyncClient, world: World) -> None:
    query = "{ documents(kind: INVOICE) { totalCount edges { node { kind } } } }"
    data = (await gql(client, query, token=world.a.tokens["staff"])).ok()["documents"]
    assert data["totalCount"] == 3 and {e["node"]["kind"] for e in data["edges"]} == {"INVOICE"}


@pytest.mark.parametrize(
    ("who", "hidden_search"),
    [
        pytest.param("inspector", "bo@example", id="inspector: no email"),
        pytest.param("inspector", "<phone>", id="inspector: no phone"),
        pytest.param("partner_reminders", "AL12341", id="reminders: no vehicles"),
        pytest.param("partner_accounting", "<phone>", id="accounting: no phone"),
    ],
)
async def test_search_never_matches_a_field_the_caller_cannot_read(
    client: httpx.AsyncClient, world: World, who: str, hidden_search: str
) -> None:
    """A search is no oracle: the same search by staff finds Bo, by these callers nothing."""
    staff = world.a.tokens["staff"]
    if hidden_search == "<phone>":
        phone_query = "query($id: ID!) { customer(id: $id) { phone } }"
        found = await gql(client, phone_query, {"id": world.a.customers["bo"]}, token=staff)
        hidden_search = found.ok()["customer"]["phone"][3:]
    query = "query($s: String) { customers(search: $s) { edges { node { id } } } }"
    by_staff = (await gql(client, query, {"s": hidden_search}, token=staff)).ok()
    assert world.a.customers["bo"] in {e["node"]["id"] for e in by_staff["customers"]["edges"]}
    token = world.a.tokens.get(who) or world.a.api_keys[who]
    by_them = (await gql(client, query, {"s": hidden_search}, token=token)).ok()
    assert by_them["customers"]["edges"] == []
