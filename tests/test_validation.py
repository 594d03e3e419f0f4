"""Bad input: BAD_USER_INPUT naming the offending field, and nothing stored.

Every case runs against a station of this module's own, so "nothing stored" is
checked by the station's totals and the target rows staying exactly as they were.
"""

from __future__ import annotations

import itertools
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from basics.ids import encode_id
from identity import tokens
from store.engine import create_sessionmaker
from store.models import Service, Tenant, TenantKind
from store.types import new_id
from tests.conftest import Backend
from tests.graphql_client import Result, gql

CREATE_CUSTOMER = """mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id name email phone } } }"""
UPDATE_CUSTOMER = """mutation($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(id: $id, input: $input) { customer { id } } }"""
CREATE_VEHICLE = """mutation($input: CreateVehicleInput!) {
  createVehicle(input: $input) { vehicle { id } } }"""
UPDATE_VEHICLE = """mutation($id: ID!, $input: UpdateVehicleInput!) {
  updateVehicle(id: $id, input: $input) { vehicle { id } } }"""
CREATE_BOOKING = """mutation($input: CreateBookingInput!) {
  createBooking(input: $input) { booking { id } } }"""
RESCHEDULE_BOOKING = """mutation($id: ID!, $startsAt: DateTime!) {
  rescheduleBooking(id: $id, startsAt: $startsAt) { booking { id } } }"""
CANCEL_BOOKING = "mutation($id: ID!) { cancelBooking(id: $id) { booking { id } } }"
ADD_DOCUMENT = """mutation($input: AddDocumentInput!) {
  addDocument(input: $input) { document { id } } }"""

# Everything a write could change in the station.
SNAPSHOT = """{
  customers(first: 500) { totalCount edges { node { id name email phone street postalCode city } } }
  vehicles(first: 500) {
    totalCount edges { node { id registration vin make model firstRegistrationDate owner { id } } }
  }
  bookings(first: 500) {
    totalCount edges { node { id status startsAt endsAt customerNotes internalNotes } }
  }
  documents { totalCount }
}"""


@dataclass
class Station:
    slug: str
    staff: str
    services: dict[str, str]


@pytest.fixture(scope="module")
async def station(backend: Backend) -> Station:
    """A tenant of this module's own, with a bookable and a retired service."""
    slug = f"validation-syn-{uuid.uuid4().hex[:8]}"
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        tenant = Tenant(id=new_id(), slug=slug, name="Validering", kind=TenantKind.WORKSHOP)
        session.add(tenant)
        await session.flush()
        services = {
            "main": Service(
                tenant_id=tenant.id, name="Service", duration_minutes=60, price_ore=99500
            ),
            "inactive": Service(
                tenant_id=tenant.id,
                name="Gammel ydelse",
                duration_minutes=30,
                price_ore=10000,
                active=False,
            ),
        }
        session.add_all(services.values())
    staff = tokens.staff_token(
        backend.settings,
        subject=f"staff@{slug}",
        tenant_id=tenant.id,
        tenant_slug=slug,
        role="staff",
    )
    return Station(slug, staff, {k: encode_id("Service", s.id) for k, s in services.items()})


@dataclass
class Scene:
    """A customer with a vehicle and a booking: ids to aim bad input at."""

    customer: str
    vehicle: str
    booking: str


FIRST_SLOT = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0) + timedelta(
    days=random.randint(60, 500)
)
_slot_numbers = itertools.count()


def later_slot() -> datetime:
    """A whole-hour start time 60-600 days ahead, two hours after the previous one."""
    return FIRST_SLOT + timedelta(hours=2 * next(_slot_numbers))


async def make_scene(client: httpx.AsyncClient, station: Station) -> Scene:
    customer = await gql(
        client,
        CREATE_CUSTOMER,
        {"input": {"name": "Vera Validering", "phone": "+4520123456"}},
        token=station.staff,
    )
    customer_id = customer.ok()["createCustomer"]["customer"]["id"]
    vehicle = await gql(
        client,
        CREATE_VEHICLE,
        {"input": {"ownerId": customer_id, "registration": "VA12345"}},
        token=station.staff,
    )
    vehicle_id = vehicle.ok()["createVehicle"]["vehicle"]["id"]
    booking = await gql(
        client,
        CREATE_BOOKING,
        {
            "input": {
                "customerId": customer_id,
                "serviceId": station.services["main"],
                "vehicleId": vehicle_id,
                "startsAt": later_slot().isoformat(),
            }
        },
        token=station.staff,
    )
    return Scene(customer_id, vehicle_id, booking.ok()["createBooking"]["booking"]["id"])


