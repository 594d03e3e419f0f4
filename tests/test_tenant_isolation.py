"""A token of one tenant never sees another tenant's rows, through any root or nested field."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures import World
from tests.graphql_client import gql

EVERYTHING = """
{
  customers(first: 500) { edges { node { id tenant { slug }
    vehicles { id tenant { slug } bookings { id tenant { slug } } }
    bookings { id tenant { slug } documents { id tenant { slug } } }
    documents { id tenant { slug } booking { id tenant { slug } } customer { id } } } } }
  vehicles(first: 500) { edges { node { id tenant { slug } owner { id tenant { slug } } } } }
  bookings(first: 500) { edges { node { id tenant { slug } customer { id tenant { slug } }
    vehicle { id tenant { slug } } service { tenant { slug } } documents { id tenant { slug } } } } }
  documents(first: 500) { edges { node { id tenant { slug } customer { id tenant { slug } }
    booking { id tenant { slug } } } } }
}
"""


def _slugs(value: object) -> set[str]:
    """Every tenant slug anywhere in a response."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "slug" and isinstance(item, str):
                found.add(item)
            else:
                found |= _slugs(item)
    elif isinstance(value, list):
        for item in value:
            found |= _slugs(item)
    return found


@pytest.mark.parametrize("role", ["tenant_admin", "staff", "inspector"])
async def test_staff_sees_only_own_tenant_everywhere(
    client: httpx.AsyncClient, world: World, role: str
) -> None:
    for own, other in ((world.a, world.b), (world.b, world.a)):
        data = (await gql(client, EVERYTHING, token=own.tokens[role])).ok()
        assert _slugs(data) == {own.slug}
        assert len(data["customers"]["edges"]) == len(own.customers)
        returned = str(data)
        for global_id in [
            *other.customers.values(),
            *other.bookings.values(),
            *other.documents.values(),
        ]:
            assert global_id not in returned


PARTNER_QUERIES = {
    "partner_accounting": """{
      customers(first: 500) { edges { node { id name email tenant { slug }
        bookings { id reference priceOre documents { id tenant { slug } } } } } }
      bookings(first: 500) { edges { node { id reference priceOre tenant { slug }
        customer { id tenant { slug } } documents { id kind tenant { slug } } } } }
      documents(first: 500) { edges { node { id kind tenant { slug } customer { tenant { slug } } } } }
    }""",
    "partner_reminders": """{
      customers(first: 500) { edges { node { id name phone email tenant { slug }
        bookings { id startsAt tenant { slug } } } } }
      bookings(first: 500) { edges { node { id startsAt endsAt tenant { slug }
        customer { id tenant { slug } } service { name tenant { slug } } } } }
    }""",
}


@pytest.mark.parametrize("key", sorted(PARTNER_QUERIES))
async def test_partner_key_sees_only_its_tenant(
    client: httpx.AsyncClient, world: World, key: str
) -> None:
    for own in (world.a, world.b):
        data = (await gql(client, PARTNER_QUERIES[key], token=own.api_keys[key])).ok()
        assert _slugs(data) == {own.slug}
        assert len(data["customers"]["edges"]) == len(own.customers)


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("customer", "customers"),
        ("vehicle", "vehicles"),
        ("booking", "bookings"),
        ("document", "documents"),
    ],
)
async def test_lookup_of_other_tenant_row_is_not_found(
    client: httpx.AsyncClient, world: World, field: str, kind: str
) -> None:
    foreign_id = next(iter(getattr(world.b, kind).values()))
    for query in (
        f'{{ {field}(id: "{foreign_id}") {{ id }} }}',
        f'{{ node(id: "{foreign_id}") {{ id }} }}',
    ):
        result = await gql(client, query, token=world.a.tokens["tenant_admin"])
        assert result.status == 200
        assert result.data == {query.split("(")[0].strip("{ "): None}
        assert result.codes == ["NOT_FOUND"]


async def test_not_found_for_foreign_and_missing_rows_is_identical(
    client: httpx.AsyncClient, world: World
) -> None:
    from basics.ids import encode_id

    foreign = world.b.customers["carl"]
    missing = encode_id("Customer", "0" * 32)
    answers = []
    for global_id in (foreign, missing):
        result = await gql(
            client, f'{{ customer(id: "{global_id}") {{ id }} }}', token=world.a.tokens["staff"]
        )
        answers.append((result.data, [(e["message"], e["extensions"]) for e in result.errors]))
    assert answers[0] == answers[1]


