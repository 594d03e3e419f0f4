"""Online booking over HTTP: the one cookie, holds, completion, abuse, and staff on the same rules.

Each simulated browser is an httpx client of its own (its own cookie jar and
client address) on one app per backend; the shops are this module's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from basics.ids import decode_id
from basics.settings import Settings
from bookings.holds import purge_expired_drafts
from server.app import create_app
from store.engine import create_sessionmaker
from store.models import (
    AuditEvent,
    Booking,
    BookingChannel,
    BookingDraft,
    BookingStatus,
    CreatedVia,
    Customer,
    RateLimitWindow,
    Vehicle,
)
from store.types import utcnow
from tests.booking_world import (
    COMPLETE,
    REFERENCE,
    RESUME,
    START,
    Shop,
    SlotPicker,
    active_bookings,
    browser,
    contact,
    draft_id_of,
    drafts_of,
    live_holds,
    local,
    next_weekday,
    open_shop,
)
from tests.conftest import TEST_SECRET, Backend
from tests.graphql_client import Result, gql

CREATE_CUSTOMER = """mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } } }"""
CREATE_BOOKING = """mutation($input: CreateBookingInput!) {
  createBooking(input: $input) { booking { id startsAt } } }"""
RESCHEDULE = """mutation($id: ID!, $at: DateTime!) {
  rescheduleBooking(id: $id, startsAt: $at) { booking { id } } }"""
STAFF_BOOKING = """query($id: ID!) { booking(id: $id) {
  reference status channel customerNotes
  customer { id name email phone createdVia } vehicle { registration vin } } }"""
BOOKINGS_BY_REFERENCE = """{ bookings(first: 500) { edges { node {
  id reference status channel customerNotes
  customer { id name email phone createdVia } vehicle { id registration vin } } } } }"""


@dataclass
class Online:
    shop: Shop
    other: Shop
    closed: Shop
    app: Starlette
    slots: SlotPicker


@pytest.fixture(scope="module")
async def online(backend: Backend) -> Online:
    return Online(
        shop=await open_shop(backend, "online-syn"),
        other=await open_shop(backend, "andet-syn"),
        closed=await open_shop(backend, "uden-tider", hours={}),
        app=create_app(backend.settings, engine=backend.engine),
        slots=SlotPicker(next_weekday(0, at_least_days=30)),
    )


def field_of(result: Result) -> str | None:
    return result.errors[0].get("extensions", {}).get("field") if result.errors else None


async def start(
    http: httpx.AsyncClient, shop: Shop, at: datetime, service: str = "main", **extra: Any
) -> Result:
    variables = {"slug": shop.slug, "service": shop.services[service], "at": at.isoformat()}
    return await gql(http, START, {**variables, **extra})


async def complete(http: httpx.AsyncClient, **fields: Any) -> Result:
    return await gql(http, COMPLETE, {"input": contact(**fields)})


async def staff_bookings(client: httpx.AsyncClient, shop: Shop) -> dict[str, Any]:
    data = (await gql(client, BOOKINGS_BY_REFERENCE, token=shop.tokens["tenant_admin"])).ok()
    return {e["node"]["reference"]: e["node"] for e in data["bookings"]["edges"]}


async def counts(backend: Backend, shop: Shop) -> list[int]:
    """Customers, vehicles, bookings and drafts of the shop: what a refusal must not change."""
    found = []
    async with create_sessionmaker(backend.engine)() as session:
        for column in (
            Customer.tenant_id,
            Vehicle.tenant_id,
            Booking.tenant_id,
            BookingDraft.tenant_id,
        ):
            statement = select(func.count()).where(column == shop.id)
            found.append(int((await session.execute(statement)).scalar_one()))
    return found


def set_cookie_headers(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


# --- the happy path and the one cookie ----------------------------------------------


async def test_start_resume_complete_with_one_cookie(
    client: httpx.AsyncClient, backend: Backend, online: Online
) -> None:
    at = online.slots.take()
    async with browser(online.app) as person:
        response = await person.post(
            "/graphql",
            json={
                "query": START,
                "variables": {
                    "slug": online.shop.slug,
                    "service": online.shop.services["main"],
                    "at": at.isoformat(),
                },
            },
        )
        draft = response.json()["data"]["startBooking"]["draft"]
        assert datetime.fromisoformat(draft["startsAt"]) == at
        assert datetime.fromisoformat(draft["endsAt"]) == at + timedelta(minutes=30)
        assert draft["holdLive"] is True and draft["tenant"]["slug"] == online.shop.slug
        hold = datetime.fromisoformat(draft["holdExpiresAt"]) - datetime.now(UTC)
        assert timedelta(minutes=14) < hold <= timedelta(minutes=15)
        [cookie] = set_cookie_headers(response)
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert cookie.startswith("tg_draft=")
        assert {"httponly", "path", "max-age", "samesite"} <= attributes
        assert "secure" not in attributes  # development; production below
        assert "Max-Age=604800" in cookie and "Path=/" in cookie
        assert "samesite=lax" in cookie.lower()
        value = person.cookies["tg_draft"]
        assert re.fullmatch(r"[0-9a-f]{32}\.[A-Za-z0-9_-]{43}", value), value

        resumed = (await gql(person, RESUME, {"slug": None})).ok()["resumeBooking"]
        assert resumed == draft
        assert (await gql(person, RESUME, {"slug": online.shop.slug})).ok()["resumeBooking"]

        typed = contact(registration="ab 12 345", customerNotes="Bremserne hviner")
        response = await person.post(
            "/graphql", json={"query": COMPLETE, "variables": {"input": typed}}
        )
        done = response.json()["data"]["completeBooking"]
        assert re.fullmatch(REFERENCE, done["reference"])
        assert datetime.fromisoformat(done["startsAt"]) == at
        assert done["tenant"]["slug"] == online.shop.slug
        assert done["service"]["id"] == online.shop.services["main"]
        [cleared] = set_cookie_headers(response)
        assert cleared.startswith("tg_draft=") and ("Max-Age=0" in cleared or "expires=" in cleared)
        assert "tg_draft" not in person.cookies
        assert (await gql(person, RESUME)).ok()["resumeBooking"] is None

    booking = (await staff_bookings(client, online.shop))[done["reference"]]
    assert booking["status"] == "CONFIRMED" and booking["channel"] == "ONLINE"
    assert booking["customerNotes"] == "Bremserne hviner"
    assert booking["customer"]["name"] == typed["name"]
    assert booking["customer"]["email"] == typed["email"]
    assert booking["customer"]["createdVia"] == "ONLINE"
    assert booking["vehicle"]["registration"] == "AB12345"
    assert await active_bookings(backend, online.shop.raw_services["main"], at) == 1

    async with create_sessionmaker(backend.engine)() as session:
        events = (
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.tenant_id == online.shop.id)
                    .where(AuditEvent.action.like("%_online"))
                    .order_by(AuditEvent.seq)
                )
            )
            .scalars()
            .all()
        )
    by_action = {e.action: e for e in events}
    created = by_action["booking.create_online"]
    assert created.actor == "anonymous:online" and created.entity_type == "Booking"
    assert {"customer_id", "starts_at", "vehicle_id", "customer_notes"} <= set(created.fields)
    assert by_action["customer.create_online"].fields == ["created_via", "email", "name", "phone"]
    text = repr([(e.fields, e.details, e.entity_id) for e in events])
    assert typed["email"] not in text and "AB12345" not in text and "Bremserne" not in text


async def test_the_cookie_is_secure_in_production(backend: Backend, online: Online) -> None:
    settings = Settings(
        database_url=backend.url,
        secret_key=TEST_SECRET,
        erasure_key=TEST_SECRET,
        env="production",
    )
    production = create_app(settings, engine=backend.engine)
    async with browser(production) as person:
        response = await person.post(
            "/graphql",
            json={
                "query": START,
                "variables": {
                    "slug": online.shop.slug,
                    "service": online.shop.services["pair"],
                    "at": online.slots.take().isoformat(),
                },
            },
        )
        assert response.json()["data"]["startBooking"]
        [cookie] = set_cookie_headers(response)
        assert "; secure" in cookie.lower() and "httponly" in cookie.lower()


async def test_a_returning_customer_is_recognised_and_never_overwritten(
    client: httpx.AsyncClient, online: Online
) -> None:
    first = contact(registration="CD98765")
    references = []
    for typed in (
        first,
        # Same email in other case, another name and phone: the same customer, unchanged.
        {**contact(), "email": first["email"].upper(), "registration": "cd 98 765"},
        # Same phone, another email: still the same customer.
        {**contact(), "phone": first["phone"], "vin": "WVWZZZ1JZ3W386752"},
    ):
        async with browser(online.app) as person:
            (await start(person, online.shop, online.slots.take())).ok()
            result = await gql(person, COMPLETE, {"input": typed})
            references.append(result.ok()["completeBooking"]["reference"])
    found = await staff_bookings(client, online.shop)
    customers = {found[r]["customer"]["id"] for r in references}
    assert len(customers) == 1
    customer = found[references[1]]["customer"]
    assert (customer["name"], customer["email"], customer["phone"]) == (
        first["name"],
        first["email"],
        first["phone"],
    )
    # The registration was recognised as the customer's vehicle; the VIN made a new one.
    assert found[references[0]]["vehicle"]["id"] == found[references[1]]["vehicle"]["id"]
    assert found[references[2]]["vehicle"]["vin"] == "WVWZZZ1JZ3W386752"
    assert found[references[2]]["vehicle"]["id"] != found[references[0]]["vehicle"]["id"]


# --- holds --------------------------------------------------------------------------


async def test_a_hold_keeps_the_slot_and_a_lapsed_hold_frees_it_at_once(
    backend: Backend, online: Online
) -> None:
    at = online.slots.take()
    service = online.shop.raw_services["main"]  # capacity 1
    async with browser(online.app) as first, browser(online.app) as second:
        (await start(first, online.shop, at)).ok()
        refused = await start(second, online.shop, at)
        assert refused.codes == ["CONFLICT"] and field_of(refused) == "startsAt"
        assert "tg_draft" not in second.cookies
        assert await live_holds(backend, service, at) == 1

        async with create_sessionmaker(backend.engine)() as session, session.begin():
            await session.execute(
                update(BookingDraft)
                .where(BookingDraft.id == draft_id_of(first))
                .values(hold_expires_at=utcnow() - timedelta(seconds=1))
            )
        resumed = (await gql(first, RESUME)).ok()["resumeBooking"]
        assert resumed["holdLive"] is False
        (await start(second, online.shop, at)).ok()
        late = await complete(first)
        assert late.codes == ["CONFLICT"] and "taken" in late.errors[0]["message"]
        assert await active_bookings(backend, service, at) == 0
        (await complete(second)).ok()
        assert await active_bookings(backend, service, at) == 1


async def test_a_lapsed_hold_still_books_a_slot_nobody_took(
    backend: Backend, online: Online
) -> None:
    at = online.slots.take()
    async with browser(online.app) as person:
        (await start(person, online.shop, at)).ok()
        async with create_sessionmaker(backend.engine)() as session, session.begin():
            await session.execute(
                update(BookingDraft)
                .where(BookingDraft.id == draft_id_of(person))
                .values(hold_expires_at=utcnow() - timedelta(minutes=30))
            )
        (await complete(person)).ok()
    assert await active_bookings(backend, online.shop.raw_services["main"], at) == 1


async def test_starting_again_lets_the_previous_hold_go(backend: Backend, online: Online) -> None:
    first_choice, second_choice = online.slots.take(), online.slots.take()
    service = online.shop.raw_services["main"]
    async with browser(online.app) as person, browser(online.app) as other:
        (await start(person, online.shop, first_choice)).ok()
        (await start(person, online.shop, second_choice)).ok()
        assert await live_holds(backend, service, first_choice) == 0
        assert await live_holds(backend, service, second_choice) == 1
        (await start(other, online.shop, first_choice)).ok()


# --- abuse and bad input: a clear error, nothing changed ---------------------------------


async def test_completing_twice_is_a_conflict(backend: Backend, online: Online) -> None:
    async with browser(online.app) as person:
        (await start(person, online.shop, online.slots.take(), service="pair")).ok()
        replayed = person.cookies["tg_draft"]
        (await complete(person)).ok()
        before = await counts(backend, online.shop)
        again = await gql(
            person, COMPLETE, {"input": contact()}, headers={"cookie": f"tg_draft={replayed}"}
        )
        assert (
            again.codes == ["CONFLICT"] and "already been completed" in again.errors[0]["message"]
        )
        assert await counts(backend, online.shop) == before


async def test_a_tampered_cookie_is_refused(backend: Backend, online: Online) -> None:
    async with browser(online.app) as person:
        (await start(person, online.shop, online.slots.take(), service="pair")).ok()
        draft_id, _, signature = person.cookies["tg_draft"].partition(".")
        forged = [
            f"{draft_id}.{signature[:-2]}AA",
            f"{'0' * 32}.{signature}",
            draft_id,
            "not-a-cookie",
        ]
        before = await counts(backend, online.shop)
        for value in forged:
            headers = {"cookie": f"tg_draft={value}"}
            async with browser(online.app) as thief:
                result = await gql(thief, COMPLETE, {"input": contact()}, headers=headers)
                assert result.codes == ["BAD_USER_INPUT"] and field_of(result) == "tg_draft"
                resumed = await gql(thief, RESUME, headers=headers)
                assert resumed.ok()["resumeBooking"] is None
        assert await counts(backend, online.shop) == before
        (await complete(person)).ok()  # the real cookie still works


async def test_no_cookie_is_not_found(backend: Backend, online: Online) -> None:
    async with browser(online.app) as person:
        result = await complete(person)
        assert result.codes == ["NOT_FOUND"] and field_of(result) == "tg_draft"
        assert (await gql(person, RESUME)).ok()["resumeBooking"] is None


async def test_a_cookie_for_another_tenants_draft_is_refused(
    backend: Backend, online: Online
) -> None:
    async with browser(online.app) as person:
        (await start(person, online.other, online.slots.take(), service="pair")).ok()
        before = await counts(backend, online.shop), await counts(backend, online.other)
        resumed = await gql(person, RESUME, {"slug": online.shop.slug})
        assert resumed.ok()["resumeBooking"] is None
        result = await complete(person, tenantSlug=online.shop.slug)
        assert result.codes == ["NOT_FOUND"] and field_of(result) == "input.tenantSlug"
        assert (await counts(backend, online.shop), await counts(backend, online.other)) == before
        done = (await complete(person, tenantSlug=online.other.slug)).ok()["completeBooking"]
        assert done["tenant"]["slug"] == online.other.slug


@pytest.mark.parametrize(
    ("case", "field", "code"),
    [
        ("past", "startsAt", "BAD_USER_INPUT"),
        ("no offset", "startsAt", "BAD_USER_INPUT"),
        ("three years ahead", "startsAt", "BAD_USER_INPUT"),
        ("outside opening hours", "startsAt", "BAD_USER_INPUT"),
        ("sunday", "startsAt", "BAD_USER_INPUT"),
        ("off the grid", "startsAt", "BAD_USER_INPUT"),
        ("ends after closing", "startsAt", "BAD_USER_INPUT"),
        ("another tenant's service", "serviceId", "NOT_FOUND"),
        ("retired service", "serviceId", "NOT_FOUND"),
        ("malformed service id", "serviceId", "BAD_USER_INPUT"),
        ("unknown tenant", "tenantSlug", "NOT_FOUND"),
        ("tenant without opening hours", "tenantSlug", "BAD_USER_INPUT"),
    ],
)
async def test_start_refusals_change_nothing(
    backend: Backend, online: Online, case: str, field: str, code: str
) -> None:
    monday = next_weekday(0, at_least_days=60)
    variables: dict[str, Any] = {
        "slug": online.shop.slug,
        "service": online.shop.services["main"],
        "at": local(monday, 10).isoformat(),
    }
    variables.update(
        {
            "past": {"at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
            "no offset": {"at": "2030-01-07T10:00:00"},
            "three years ahead": {"at": local(monday + timedelta(days=3 * 365), 10).isoformat()},
            "outside opening hours": {"at": local(monday, 18).isoformat()},
            "sunday": {"at": local(monday - timedelta(days=1), 10).isoformat()},
            "off the grid": {"at": local(monday, 10, 10).isoformat()},
            "ends after closing": {"at": local(monday, 16, 45).isoformat()},
            "another tenant's service": {"service": online.other.services["main"]},
            "retired service": {"service": online.shop.services["retired"]},
            "malformed service id": {"service": "U2VydmljZTo"},
            "unknown tenant": {"slug": "ingen-saadan"},
            "tenant without opening hours": {
                "slug": online.closed.slug,
                "service": online.closed.services["main"],
            },
        }[case]
    )
    before = [await counts(backend, s) for s in (online.shop, online.other, online.closed)]
    async with browser(online.app) as person:
        response = await person.post("/graphql", json={"query": START, "variables": variables})
        result = Result(response.status_code, response.json())
        assert result.codes == [code] and field_of(result) == field, result.body
        assert result.data is None
        assert set_cookie_headers(response) == []
    assert [await counts(backend, s) for s in (online.shop, online.other, online.closed)] == before


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ({"name": "   "}, "input.name"),
        ({"name": "Ny\nlinje"}, "input.name"),
        ({"email": "ikke en adresse"}, "input.email"),
        ({"phone": "12"}, "input.phone"),
        ({"registration": "ØØØØØØØØØ"}, "input.registration"),
        ({"vin": "WVWZZZ1JZ3W38675O"}, "input.vin"),
        ({"customerNotes": "skjult \u202e tekst"}, "input.customerNotes"),
        ({"customerNotes": "x" * 2001}, "input.customerNotes"),
    ],
)
async def test_complete_validates_like_staff_forms(
    backend: Backend, online: Online, typed: dict[str, Any], field: str
) -> None:
    async with browser(online.app) as person:
        (await start(person, online.shop, online.slots.take(), service="pair")).ok()
        before = await counts(backend, online.shop)
        result = await complete(person, **typed)
        assert result.codes == ["BAD_USER_INPUT"] and field_of(result) == field, result.body
        assert await counts(backend, online.shop) == before
        assert (await gql(person, RESUME)).ok()["resumeBooking"]["holdLive"] is True


async def test_public_mutations_are_rate_limited_per_address(
    backend: Backend, online: Online
) -> None:
    settings = backend.settings.model_copy(
        update={"booking_rate_limit": 3, "booking_rate_window_seconds": 3600}
    )
    limited = create_app(settings, engine=backend.engine)
    at = online.slots.take()
    async with browser(limited) as person:
        for _ in range(3):
            assert (await start(person, online.shop, at, service="pair")).codes == []
        before = await counts(backend, online.shop)
        response = await person.post(
            "/graphql",
            json={
                "query": START,
                "variables": {
                    "slug": online.shop.slug,
                    "service": online.shop.services["pair"],
                    "at": at.isoformat(),
                },
            },
        )
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        retry = error["extensions"]["retryAfterSeconds"]
        assert isinstance(retry, int) and 1 <= retry <= 3600
        assert response.headers["retry-after"] == str(retry)
        assert await counts(backend, online.shop) == before
        # completeBooking is counted on its own; the draft is still there to complete.
        (await complete(person)).ok()
    async with browser(limited) as neighbour:  # another address is not affected
        assert (
            await start(neighbour, online.shop, online.slots.take(), service="pair")
        ).codes == []
    async with create_sessionmaker(backend.engine)() as session:
        keys = (await session.execute(select(RateLimitWindow.client_key))).scalars().all()
    # A keyed hash of the address, never the address itself.
    assert keys and all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)


async def test_purge_deletes_lapsed_drafts_only(backend: Backend, online: Online) -> None:
    async with browser(online.app) as lapsed, browser(online.app) as fresh:
        (await start(lapsed, online.shop, online.slots.take(), service="pair")).ok()
        (await start(fresh, online.shop, online.slots.take(), service="pair")).ok()
        gone, kept = draft_id_of(lapsed), draft_id_of(fresh)
    sessions = create_sessionmaker(backend.engine)
    async with sessions() as session, session.begin():
        await session.execute(
            update(BookingDraft)
            .where(BookingDraft.id == gone)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await purge_expired_drafts(sessions, utcnow()) >= 1
    remaining = {d.id for d in await drafts_of(backend, online.shop.raw_services["pair"])}
    assert gone not in remaining and kept in remaining


# --- staff booking on a person's behalf follows the same rules ---------------------------


async def _customer(client: httpx.AsyncClient, shop: Shop) -> str:
    result = await gql(
        client,
        CREATE_CUSTOMER,
        {"input": {"name": "Telefon Kunde", "phone": "+4531313131", "createdVia": "PHONE"}},
        token=shop.tokens["staff"],
    )
    return str(result.ok()["createCustomer"]["customer"]["id"])


async def _staff_book(
    client: httpx.AsyncClient,
    shop: Shop,
    customer: str,
    at: datetime,
    role: str = "staff",
    **extra: Any,
) -> Result:
    values = {
        "customerId": customer,
        "serviceId": shop.services["main"],
        "startsAt": at.isoformat(),
    }
    return await gql(
        client, CREATE_BOOKING, {"input": {**values, **extra}}, token=shop.tokens[role]
    )


async def test_staff_bookings_stay_inside_opening_hours(
    client: httpx.AsyncClient, online: Online
) -> None:
    customer = await _customer(client, online.shop)
    monday = next_weekday(0, at_least_days=90)
    for at in (local(monday, 6, 30), local(monday, 16, 45), local(monday - timedelta(days=1), 10)):
        result = await _staff_book(client, online.shop, customer, at)
        assert result.codes == ["BAD_USER_INPUT"] and field_of(result) == "input.startsAt"
        assert "opening hours" in result.errors[0]["message"]
    # Inside the hours any start is fine for staff, on the grid or not.
    booking = (await _staff_book(client, online.shop, customer, local(monday, 10, 10))).ok()
    moved = await gql(
        client,
        RESCHEDULE,
        {"id": booking["createBooking"]["booking"]["id"], "at": local(monday, 20).isoformat()},
        token=online.shop.tokens["staff"],
    )
    assert moved.codes == ["BAD_USER_INPUT"] and field_of(moved) == "startsAt"
    # A tenant without opening hours takes staff bookings at any time.
    anytime = await _customer(client, online.closed)
    (await _staff_book(client, online.closed, anytime, local(monday, 3))).ok()


async def test_staff_bookings_respect_holds(client: httpx.AsyncClient, online: Online) -> None:
    at = online.slots.take()
    customer = await _customer(client, online.shop)
    async with browser(online.app) as person:
        (await start(person, online.shop, at)).ok()
        refused = await _staff_book(client, online.shop, customer, at)
        assert refused.codes == ["CONFLICT"] and field_of(refused) == "input.startsAt"


async def test_only_a_tenant_admin_may_overbook_and_it_is_audited(
    client: httpx.AsyncClient, backend: Backend, online: Online
) -> None:
    at = online.slots.take()
    customer = await _customer(client, online.shop)
    (await _staff_book(client, online.shop, customer, at)).ok()
    for role in ("staff", "tenant_admin"):
        full = await _staff_book(client, online.shop, customer, at, role=role)
        assert full.codes == ["CONFLICT"]
    for flag in (True, False):
        refused = await _staff_book(client, online.shop, customer, at, overbook=flag)
        assert refused.codes == ["FORBIDDEN"]
        assert refused.errors[0]["extensions"]["deniedFields"] == ["CreateBookingInput.overbook"]
    forced = await _staff_book(
        client, online.shop, customer, at, role="tenant_admin", overbook=True
    )
    booking_id = forced.ok()["createBooking"]["booking"]["id"]
    assert await active_bookings(backend, online.shop.raw_services["main"], at) == 2
    async with create_sessionmaker(backend.engine)() as session:
        events = (
            (
                await session.execute(
                    select(AuditEvent).where(
                        AuditEvent.tenant_id == online.shop.id,
                        AuditEvent.action == "booking.overbook",
                    )
                )
            )
            .scalars()
            .all()
        )
    [event] = [e for e in events if e.entity_id == decode_id("id", booking_id, "Booking")]
    assert event.details == {"overbook": True} and event.actor.startswith("staff:")
    # With room in the slot, the flag changes nothing and nothing is flagged.
    roomy = online.slots.take()
    (
        await _staff_book(client, online.shop, customer, roomy, role="tenant_admin", overbook=True)
    ).ok()
    async with create_sessionmaker(backend.engine)() as session:
        flagged = (
            await session.execute(
                select(func.count()).where(
                    AuditEvent.tenant_id == online.shop.id, AuditEvent.action == "booking.overbook"
                )
            )
        ).scalar_one()
    assert flagged == 1


async def test_online_bookings_are_recorded_as_such(
    client: httpx.AsyncClient, online: Online
) -> None:
    async with browser(online.app) as person:
        (await start(person, online.shop, online.slots.take())).ok()
        reference = (await complete(person)).ok()["completeBooking"]["reference"]
    booking = (await staff_bookings(client, online.shop))[reference]
    assert booking["channel"] == BookingChannel.ONLINE.value
    assert booking["status"] == BookingStatus.CONFIRMED.value
    assert booking["customer"]["createdVia"] == CreatedVia.ONLINE.value


async def test_nothing_else_sets_a_cookie(client: httpx.AsyncClient, online: Online) -> None:
    """The one cookie: every other route and operation answers without Set-Cookie."""
    token = online.shop.tokens["tenant_admin"]
    responses = [
        await client.get("/healthz"),
        await client.get("/readyz"),
        await client.get("/graphql", headers={"accept": "text/html"}),
        await client.post("/graphql", json={"query": "{ viewer { kind } }"}),
        await client.post(
            "/graphql",
            json={"query": BOOKINGS_BY_REFERENCE},
            headers={"authorization": f"Bearer {token}"},
        ),
        await client.post(
            "/graphql",
            json={"query": RESUME, "variables": {"slug": online.shop.slug}},
        ),
    ]
    for response in responses:
        assert response.status_code in (200, 503), response.text
        assert set_cookie_headers(response) == [], response.request.url