async def snapshot(client: httpx.AsyncClient, station: Station) -> Any:
    return (await gql(client, SNAPSHOT, token=station.staff)).ok()


async def upload(
    client: httpx.AsyncClient,
    token: str,
    values: dict[str, Any],
    *,
    content: bytes,
    content_type: str,
) -> Result:
    """``addDocument`` as a GraphQL multipart request."""
    operations = {"query": ADD_DOCUMENT, "variables": {"input": {**values, "file": None}}}
    response = await client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("fil", content, content_type)},
        headers={"Authorization": f"Bearer {token}", "GraphQL-Require-Preflight": "1"},
    )
    return Result(response.status_code, response.json())


def assert_bad_input(result: Result, field: str) -> None:
    assert result.status == 200, result.body
    assert result.codes == ["BAD_USER_INPUT"], result.body
    assert result.errors[0]["extensions"]["field"] == field
    assert result.data is None


# --- customers -------------------------------------------------------------------

VALID_CUSTOMER = {"name": "Karen Kunde", "email": "karen@example.dk"}

CUSTOMER_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("email without at", {"email": "karen.example.dk"}, "input.email"),
    ("email without domain", {"email": "karen@"}, "input.email"),
    ("phone too short", {"phone": "1234"}, "input.phone"),
    ("phone letters", {"phone": "ring til mig"}, "input.phone"),
    ("empty name", {"name": ""}, "input.name"),
    ("whitespace name", {"name": "   \t "}, "input.name"),
    ("name of 201 characters", {"name": "K" * 201}, "input.name"),
    ("NUL in name", {"name": "Karen\x00Kunde"}, "input.name"),
    ("escape in name", {"name": "Karen\x1b[31mKunde"}, "input.name"),
    ("neither email nor phone", {"email": None}, "input.email"),
    ("postal code of five digits", {"postalCode": "80000"}, "input.postalCode"),
    ("postal code with letters", {"postalCode": "DK-8000"}, "input.postalCode"),
    ("full-width postal code", {"postalCode": "\uff18\uff10\uff10\uff10"}, "input.postalCode"),
    ("Arabic-Indic postal code", {"postalCode": "\u0668\u0660\u0660\u0660"}, "input.postalCode"),
    ("street of 201 characters", {"street": "S" * 201}, "input.street"),
    ("NUL in city", {"city": "Aarhus\x00"}, "input.city"),
    ("line break in name", {"name": "Karen\nKunde"}, "input.name"),
    ("tab in city", {"city": "Aar\thus"}, "input.city"),
    ("right-to-left override in name", {"name": "Karen\u202eednuK"}, "input.name"),
    ("C1 control in street", {"street": "Vej\x85 1"}, "input.street"),
    ("created online by staff", {"createdVia": "ONLINE"}, "input.createdVia"),
]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [pytest.param(o, f, id=name) for name, o, f in CUSTOMER_CASES],
)
async def test_create_customer_rejects(
    client: httpx.AsyncClient, station: Station, overrides: dict[str, Any], field: str
) -> None:
    before = await snapshot(client, station)
    result = await gql(
        client, CREATE_CUSTOMER, {"input": {**VALID_CUSTOMER, **overrides}}, token=station.staff
    )
    assert_bad_input(result, field)
    assert await snapshot(client, station) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"email": "karen@@example.dk"}, "input.email", id="email"),
        pytest.param({"phone": "+45 12"}, "input.phone", id="phone"),
        pytest.param({"name": " "}, "input.name", id="blank name"),
        pytest.param({"name": None}, "input.name", id="null name"),
        pytest.param({"phone": None}, "input.email", id="clearing the only contact"),
        pytest.param({"postalCode": "123"}, "input.postalCode", id="postal code"),
    ],
)
async def test_update_customer_rejects(
    client: httpx.AsyncClient, station: Station, overrides: dict[str, Any], field: str
) -> None:
    scene = await make_scene(client, station)
    before = await snapshot(client, station)
    result = await gql(
        client, UPDATE_CUSTOMER, {"id": scene.customer, "input": overrides}, token=station.staff
    )
    assert_bad_input(result, field)
    assert await snapshot(client, station) == before


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("20 12 34 56", "+4520123456"),
        ("20123456", "+4520123456"),
        ("+45 20 12 34 56", "+4520123456"),
        ("0046 8 123 456 78", "+46812345678"),
    ],
)
async def test_phone_numbers_are_stored_as_e164(
    client: httpx.AsyncClient, station: Station, given: str, stored: str
) -> None:
    result = await gql(
        client,
        CREATE_CUSTOMER,
        {"input": {"name": "Pia Telefon", "phone": given}},
        token=station.staff,
    )
    customer = result.ok()["createCustomer"]["customer"]
    assert customer["phone"] == stored
    read = await gql(
        client,
        "query($id: ID!) { customer(id: $id) { phone } }",
        {"id": customer["id"]},
        token=station.staff,
    )
    assert read.ok()["customer"]["phone"] == stored