async def test_filters_cannot_reach_other_tenant(client: httpx.AsyncClient, world: World) -> None:
    query = "query($c: ID!) { bookings(filter: {customerId: $c}) { edges { node { id } } } }"
    result = await gql(
        client, query, {"c": world.b.customers["carl"]}, token=world.a.tokens["staff"]
    )
    assert result.ok()["bookings"]["edges"] == []


async def test_search_cannot_reach_other_tenant(client: httpx.AsyncClient, world: World) -> None:
    query = '{ customers(search: "Carl") { edges { node { id } } } }'
    assert (await gql(client, query, token=world.a.tokens["staff"])).ok()["customers"][
        "edges"
    ] == []
    found = (await gql(client, query, token=world.b.tokens["staff"])).ok()["customers"]["edges"]
    assert [e["node"]["id"] for e in found] == [world.b.customers["carl"]]


async def test_subject_sees_own_rows_in_both_tenants_and_nobody_else(
    client: httpx.AsyncClient, world: World
) -> None:
    data = (await gql(client, EVERYTHING, token=world.subject_tokens["anna"])).ok()
    customer_ids = {e["node"]["id"] for e in data["customers"]["edges"]}
    assert customer_ids == {world.a.customers["anna"], world.b.customers["anna"]}
    assert _slugs(data) == {world.a.slug, world.b.slug}
    booking_ids = {e["node"]["id"] for e in data["bookings"]["edges"]}
    assert booking_ids == {
        world.a.bookings["anna-past"],
        world.a.bookings["anna-future"],
        world.b.bookings["anna-past"],
        world.b.bookings["anna-future"],
    }
    lookup = await gql(
        client,
        f'{{ customer(id: "{world.a.customers["bo"]}") {{ id }} }}',
        token=world.subject_tokens["anna"],
    )
    assert lookup.codes == ["NOT_FOUND"]


async def test_unknown_subject_sees_nothing(client: httpx.AsyncClient, world: World) -> None:
    data = (await gql(client, EVERYTHING, token=world.subject_tokens["nobody"])).ok()
    assert all(not data[key]["edges"] for key in ("customers", "vehicles", "bookings", "documents"))


@pytest.mark.parametrize("who", ["anonymous", "platform"])
async def test_anonymous_and_platform_are_refused_personal_data(
    client: httpx.AsyncClient, world: World, who: str
) -> None:
    token = None if who == "anonymous" else world.platform_token
    result = await gql(client, EVERYTHING, token=token)
    assert result.data is None and result.codes == ["FORBIDDEN"]
    denied = set(result.errors[0]["extensions"]["deniedFields"])
    assert {
        "Query.customers",
        "Query.bookings",
        "Customer.email",
        "Document.content",
    } <= denied or {
        "Query.customers",
        "Query.bookings",
    } <= denied


async def test_public_tenant_profile_and_active_services(
    client: httpx.AsyncClient, world: World
) -> None:
    query = '{ tenant(slug: "alpha-syn") { name kind openingHours { day opens closes } services { name active } } }'
    data = (await gql(client, query)).ok()
    assert data["tenant"]["kind"] == "INSPECTION_STATION"
    assert {"day": "mon", "opens": "07:00", "closes": "17:00"} in data["tenant"]["openingHours"]
    assert {s["name"] for s in data["tenant"]["services"]} == {"Periodisk syn", "Omsyn"}
    staff = (await gql(client, query, token=world.a.tokens["staff"])).ok()
    assert "Gammel ydelse" in {s["name"] for s in staff["tenant"]["services"]}
    other_staff = (await gql(client, query, token=world.b.tokens["staff"])).ok()
    assert "Gammel ydelse" not in {s["name"] for s in other_staff["tenant"]["services"]}


async def test_unknown_tenant_slug_is_not_found(client: httpx.AsyncClient) -> None:
    result = await gql(client, '{ tenant(slug: "no-such-tenant") { name } }')
    assert result.data == {"tenant": None}
    assert result.codes == ["NOT_FOUND"]
