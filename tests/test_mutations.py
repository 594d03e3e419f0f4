"""Mutations over HTTP: payloads, slot capacity, uploads, and who may write what.

The writes here go to two stations of their own (created once per backend), so
the shared world of ``tests/fixtures.py`` keeps exactly the rows other tests
count on. The fixture world is only read: a completed booking that must stay so.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from basics.ids import decode_id, encode_id
from basics.principal import PARTNER_ROLES, STAFF_ROLES
from bookings import capacity
from identity import tokens
from identity.apikeys import create_api_key
from store.engine import create_sessionmaker
from store.models import Booking as BookingRow
from store.models import BookingStatus, Service, Tenant, TenantKind
from store.types import new_id
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import Result, gql

MAIN_PRICE_ORE = 55000
SHARED_PRICE_ORE = 25000
DURATION = timedelta(minutes=30)
REFERENCE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")

CUSTOMER = "id name email phone street postalCode city createdVia tenant { slug }"
VEHICLE = "id registration vin make model firstRegistrationDate owner { id } tenant { slug }"
BOOKING = """id reference status startsAt endsAt priceOre channel customerNotes internalNotes
    tenant { slug } customer { id } vehicle { id } service { id }"""
DOCUMENT = """id kind title mimeType sizeBytes sha256 issuedAt retainUntil downloadUrl
    tenant { slug } booking { id } customer { id }"""

CREATE_CUSTOMER = f"""mutation($input: CreateCustomerInput!) {{
  createCustomer(input: $input) {{ customer {{ {CUSTOMER} }} }} }}"""
UPDATE_CUSTOMER = f"""mutation($id: ID!, $input: UpdateCustomerInput!) {{
  updateCustomer(id: $id, input: $input) {{ customer {{ {CUSTOMER} }} }} }}"""
CREATE_VEHICLE = f"""mutation($input: CreateVehicleInput!) {{
  createVehicle(input: $input) {{ vehicle {{ {VEHICLE} }} }} }}"""
UPDATE_VEHICLE = f"""mutation($id: ID!, $input: UpdateVehicleInput!) {{
  updateVehicle(id: $id, input: $input) {{ vehicle {{ {VEHICLE} }} }} }}"""
CREATE_BOOKING = f"""mutation($input: CreateBookingInput!) {{
  createBooking(input: $input) {{ booking {{ {BOOKING} }} }} }}"""
RESCHEDULE_BOOKING = f"""mutation($id: ID!, $startsAt: DateTime!) {{
  rescheduleBooking(id: $id, startsAt: $startsAt) {{ booking {{ {BOOKING} }} }} }}"""
CANCEL_BOOKING = f"""mutation($id: ID!) {{
  cancelBooking(id: $id) {{ booking {{ {BOOKING} }} }} }}"""
ADD_DOCUMENT = f"""mutation($input: AddDocumentInput!) {{
  addDocument(input: $input) {{ document {{ {DOCUMENT} }} }} }}"""

CUSTOMER_BY_ID = f"query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER} }} }}"
VEHICLE_BY_ID = f"query($id: ID!) {{ vehicle(id: $id) {{ {VEHICLE} }} }}"
BOOKING_BY_ID = f"query($id: ID!) {{ booking(id: $id) {{ {BOOKING} }} }}"
CUSTOMER_BOOKINGS = """query($customer: ID!) {
  bookings(filter: {customerId: $customer}) { totalCount edges { node { id startsAt status } } }
}"""

# Everything a write could change, as the station's own staff sees it.
SNAPSHOT = """query($customer: ID!, $search: String!) {
  customers(search: $search) { totalCount }
  vehicles { totalCount }
  bookings { totalCount }
  documents { totalCount }
  customer(id: $customer) {
    name email phone street postalCode city
    vehicles { id registration vin make model owner { id } }
    bookings { id status startsAt endsAt vehicle { id } }
    documents { id }
  }
}"""


@dataclass
class Station:
    """A tenant owned by this module: its services, staff tokens and partner keys."""

    slug: str
    services: dict[str, str]
    tokens: dict[str, str]
    api_keys: dict[str, str]

    @property
    def staff(self) -> str:
        return self.tokens["staff"]


@dataclass
class Stations:
    own: Station
    rival: Station


async def _open_station(backend: Backend, label: str) -> Station:
    sessions = create_sessionmaker(backend.engine)
    slug = f"{label}-{uuid.uuid4().hex[:8]}"
    async with sessions() as session, session.begin():
        tenant = Tenant(
            id=new_id(), slug=slug, name=label.title(), kind=TenantKind.INSPECTION_STATION
        )
        session.add(tenant)
        await session.flush()
        services = {
            "main": Service(
                tenant_id=tenant.id,
                name="Periodisk syn",
                duration_minutes=30,
                price_ore=MAIN_PRICE_ORE,
                capacity_per_slot=1,
            ),
            "shared": Service(
                tenant_id=tenant.id,
                name="Omsyn",
                duration_minutes=30,
                price_ore=SHARED_PRICE_ORE,
                capacity_per_slot=2,
            ),
        }
        session.add_all(services.values())
        keys = {
            role: (await create_api_key(session, tenant=tenant, role=role, name=role)).plaintext
            for role in sorted(PARTNER_ROLES)
        }
    return Station(
        slug=slug,
        services={key: encode_id("Service", s.id) for key, s in services.items()},
        tokens={
            role: tokens.staff_token(
                backend.settings,
                subject=f"{role}@{slug}",
                tenant_id=tenant.id,
                tenant_slug=slug,
                role=role,
            )
            for role in sorted(STAFF_ROLES)
        },
        api_keys=keys,
    )


@pytest.fixture(scope="module")
async def stations(backend: Backend) -> Stations:
    return Stations(
        own=await _open_station(backend, "mutation-syn"),
        rival=await _open_station(backend, "rival-syn"),
    )


@pytest.fixture
def station(stations: Stations) -> Station:
    return stations.own


class Slots:
    """Distinct whole-hour start times 60-600 days ahead, one per call."""

    def __init__(self) -> None:
        day = datetime.now(UTC) + timedelta(days=random.randint(60, 540))
        self._next = day.replace(hour=6, minute=0, second=0, microsecond=0)

    def take(self) -> datetime:
        slot = self._next
        self._next += timedelta(hours=1)
        return slot


SLOTS = Slots()


def unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:10]}"


def plate() -> str:
    return f"MT{random.randint(0, 99999):05d}"


def vin() -> str:
    return "WVWZZZ1JZ" + "".join(random.choices("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", k=8))


def iso(moment: datetime) -> str:
    return moment.isoformat()


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def field_of(result: Result) -> str | None:
    return result.errors[0].get("extensions", {}).get("field") if result.errors else None


async def create_customer(client: httpx.AsyncClient, token: str, **fields: Any) -> Any:
    name = unique("Kunde")
    values = {"name": name, "email": f"{name.split()[1]}@example.dk", **fields}
    result = await gql(client, CREATE_CUSTOMER, {"input": values}, token=token)
    return result.ok()["createCustomer"]["customer"]


async def create_vehicle(client: httpx.AsyncClient, token: str, **fields: Any) -> Any:
    values = {"registration": plate(), **fields}
    result = await gql(client, CREATE_VEHICLE, {"input": values}, token=token)
    return result.ok()["createVehicle"]["vehicle"]


async def book(
    client: httpx.AsyncClient,
    token: str,
    *,
    customer: str,
    service: str,
    starts_at: datetime,
    **fields: Any,
) -> Result:
    values = {"customerId": customer, "serviceId": service, "startsAt": iso(starts_at), **fields}
    return await gql(client, CREATE_BOOKING, {"input": values}, token=token)


async def try_booking(
    client: httpx.AsyncClient,
    station: Station,
    customer: dict[str, Any],
    starts_at: datetime,
    service: str = "main",
) -> Result:
    """A staff booking at ``station`` for one of its services, by key ("main", "shared")."""
    return await book(
        client,
        station.staff,
        customer=customer["id"],
        service=station.services[service],
        starts_at=starts_at,
    )


async def booked(
    client: httpx.AsyncClient,
    station: Station,
    customer: dict[str, Any],
    starts_at: datetime,
    service: str = "main",
) -> Any:
    result = await try_booking(client, station, customer, starts_at, service)
    return result.ok()["createBooking"]["booking"]


async def upload(
    client: httpx.AsyncClient,
    token: str | None,
    values: dict[str, Any],
    *,
    content: bytes,
    content_type: str = "application/pdf",
    filename: str = "dokument.pdf",
) -> Result:
    """``addDocument`` as a GraphQL multipart request: operations, map, then the file part."""
    operations = {"query": ADD_DOCUMENT, "variables": {"input": {**values, "file": None}}}
    headers = {"GraphQL-Require-Preflight": "1"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, content, content_type)},
        headers=headers,
    )
    return Result(response.status_code, response.json())


async def customer_bookings(client: httpx.AsyncClient, token: str, customer: str) -> list[Any]:
    result = await gql(client, CUSTOMER_BOOKINGS, {"customer": customer}, token=token)
    data = result.ok()["bookings"]
    assert data["totalCount"] == len(data["edges"])
    return [edge["node"] for edge in data["edges"]]


async def read(client: httpx.AsyncClient, token: str, query: str, id: str) -> Any:
    """One row by id through the matching root field (``customer``, ``vehicle``, ``booking``)."""
    data = (await gql(client, query, {"id": id}, token=token)).ok()
    return next(iter(data.values()))


async def read_booking(client: httpx.AsyncClient, token: str, booking: str) -> Any:
    return await read(client, token, BOOKING_BY_ID, booking)


@dataclass
class Target:
    """A customer with a vehicle and a booking in one station: what a write aims at."""

    station: Station
    customer: dict[str, Any]
    vehicle: dict[str, Any]
    booking: dict[str, Any]
    free_slot: datetime = field(default_factory=SLOTS.take)

    @property
    def search(self) -> str:
        return str(self.customer["name"]).split()[1]


async def make_target(client: httpx.AsyncClient, station: Station) -> Target:
    customer = await create_customer(client, station.staff)
    vehicle = await create_vehicle(client, station.staff, ownerId=customer["id"])
    booking = await booked(client, station, customer, SLOTS.take(), "shared")
    return Target(station, customer, vehicle, booking)


async def snapshot(client: httpx.AsyncClient, target: Target) -> Any:
    variables = {"customer": target.customer["id"], "search": target.search}
    return (await gql(client, SNAPSHOT, variables, token=target.station.staff)).ok()


# --- customers -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["tenant_admin", "staff"])
async def test_create_customer_returns_the_stored_customer(
    client: httpx.AsyncClient, station: Station, role: str
) -> None:
    name = unique("Mette Sørensen")
    values = {
        "name": f"  {name} ",
        "email": "Mette.Sorensen@Example.DK",
        "phone": "20 12 34 56",
        "street": "Søndergade 4",
        "postalCode": "8000",
        "city": "Aarhus C",
    }
    result = await gql(client, CREATE_CUSTOMER, {"input": values}, token=station.tokens[role])
    customer = result.ok()["createCustomer"]["customer"]
    expected = {
        "name": name,
        "email": "mette.sorensen@example.dk",
        "phone": "+4520123456",
        "street": "Søndergade 4",
        "postalCode": "8000",
        "city": "Aarhus C",
        "createdVia": "STAFF",
        "tenant": {"slug": station.slug},
    }
    assert {k: v for k, v in customer.items() if k != "id"} == expected
    assert await read(client, station.staff, CUSTOMER_BY_ID, customer["id"]) == customer


async def test_update_customer_changes_only_what_is_sent(
    client: httpx.AsyncClient, station: Station
) -> None:
    customer = await create_customer(
        client, station.staff, phone="+4520123456", street="Vestergade 1", city="Odense C"
    )
    patch = {"phone": "+45 31 22 33 44", "city": None}
    result = await gql(
        client, UPDATE_CUSTOMER, {"id": customer["id"], "input": patch}, token=station.staff
    )
    updated = result.ok()["updateCustomer"]["customer"]
    assert updated == {**customer, "phone": "+4531223344", "city": None}
    assert await read(client, station.staff, CUSTOMER_BY_ID, customer["id"]) == updated


async def test_update_customer_refuses_a_null_name(
    client: httpx.AsyncClient, station: Station
) -> None:
    customer = await create_customer(client, station.staff)
    result = await gql(
        client,
        UPDATE_CUSTOMER,
        {"id": customer["id"], "input": {"name": None, "city": "Vejle"}},
        token=station.staff,
    )
    assert result.codes == ["BAD_USER_INPUT"]
    assert field_of(result) == "input.name"
    assert await read(client, station.staff, CUSTOMER_BY_ID, customer["id"]) == customer


# --- vehicles --------------------------------------------------------------------


async def test_create_vehicle_with_owner(client: httpx.AsyncClient, station: Station) -> None:
    owner = await create_customer(client, station.staff)
    registration = plate()
    spaced = f"{registration[:2].lower()} {registration[2:4]} {registration[4:]}"
    values = {
        "ownerId": owner["id"],
        "registration": spaced,
        "vin": vin().lower(),
        "make": "Škoda",
        "model": "Octavia",
        "firstRegistrationDate": "2019-06-01",
    }
    result = await gql(client, CREATE_VEHICLE, {"input": values}, token=station.staff)
    vehicle = result.ok()["createVehicle"]["vehicle"]
    assert vehicle["registration"] == registration
    assert vehicle["vin"] == values["vin"].upper()
    assert (vehicle["make"], vehicle["model"]) == ("Škoda", "Octavia")
    assert vehicle["firstRegistrationDate"] == "2019-06-01"
    assert vehicle["owner"] == {"id": owner["id"]}
    assert vehicle["tenant"] == {"slug": station.slug}


async def test_create_vehicle_without_owner(client: httpx.AsyncClient, station: Station) -> None:
    number = vin()
    result = await gql(client, CREATE_VEHICLE, {"input": {"vin": number}}, token=station.staff)
    vehicle = result.ok()["createVehicle"]["vehicle"]
    assert vehicle["owner"] is None
    assert (vehicle["vin"], vehicle["registration"]) == (number, None)
    found = await gql(
        client,
        "query($s: String!) { vehicles(search: $s) { edges { node { id } } } }",
        {"s": number},
        token=station.staff,
    )
    assert [e["node"]["id"] for e in found.ok()["vehicles"]["edges"]] == [vehicle["id"]]


@pytest.mark.parametrize("role", ["staff", "inspector"])
async def test_update_vehicle(client: httpx.AsyncClient, station: Station, role: str) -> None:
    first_owner = await create_customer(client, station.staff)
    new_owner = await create_customer(client, station.staff)
    vehicle = await create_vehicle(
        client, station.staff, ownerId=first_owner["id"], vin=vin(), make="Ford"
    )
    patch = {"ownerId": new_owner["id"], "vin": None, "model": "Focus"}
    result = await gql(
        client, UPDATE_VEHICLE, {"id": vehicle["id"], "input": patch}, token=station.tokens[role]
    )
    updated = result.ok()["updateVehicle"]["vehicle"]
    assert updated == {**vehicle, "owner": {"id": new_owner["id"]}, "vin": None, "model": "Focus"}
    assert await read(client, station.staff, VEHICLE_BY_ID, vehicle["id"]) == updated


# --- bookings --------------------------------------------------------------------


async def test_create_booking_returns_a_confirmed_booking(
    client: httpx.AsyncClient, station: Station
) -> None:
    customer = await create_customer(client, station.staff)
    vehicle = await create_vehicle(client, station.staff, ownerId=customer["id"])
    starts_at = SLOTS.take()
    result = await book(
        client,
        station.staff,
        customer=customer["id"],
        service=station.services["main"],
        starts_at=starts_at,
        vehicleId=vehicle["id"],
        customerNotes="Kommer med trailer",
        internalNotes="Ring dagen før",
    )
    booking = result.ok()["createBooking"]["booking"]
    assert booking["status"] == "CONFIRMED"
    assert booking["priceOre"] == MAIN_PRICE_ORE
    assert booking["channel"] == "PHONE"
    assert instant(booking["startsAt"]) == starts_at
    assert instant(booking["endsAt"]) == starts_at + DURATION
    assert REFERENCE.match(booking["reference"]), booking["reference"]
    assert booking["tenant"] == {"slug": station.slug}
    assert booking["customer"] == {"id": customer["id"]}
    assert booking["vehicle"] == {"id": vehicle["id"]}
    assert booking["service"] == {"id": station.services["main"]}
    assert (booking["customerNotes"], booking["internalNotes"]) == (
        "Kommer med trailer",
        "Ring dagen før",
    )
    assert await read_booking(client, station.staff, booking["id"]) == booking


async def test_single_capacity_slot_refuses_an_overlapping_booking(
    client: httpx.AsyncClient, station: Station
) -> None:
    first = await create_customer(client, station.staff)
    second = await create_customer(client, station.staff)
    starts_at = SLOTS.take()
    await booked(client, station, first, starts_at)
    for attempt in (
        starts_at,
        starts_at + timedelta(minutes=15),
        starts_at - timedelta(minutes=15),
    ):
        result = await try_booking(client, station, second, attempt)
        assert result.codes == ["CONFLICT"], attempt
        assert field_of(result) == "input.startsAt"
        assert result.data is None
    assert await customer_bookings(client, station.staff, second["id"]) == []


async def test_back_to_back_bookings_do_not_overlap(
    client: httpx.AsyncClient, station: Station
) -> None:
    customer = await create_customer(client, station.staff)
    starts_at = SLOTS.take()
    for start in (starts_at, starts_at + DURATION):
        await booked(client, station, customer, start)
    assert len(await customer_bookings(client, station.staff, customer["id"])) == 2


async def test_capacity_compares_instants_across_offsets(
    client: httpx.AsyncClient, station: Station
) -> None:
    first = await create_customer(client, station.staff)
    second = await create_customer(client, station.staff)
    starts_at = SLOTS.take()
    copenhagen = starts_at.astimezone(timezone(timedelta(hours=2)))
    booking = await booked(client, station, first, copenhagen)
    assert instant(booking["startsAt"]) == starts_at
    result = await try_booking(client, station, second, starts_at)
    assert result.codes == ["CONFLICT"]
    assert await customer_bookings(client, station.staff, second["id"]) == []


async def test_capacity_two_takes_two_bookings_and_refuses_the_third(
    client: httpx.AsyncClient, station: Station
) -> None:
    customers = [await create_customer(client, station.staff) for _ in range(3)]
    starts_at = SLOTS.take()
    for customer in customers[:2]:
        await booked(client, station, customer, starts_at, "shared")
    third = await try_booking(client, station, customers[2], starts_at, "shared")
    assert third.codes == ["CONFLICT"]
    assert await customer_bookings(client, station.staff, customers[2]["id"]) == []


async def test_reschedule_moves_the_booking(client: httpx.AsyncClient, station: Station) -> None:
    customer = await create_customer(client, station.staff)
    booking = await booked(client, station, customer, SLOTS.take())
    new_start = SLOTS.take()
    result = await gql(
        client,
        RESCHEDULE_BOOKING,
        {"id": booking["id"], "startsAt": iso(new_start)},
        token=station.staff,
    )
    moved = result.ok()["rescheduleBooking"]["booking"]
    assert instant(moved["startsAt"]) == new_start
    assert instant(moved["endsAt"]) == new_start + DURATION
    assert {k: moved[k] for k in ("id", "reference", "status", "priceOre")} == {
        k: booking[k] for k in ("id", "reference", "status", "priceOre")
    }
    assert await read_booking(client, station.staff, booking["id"]) == moved


async def test_a_reschedule_is_audited_as_one_reschedule(
    client: httpx.AsyncClient, station: Station
) -> None:
    """Moving a booking is recorded as what it is, not also as a cancellation."""
    customer = await create_customer(client, station.staff)
    booking = await booked(client, station, customer, SLOTS.take())
    moved = {"id": booking["id"], "startsAt": iso(SLOTS.take())}
    (await gql(client, RESCHEDULE_BOOKING, moved, token=station.staff)).ok()
    actions = await booking_audit_actions(client, station, booking["id"])
    assert [a for a, _ in actions] == ["booking.create", "booking.reschedule"]
    assert ("booking.reschedule", ("ends_at", "starts_at")) in actions


async def booking_audit_actions(
    client: httpx.AsyncClient, station: Station, booking_id: str
) -> list[tuple[str, tuple[str, ...]]]:
    """The audited (action, fields) of one booking, as its tenant_admin reads them."""
    events = (
        await gql(
            client,
            "query($f: AuditEventFilter) { auditEvents(first: 50, filter: $f) "
            "{ edges { node { action fields } } } }",
            {"f": {"entityId": booking_id}},
            token=station.tokens["tenant_admin"],
        )
    ).ok()["auditEvents"]["edges"]
    return sorted((e["node"]["action"], tuple(e["node"]["fields"])) for e in events)


async def test_a_cancellation_is_audited_once(client: httpx.AsyncClient, station: Station) -> None:
    """Cancelling is a write to the booking like any other; cancelling again writes nothing."""
    customer = await create_customer(client, station.staff)
    booking = await booked(client, station, customer, SLOTS.take())
    for _ in range(2):
        (await gql(client, CANCEL_BOOKING, {"id": booking["id"]}, token=station.staff)).ok()
    actions = await booking_audit_actions(client, station, booking["id"])
    assert [a for a, _ in actions] == ["booking.cancel", "booking.create"]
    assert ("booking.cancel", ("status",)) in actions


async def test_reschedule_may_overlap_the_booking_s_own_slot(
    client: httpx.AsyncClient, station: Station
) -> None:
    customer = await create_customer(client, station.staff)
    starts_at = SLOTS.take()
    booking = await booked(client, station, customer, starts_at)
    later = starts_at + timedelta(minutes=15)
    result = await gql(
        client,
        RESCHEDULE_BOOKING,
        {"id": booking["id"], "startsAt": iso(later)},
        token=station.staff,
    )
    assert instant(result.ok()["rescheduleBooking"]["booking"]["startsAt"]) == later


async def test_reschedule_into_a_full_slot_conflicts_and_changes_nothing(
    client: httpx.AsyncClient, station: Station
) -> None:
    customer = await create_customer(client, station.staff)
    full = SLOTS.take()
    await booked(client, station, customer, full)
    booking = await booked(client, station, customer, SLOTS.take())
    result = await gql(
        client,
        RESCHEDULE_BOOKING,
        {"id": booking["id"], "startsAt": iso(full)},
        token=station.staff,
    )
    assert result.codes == ["CONFLICT"]
    assert field_of(result) == "startsAt"
    assert await read_booking(client, station.staff, booking["id"]) == booking


async def test_reschedule_of_a_cancelled_booking_conflicts(
    client: httpx.AsyncClient, station: Station
) -> None:
    customer = await create_customer(client, station.staff)
    booking = await booked(client, station, customer, SLOTS.take())
    cancelled = await gql(client, CANCEL_BOOKING, {"id": booking["id"]}, token=station.staff)
    cancelled_booking = cancelled.ok()["cancelBooking"]["booking"]
    result = await gql(
        client,
        RESCHEDULE_BOOKING,
        {"id": booking["id"], "startsAt": iso(SLOTS.take())},
        token=station.staff,
    )
    assert result.codes == ["CONFLICT"]
    assert await read_booking(client, station.staff, booking["id"]) == cancelled_booking


async def test_a_booking_waits_only_for_bookings_that_overlap_its_time(
    client: httpx.AsyncClient, station: Station, backend: Backend
) -> None:
    """On PostgreSQL a booking locks the quarter hours it covers, not the service: while
    another transaction holds ``[held, held + 30 min)``, a booking from ``held + 30 min``
    goes through at once and one from ``held - 15 min`` waits until that transaction ends."""
    if backend.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")
    customer = await create_customer(client, station.staff)
    held = SLOTS.take()
    service_key = decode_id("serviceId", station.services["main"], "Service")
    sessions = create_sessionmaker(backend.engine)
    async with sessions() as tx, tx.begin():
        await capacity.lock_slot(tx, service_key, held, held + DURATION)
        adjacent = await asyncio.wait_for(
            try_booking(client, station, customer, held + DURATION), timeout=10
        )
        adjacent.ok()
        overlapping = asyncio.create_task(
            try_booking(client, station, customer, held - timedelta(minutes=15))
        )
        await asyncio.sleep(0.5)
        assert not overlapping.done(), "an overlapping booking did not wait for the lock"
    result = await asyncio.wait_for(overlapping, timeout=10)
    # It was counted after the lock came: the adjacent booking does not overlap it,
    # the held time was never booked, so it fits.
    assert result.ok()["createBooking"]["booking"]["status"] == "CONFIRMED"


async def test_a_reschedule_waits_for_a_cancellation_in_flight(
    client: httpx.AsyncClient, station: Station, backend: Backend
) -> None:
    """A reschedule that reads the booking while another transaction cancels it must
    see the cancellation (``CONFLICT``), not move a booking that is no longer active
    and answer as if it were confirmed."""
    if backend.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")
    customer = await create_customer(client, station.staff)
    booking = await booked(client, station, customer, SLOTS.take())
    key = decode_id("id", booking["id"], "Booking")
    sessions = create_sessionmaker(backend.engine)
    async with sessions() as tx, tx.begin():
        await tx.execute(
            update(BookingRow).where(BookingRow.id == key).values(status=BookingStatus.CANCELLED)
        )
        moving = asyncio.create_task(
            gql(
                client,
                RESCHEDULE_BOOKING,
                {"id": booking["id"], "startsAt": iso(SLOTS.take())},
                token=station.staff,
            )
        )
        await asyncio.sleep(0.5)
        assert not moving.done(), "the reschedule did not wait for the booking's lock"
    result = await asyncio.wait_for(moving, timeout=10)
    assert result.codes == ["CONFLICT"]
    after = await read_booking(client, station.staff, booking["id"])
    assert after == {**booking, "status": "CANCELLED"}


async def test_cancel_twice_is_harmless_and_frees_the_slot(
    client: httpx.AsyncClient, station: Station
) -> None:
    customer = await create_customer(client, station.staff)
    starts_at = SLOTS.take()
    booking = await booked(client, station, customer, starts_at)
    for _ in range(2):
        result = await gql(client, CANCEL_BOOKING, {"id": booking["id"]}, token=station.staff)
        assert result.ok()["cancelBooking"]["booking"] == {**booking, "status": "CANCELLED"}
    other = await create_customer(client, station.staff)
    await booked(client, station, other, starts_at)


@pytest.mark.parametrize("mutation", ["cancel", "reschedule"])
async def test_completed_booking_cannot_be_cancelled_or_rescheduled(
    client: httpx.AsyncClient, world: World, mutation: str
) -> None:
    token = world.a.tokens["staff"]
    booking = world.a.bookings["anna-past"]
    before = await read_booking(client, token, booking)
    assert before["status"] == "COMPLETED"
    if mutation == "cancel":
        result = await gql(client, CANCEL_BOOKING, {"id": booking}, token=token)
    else:
        starts_at = iso(SLOTS.take())
        result = await gql(
            client, RESCHEDULE_BOOKING, {"id": booking, "startsAt": starts_at}, token=token
        )
    assert result.codes == ["CONFLICT"]
    assert field_of(result) == "id"
    assert await read_booking(client, token, booking) == before


# --- documents -------------------------------------------------------------------


async def test_add_invoice_to_a_booking_and_download_it(
    client: httpx.AsyncClient, station: Station
) -> None:
    customer = await create_customer(client, station.staff)
    booking = await booked(client, station, customer, SLOTS.take())
    content = b"%PDF-1.4\nFaktura 550,00 kr inkl. moms\n%%EOF\n"
    result = await upload(
        client,
        station.staff,
        {"kind": "INVOICE", "title": "Faktura 1001", "bookingId": booking["id"]},
        content=content,
    )
    document = result.ok()["addDocument"]["document"]
    assert document["kind"] == "INVOICE"
    assert document["title"] == "Faktura 1001"
    assert document["mimeType"] == "application/pdf"
    assert document["sizeBytes"] == len(content)
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    issued = instant(document["issuedAt"])
    assert document["retainUntil"] == date(issued.year + 5, 12, 31).isoformat()
    assert document["booking"] == {"id": booking["id"]}
    assert document["customer"] == {"id": customer["id"]}
    assert document["tenant"] == {"slug": station.slug}
    assert document["downloadUrl"] == f"/documents/{document['id']}"

    download = await client.get(
        document["downloadUrl"], headers={"Authorization": f"Bearer {station.staff}"}
    )
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"].startswith("application/pdf")


async def test_download_is_refused_to_another_tenant(
    client: httpx.AsyncClient, stations: Stations
) -> None:
    customer = await create_customer(client, stations.own.staff)
    result = await upload(
        client,
        stations.own.staff,
        {"kind": "OTHER", "title": "Fuldmagt", "customerId": customer["id"]},
        content=b"Fuldmagt til afhentning",
        content_type="text/plain",
        filename="fuldmagt.txt",
    )
    document = result.ok()["addDocument"]["document"]
    download = await client.get(
        document["downloadUrl"], headers={"Authorization": f"Bearer {stations.rival.staff}"}
    )
    assert download.status_code == 404
    assert b"Fuldmagt" not in download.content


async def test_inspector_adds_an_inspection_report(
    client: httpx.AsyncClient, station: Station
) -> None:
    customer = await create_customer(client, station.staff)
    content = b"Synsrapport: Godkendt uden anmaerkninger"
    result = await upload(
        client,
        station.tokens["inspector"],
        {"kind": "INSPECTION_REPORT", "title": "Synsrapport", "customerId": customer["id"]},
        content=content,
        content_type="text/plain; charset=utf-8",
        filename="rapport.txt",
    )
    document = result.ok()["addDocument"]["document"]
    assert document["kind"] == "INSPECTION_REPORT"
    assert document["mimeType"] == "text/plain"
    assert document["retainUntil"] is None
    assert document["booking"] is None
    assert document["customer"] == {"id": customer["id"]}
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    download = await client.get(
        document["downloadUrl"], headers={"Authorization": f"Bearer {station.tokens['inspector']}"}
    )
    assert download.content == content


@pytest.mark.parametrize("kind", ["INVOICE", "OTHER"])
async def test_inspector_may_not_add_other_documents(
    client: httpx.AsyncClient, station: Station, kind: str
) -> None:
    target = await make_target(client, station)
    before = await snapshot(client, target)
    result = await upload(
        client,
        station.tokens["inspector"],
        {"kind": kind, "title": "Faktura", "bookingId": target.booking["id"]},
        content=b"Faktura 550,00 kr",
    )
    assert result.codes == ["FORBIDDEN"]
    assert result.data is None
    assert await snapshot(client, target) == before


# --- who may write ---------------------------------------------------------------

Mutate = Callable[[httpx.AsyncClient, str | None, Target], Awaitable[Result]]


async def _create_customer(client: httpx.AsyncClient, token: str | None, t: Target) -> Result:
    values = {"name": f"Ny kunde {t.search}", "phone": "+4520123456"}
    return await gql(client, CREATE_CUSTOMER, {"input": values}, token=token)


async def _update_customer(client: httpx.AsyncClient, token: str | None, t: Target) -> Result:
    values = {"id": t.customer["id"], "input": {"name": "Ændret navn", "city": "Vejle"}}
    return await gql(client, UPDATE_CUSTOMER, values, token=token)


async def _create_vehicle(client: httpx.AsyncClient, token: str | None, t: Target) -> Result:
    values = {"ownerId": t.customer["id"], "registration": plate()}
    return await gql(client, CREATE_VEHICLE, {"input": values}, token=token)


async def _update_vehicle(client: httpx.AsyncClient, token: str | None, t: Target) -> Result:
    values = {"id": t.vehicle["id"], "input": {"make": "Skoda", "registration": plate()}}
    return await gql(client, UPDATE_VEHICLE, values, token=token)


async def _create_booking(client: httpx.AsyncClient, token: str | None, t: Target) -> Result:
    values = {
        "customerId": t.customer["id"],
        "serviceId": t.station.services["main"],
        "startsAt": iso(t.free_slot),
    }
    return await gql(client, CREATE_BOOKING, {"input": values}, token=token)


async def _reschedule_booking(client: httpx.AsyncClient, token: str | None, t: Target) -> Result:
    values = {"id": t.booking["id"], "startsAt": iso(t.free_slot)}
    return await gql(client, RESCHEDULE_BOOKING, values, token=token)


async def _cancel_booking(client: httpx.AsyncClient, token: str | None, t: Target) -> Result:
    return await gql(client, CANCEL_BOOKING, {"id": t.booking["id"]}, token=token)


async def _add_document(client: httpx.AsyncClient, token: str | None, t: Target) -> Result:
    values = {"kind": "INSPECTION_REPORT", "title": "Synsrapport", "bookingId": t.booking["id"]}
    return await upload(client, token, values, content=b"Synsrapport: Godkendt")


MUTATIONS: dict[str, Mutate] = {
    "createCustomer": _create_customer,
    "updateCustomer": _update_customer,
    "createVehicle": _create_vehicle,
    "updateVehicle": _update_vehicle,
    "createBooking": _create_booking,
    "rescheduleBooking": _reschedule_booking,
    "cancelBooking": _cancel_booking,
    "addDocument": _add_document,
}
OUTSIDERS = ["partner_accounting", "partner_reminders", "subject", "platform", "anonymous"]
INSPECTOR_MAY = {"updateVehicle", "addDocument"}
REFUSED = [(caller, mutation) for caller in OUTSIDERS for mutation in MUTATIONS] + [
    ("inspector", mutation) for mutation in MUTATIONS if mutation not in INSPECTOR_MAY
]


def credential(caller: str, target: Target, backend: Backend) -> str | None:
    """The caller's bearer credential, always for the target's own station or customer."""
    if caller in PARTNER_ROLES:
        return target.station.api_keys[caller]
    if caller == "subject":
        return tokens.subject_token(backend.settings, email=target.customer["email"])
    if caller == "platform":
        return backend.world.platform_token
    if caller == "anonymous":
        return None
    return target.station.tokens[caller]


@pytest.mark.parametrize(("caller", "mutation"), REFUSED)
async def test_only_writing_staff_may_run_mutations(
    client: httpx.AsyncClient, station: Station, backend: Backend, caller: str, mutation: str
) -> None:
    target = await make_target(client, station)
    before = await snapshot(client, target)
    result = await MUTATIONS[mutation](client, credential(caller, target, backend), target)
    assert result.status == 200
    assert result.codes == ["FORBIDDEN"]
    assert result.data is None
    assert await snapshot(client, target) == before


@pytest.mark.parametrize("mutation", sorted(INSPECTOR_MAY))
async def test_inspector_runs_the_mutations_it_is_allowed(
    client: httpx.AsyncClient, station: Station, mutation: str
) -> None:
    target = await make_target(client, station)
    before = await snapshot(client, target)
    result = await MUTATIONS[mutation](client, station.tokens["inspector"], target)
    assert result.ok()[mutation]
    assert await snapshot(client, target) != before


# --- another tenant's ids --------------------------------------------------------


@dataclass
class Rivalry:
    """The own station's rows (the victim) and the rival station's rows (the actor's own)."""

    victim: Target
    actor: Target

    @property
    def token(self) -> str:
        return self.actor.station.staff


async def _rival_updates_customer(client: httpx.AsyncClient, r: Rivalry) -> Result:
    values = {"id": r.victim.customer["id"], "input": {"name": "Overtaget"}}
    return await gql(client, UPDATE_CUSTOMER, values, token=r.token)


async def _rival_updates_vehicle(client: httpx.AsyncClient, r: Rivalry) -> Result:
    values = {"id": r.victim.vehicle["id"], "input": {"make": "Overtaget"}}
    return await gql(client, UPDATE_VEHICLE, values, token=r.token)


async def _rival_takes_over_vehicle(client: httpx.AsyncClient, r: Rivalry) -> Result:
    values = {"id": r.actor.vehicle["id"], "input": {"ownerId": r.victim.customer["id"]}}
    return await gql(client, UPDATE_VEHICLE, values, token=r.token)


async def _rival_creates_vehicle_for_customer(client: httpx.AsyncClient, r: Rivalry) -> Result:
    values = {"ownerId": r.victim.customer["id"], "registration": plate()}
    return await gql(client, CREATE_VEHICLE, {"input": values}, token=r.token)


async def _rival_books_service(client: httpx.AsyncClient, r: Rivalry) -> Result:
    return await book(
        client,
        r.token,
        customer=r.actor.customer["id"],
        service=r.victim.station.services["main"],
        starts_at=r.victim.free_slot,
    )


async def _rival_books_customer(client: httpx.AsyncClient, r: Rivalry) -> Result:
    return await book(
        client,
        r.token,
        customer=r.victim.customer["id"],
        service=r.actor.station.services["main"],
        starts_at=r.actor.free_slot,
    )


async def _rival_books_vehicle(client: httpx.AsyncClient, r: Rivalry) -> Result:
    return await book(
        client,
        r.token,
        customer=r.actor.customer["id"],
        service=r.actor.station.services["main"],
        starts_at=r.actor.free_slot,
        vehicleId=r.victim.vehicle["id"],
    )


async def _rival_reschedules(client: httpx.AsyncClient, r: Rivalry) -> Result:
    values = {"id": r.victim.booking["id"], "startsAt": iso(r.victim.free_slot)}
    return await gql(client, RESCHEDULE_BOOKING, values, token=r.token)


async def _rival_cancels(client: httpx.AsyncClient, r: Rivalry) -> Result:
    return await gql(client, CANCEL_BOOKING, {"id": r.victim.booking["id"]}, token=r.token)


async def _rival_documents_booking(client: httpx.AsyncClient, r: Rivalry) -> Result:
    values = {"kind": "INVOICE", "title": "Faktura", "bookingId": r.victim.booking["id"]}
    return await upload(client, r.token, values, content=b"Faktura")


async def _rival_documents_customer(client: httpx.AsyncClient, r: Rivalry) -> Result:
    values = {"kind": "INVOICE", "title": "Faktura", "customerId": r.victim.customer["id"]}
    return await upload(client, r.token, values, content=b"Faktura")


CROSS_TENANT: dict[str, tuple[Callable[[httpx.AsyncClient, Rivalry], Awaitable[Result]], str]] = {
    "updateCustomer": (_rival_updates_customer, "id"),
    "updateVehicle": (_rival_updates_vehicle, "id"),
    "updateVehicle.ownerId": (_rival_takes_over_vehicle, "input.ownerId"),
    "createVehicle.ownerId": (_rival_creates_vehicle_for_customer, "input.ownerId"),
    "createBooking.serviceId": (_rival_books_service, "input.serviceId"),
    "createBooking.customerId": (_rival_books_customer, "input.customerId"),
    "createBooking.vehicleId": (_rival_books_vehicle, "input.vehicleId"),
    "rescheduleBooking": (_rival_reschedules, "id"),
    "cancelBooking": (_rival_cancels, "id"),
    "addDocument.bookingId": (_rival_documents_booking, "input.bookingId"),
    "addDocument.customerId": (_rival_documents_customer, "input.customerId"),
}


@pytest.mark.parametrize("case", sorted(CROSS_TENANT))
async def test_another_tenant_s_ids_are_not_found(
    client: httpx.AsyncClient, stations: Stations, case: str
) -> None:
    rivalry = Rivalry(
        victim=await make_target(client, stations.own),
        actor=await make_target(client, stations.rival),
    )
    before = [await snapshot(client, rivalry.victim), await snapshot(client, rivalry.actor)]
    attempt, field_name = CROSS_TENANT[case]
    result = await attempt(client, rivalry)
    assert result.codes == ["NOT_FOUND"]
    assert field_of(result) == field_name
    assert result.data is None
    assert [await snapshot(client, rivalry.victim), await snapshot(client, rivalry.actor)] == before


@pytest.mark.parametrize(
    ("query", "rows", "key", "extra"),
    [
        pytest.param(UPDATE_CUSTOMER, "customers", "anna", {"input": {}}, id="updateCustomer"),
        pytest.param(UPDATE_VEHICLE, "vehicles", "anna", {"input": {}}, id="updateVehicle"),
        pytest.param(CANCEL_BOOKING, "bookings", "anna-past", {}, id="cancelBooking"),
    ],
)
async def test_fixture_tenants_cannot_write_to_each_other(
    client: httpx.AsyncClient,
    world: World,
    query: str,
    rows: str,
    key: str,
    extra: dict[str, Any],
) -> None:
    """Tenant B's staff aims at tenant A's rows, with writes that would change nothing anyway."""
    target = getattr(world.a, rows)[key]
    result = await gql(client, query, {"id": target, **extra}, token=world.b.tokens["staff"])
    assert result.codes == ["NOT_FOUND"]
    assert field_of(result) == "id"
    assert result.data is None