async def test_longest_allowed_values_are_stored(
    client: httpx.AsyncClient, station: Station
) -> None:
    name, notes = "N" * 200, "n" * 2000
    created = await gql(
        client,
        CREATE_CUSTOMER,
        {"input": {"name": name, "phone": "+4520123456"}},
        token=station.staff,
    )
    customer = created.ok()["createCustomer"]["customer"]
    assert customer["name"] == name
    values = {
        "customerId": customer["id"],
        "serviceId": station.services["main"],
        "startsAt": later_slot().isoformat(),
        "customerNotes": notes,
        "internalNotes": notes,
    }
    booking = await gql(client, CREATE_BOOKING, {"input": values}, token=station.staff)
    read = await gql(
        client,
        "query($id: ID!) { booking(id: $id) { customerNotes internalNotes } }",
        {"id": booking.ok()["createBooking"]["booking"]["id"]},
        token=station.staff,
    )
    assert read.ok()["booking"] == {"customerNotes": notes, "internalNotes": notes}


# --- vehicles --------------------------------------------------------------------

FUTURE_DATE = (date.today() + timedelta(days=30)).isoformat()

VEHICLE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("registration too long", {"registration": "AB123456"}, "input.registration"),
    ("registration too short", {"registration": "A"}, "input.registration"),
    ("registration symbols", {"registration": "AB!2345"}, "input.registration"),
    ("VIN with I", {"vin": "WVWZZZ1JZIW000001"}, "input.vin"),
    ("VIN with O", {"vin": "WVWZZZ1JZOW000001"}, "input.vin"),
    ("VIN with Q", {"vin": "WVWZZZ1JZQW000001"}, "input.vin"),
    ("VIN of 16", {"vin": "WVWZZZ1JZXW00000"}, "input.vin"),
    ("VIN of 18", {"vin": "WVWZZZ1JZXW0000001"}, "input.vin"),
    ("neither registration nor VIN", {"registration": None, "make": "VW"}, "input.registration"),
    (
        "first registration in the future",
        {"firstRegistrationDate": FUTURE_DATE},
        "input.firstRegistrationDate",
    ),
    (
        "first registration before 1900",
        {"firstRegistrationDate": "1899-12-31"},
        "input.firstRegistrationDate",
    ),
    ("make of 61 characters", {"make": "M" * 61}, "input.make"),
    ("garbage owner id", {"ownerId": "not an id!"}, "input.ownerId"),
    ("empty owner id", {"ownerId": ""}, "input.ownerId"),
]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [pytest.param(o, f, id=name) for name, o, f in VEHICLE_CASES],
)
async def test_create_vehicle_rejects(
    client: httpx.AsyncClient, station: Station, overrides: dict[str, Any], field: str
) -> None:
    scene = await make_scene(client, station)
    before = await snapshot(client, station)
    values = {"ownerId": scene.customer, "registration": "VB12345", **overrides}
    result = await gql(client, CREATE_VEHICLE, {"input": values}, token=station.staff)
    assert_bad_input(result, field)
    assert await snapshot(client, station) == before


async def test_create_vehicle_rejects_an_owner_id_of_another_type(
    client: httpx.AsyncClient, station: Station
) -> None:
    scene = await make_scene(client, station)
    before = await snapshot(client, station)
    values = {"ownerId": scene.booking, "registration": "VB12345"}
    result = await gql(client, CREATE_VEHICLE, {"input": values}, token=station.staff)
    assert_bad_input(result, "input.ownerId")
    assert await snapshot(client, station) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"vin": "WVWZZZ1JZIW000001"}, "input.vin", id="VIN"),
        pytest.param({"registration": None}, "input.registration", id="clearing the only plate"),
        pytest.param(
            {"firstRegistrationDate": FUTURE_DATE}, "input.firstRegistrationDate", id="future date"
        ),
        pytest.param({"ownerId": "Q3VzdG9tZXI6"}, "input.ownerId", id="id without key"),
    ],
)
async def test_update_vehicle_rejects(
    client: httpx.AsyncClient, station: Station, overrides: dict[str, Any], field: str
) -> None:
    scene = await make_scene(client, station)
    before = await snapshot(client, station)
    result = await gql(
        client, UPDATE_VEHICLE, {"id": scene.vehicle, "input": overrides}, token=station.staff
    )
    assert_bad_input(result, field)
    assert await snapshot(client, station) == before


# --- bookings --------------------------------------------------------------------

BOOKING_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("start without offset", {"startsAt": "2027-01-01T10:00:00"}, "input.startsAt"),
    ("start in the past", {"startsAt": "2020-01-01T10:00:00+00:00"}, "input.startsAt"),
    ("start three years ahead", {"startsAt": "<3y>"}, "input.startsAt"),
    ("garbage customer id", {"customerId": "garbage"}, "input.customerId"),
    ("non-base64 customer id", {"customerId": "%%%"}, "input.customerId"),
    ("over-long customer id", {"customerId": "Q" * 500}, "input.customerId"),
    ("booking id as customer id", {"customerId": "<booking>"}, "input.customerId"),
    ("vehicle id as customer id", {"customerId": "<vehicle>"}, "input.customerId"),
    ("customer id as service id", {"serviceId": "<customer>"}, "input.serviceId"),
    ("customer id as vehicle id", {"vehicleId": "<customer>"}, "input.vehicleId"),
    ("empty vehicle id", {"vehicleId": ""}, "input.vehicleId"),
    ("retired service", {"serviceId": "<inactive>"}, "input.serviceId"),
    ("customer notes of 2001", {"customerNotes": "n" * 2001}, "input.customerNotes"),
    ("internal notes of 2001", {"internalNotes": "n" * 2001}, "input.internalNotes"),
    ("NUL in notes", {"customerNotes": "Ring\x00"}, "input.customerNotes"),
    ("online channel by staff", {"channel": "ONLINE"}, "input.channel"),
]


def _resolve(value: Any, scene: Scene, station: Station, other: Scene | None = None) -> Any:
    """Replace a ``<placeholder>`` with an id (or time) known only once the scene exists."""
    placeholders = {
        "<other>": other.customer if other else "",
        "<booking>": scene.booking,
        "<vehicle>": scene.vehicle,
        "<customer>": scene.customer,
        "<inactive>": station.services["inactive"],
        "<3y>": (datetime.now(UTC) + timedelta(days=3 * 365)).isoformat(),
    }
    return placeholders.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize(
    ("overrides", "field"),
    [pytest.param(o, f, id=name) for name, o, f in BOOKING_CASES],
)
async def test_create_booking_rejects(
    client: httpx.AsyncClient, station: Station, overrides: dict[str, Any], field: str
) -> None:
    scene = await make_scene(client, station)
    before = await snapshot(client, station)
    values = {
        "customerId": scene.customer,
        "serviceId": station.services["main"],
        "startsAt": later_slot().isoformat(),
        **{key: _resolve(value, scene, station) for key, value in overrides.items()},
    }
    result = await gql(client, CREATE_BOOKING, {"input": values}, token=station.staff)
    assert_bad_input(result, field)
    assert await snapshot(client, station) == before


@pytest.mark.parametrize(
    ("booking", "starts_at", "field"),
    [
        pytest.param("<booking>", "2027-01-01T10:00:00", "startsAt", id="no offset"),
        pytest.param("<booking>", "2021-06-01T10:00:00+02:00", "startsAt", id="past"),
        pytest.param("garbage", None, "id", id="garbage id"),
        pytest.param("<customer>", None, "id", id="customer id"),
    ],
)
async def test_reschedule_booking_rejects(
    client: httpx.AsyncClient,
    station: Station,
    booking: str,
    starts_at: str | None,
    field: str,
) -> None:
    scene = await make_scene(client, station)
    before = await snapshot(client, station)
    variables = {
        "id": _resolve(booking, scene, station),
        "startsAt": starts_at or later_slot().isoformat(),
    }
    result = await gql(client, RESCHEDULE_BOOKING, variables, token=station.staff)
    assert_bad_input(result, field)
    assert await snapshot(client, station) == before


@pytest.mark.parametrize("booking", ["garbage", "<vehicle>", encode_id("Booking", "ab-cd")])
async def test_cancel_booking_rejects_malformed_ids(
    client: httpx.AsyncClient, station: Station, booking: str
) -> None:
    scene = await make_scene(client, station)
    before = await snapshot(client, station)
    result = await gql(
        client, CANCEL_BOOKING, {"id": _resolve(booking, scene, station)}, token=station.staff
    )
    assert_bad_input(result, "id")
    assert await snapshot(client, station) == before


# --- documents -------------------------------------------------------------------

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b"", "application/pdf", id="empty file"),
        pytest.param(b"MZ\x90\x00", "application/x-msdownload", id="executable"),
        pytest.param(b"<svg onload=alert(1)>", "image/svg+xml", id="svg"),
        pytest.param(PDF, "", id="no content type"),
    ],
)
async def test_add_document_rejects_the_file(
    client: httpx.AsyncClient, station: Station, content: bytes, content_type: str
) -> None:
    scene = await make_scene(client, station)
    before = await snapshot(client, station)
    values = {"kind": "INVOICE", "title": "Faktura", "bookingId": scene.booking}
    result = await upload(client, station.staff, values, content=content, content_type=content_type)
    assert_bad_input(result, "input.file")
    assert await snapshot(client, station) == before


DOCUMENT_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("neither booking nor customer", {"bookingId": None}, "input.bookingId"),
    ("empty booking id", {"bookingId": ""}, "input.bookingId"),
    ("empty customer id", {"bookingId": None, "customerId": ""}, "input.customerId"),
    ("garbage booking id", {"bookingId": "garbage"}, "input.bookingId"),
    ("vehicle id as booking id", {"bookingId": "<vehicle>"}, "input.bookingId"),
    ("another customer than the booking's", {"customerId": "<other>"}, "input.customerId"),
    ("empty title", {"title": "  "}, "input.title"),
    ("title of 201 characters", {"title": "T" * 201}, "input.title"),
]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [pytest.param(o, f, id=name) for name, o, f in DOCUMENT_CASES],
)
async def test_add_document_rejects(
    client: httpx.AsyncClient, station: Station, overrides: dict[str, Any], field: str
) -> None:
    scene = await make_scene(client, station)
    other = await make_scene(client, station)
    before = await snapshot(client, station)
    values = {
        "kind": "INVOICE",
        "title": "Faktura",
        "bookingId": scene.booking,
        **{key: _resolve(value, scene, station, other) for key, value in overrides.items()},
    }
    result = await upload(
        client, station.staff, values, content=PDF, content_type="application/pdf"
    )
    assert_bad_input(result, field)
    assert await snapshot(client, station) == before


# --- GraphQL-level bad input -----------------------------------------------------

GRAPHQL_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("number for a string", CREATE_CUSTOMER, {"input": {"name": 42, "phone": "+4520123456"}}),
    ("missing required field", CREATE_CUSTOMER, {"input": {"phone": "+4520123456"}}),
    ("unknown input field", CREATE_CUSTOMER, {"input": {"name": "X", "admin": True}}),
    ("unknown enum value", CREATE_CUSTOMER, {"input": {"name": "X", "createdVia": "FAX"}}),
    ("missing variable", CREATE_CUSTOMER, {}),
    ("list for an object", CREATE_CUSTOMER, {"input": ["name"]}),
    (
        "not a date",
        CREATE_VEHICLE,
        {"input": {"registration": "VB1", "firstRegistrationDate": "i går"}},
    ),
    (
        "impossible date",
        CREATE_VEHICLE,
        {"input": {"vin": None, "firstRegistrationDate": "2020-02-30"}},
    ),
    ("not a datetime", RESCHEDULE_BOOKING, {"id": "x", "startsAt": "tomorrow at ten"}),
    ("number for a datetime", RESCHEDULE_BOOKING, {"id": "x", "startsAt": 1767225600}),
    ("object for an id", CANCEL_BOOKING, {"id": {"key": "value"}}),
    ("literal of the wrong type", "mutation { cancelBooking(id: 12.5) { booking { id } } }", {}),
    ("unknown field", 'mutation { createCustomer(input: {name: "X"}) { secret } }', {}),
    ("syntax error", "mutation { cancelBooking(id: ", {}),
]


@pytest.mark.parametrize(
    ("query", "variables"),
    [pytest.param(q, v, id=name) for name, q, v in GRAPHQL_CASES],
)
async def test_malformed_graphql_is_bad_user_input(
    client: httpx.AsyncClient, station: Station, query: str, variables: dict[str, Any]
) -> None:
    before = await snapshot(client, station)
    result = await gql(client, query, variables, token=station.staff)
    assert result.status in (200, 400), result.body
    assert result.errors, result.body
    assert set(result.codes) == {"BAD_USER_INPUT"}, result.body
    assert not result.data
    assert await snapshot(client, station) == before


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"query": 42}', b'{"query": "{ viewer { kind } }", "variables": []}'],
)
async def test_malformed_request_body_is_not_a_server_error(
    client: httpx.AsyncClient, station: Station, body: bytes
) -> None:
    response = await client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {station.staff}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("operations", "files_map"),
    [
        pytest.param("{not json", '{"0": ["variables.input.file"]}', id="operations not JSON"),
        pytest.param(None, '{"1": ["variables.input.file"]}', id="map names a missing part"),
    ],
)
async def test_malformed_multipart_is_not_a_server_error(
    client: httpx.AsyncClient, station: Station, operations: str | None, files_map: str
) -> None:
    before = await snapshot(client, station)
    valid = {"query": ADD_DOCUMENT, "variables": {"input": {"kind": "OTHER", "title": "X"}}}
    response = await client.post(
        "/graphql",
        data={"operations": operations or json.dumps(valid), "map": files_map},
        files={"0": ("fil.pdf", PDF, "application/pdf")},
        headers={"Authorization": f"Bearer {station.staff}", "GraphQL-Require-Preflight": "1"},
    )
    assert response.status_code == 400
    assert await snapshot(client, station) == before


async def test_create_booking_rejects_another_customers_vehicle(
    client: httpx.AsyncClient, station: Station
) -> None:
    mine, theirs = await make_scene(client, station), await make_scene(client, station)
    before = await snapshot(client, station)
    values = {
        "customerId": mine.customer,
        "serviceId": station.services["main"],
        "vehicleId": theirs.vehicle,
        "startsAt": later_slot().isoformat(),
    }
    result = await gql(client, CREATE_BOOKING, {"input": values}, token=station.staff)
    assert_bad_input(result, "input.vehicleId")
    assert await snapshot(client, station) == before


async def test_notes_may_span_lines(client: httpx.AsyncClient, station: Station) -> None:
    scene = await make_scene(client, station)
    values = {
        "customerId": scene.customer,
        "serviceId": station.services["main"],
        "startsAt": later_slot().isoformat(),
        "customerNotes": "Første linje\nAnden linje",
    }
    created = await gql(client, CREATE_BOOKING, {"input": values}, token=station.staff)
    assert created.ok()["createBooking"]["booking"]["id"]
