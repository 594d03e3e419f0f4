"""availableSlots: the duration grid in local opening hours, across clock changes, with capacity.

Everything over real HTTP, anonymously, on both backends, against shops of
this module's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette

from server.app import create_app
from store.engine import create_sessionmaker
from store.models import BookingDraft
from store.types import utcnow
from tests.booking_world import (
    COPENHAGEN,
    SLOTS,
    START,
    Shop,
    browser,
    draft_id_of,
    local,
    next_last_sunday,
    next_weekday,
    open_shop,
)
from tests.conftest import Backend
from tests.graphql_client import Result, gql

CREATE_CUSTOMER = """mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } } }"""
CREATE_BOOKING = """mutation($input: CreateBookingInput!) {
  createBooking(input: $input) { booking { id } } }"""
# Open through the night on Sundays, so the clock change falls inside the hours.
NIGHT_HOURS = {
    "sun": [["00:00", "06:00"]],
    "fri": [["07:00", "17:00"]],
    "mon": [["07:00", "17:00"]],
}


@dataclass
class Shops:
    day: Shop
    night: Shop
    other: Shop
    app: Starlette


@pytest.fixture(scope="module")
async def shops(backend: Backend) -> Shops:
    return Shops(
        day=await open_shop(backend, "ledig-syn"),
        night=await open_shop(backend, "nat-syn", hours=NIGHT_HOURS, services={"hour": (60, 1)}),
        other=await open_shop(backend, "anden-syn"),
        app=create_app(backend.settings, engine=backend.engine),
    )


async def slots(
    client: httpx.AsyncClient, shop: Shop, service: str, start: datetime, end: datetime
) -> Result:
    variables = {
        "slug": shop.slug,
        "service": shop.services[service],
        "from": start.isoformat(),
        "to": end.isoformat(),
    }
    return await gql(client, SLOTS, variables)


def instants(result: Result) -> list[datetime]:
    return [datetime.fromisoformat(s["startsAt"]) for s in result.ok()["availableSlots"]]


def field_of(result: Result) -> str | None:
    return result.errors[0].get("extensions", {}).get("field") if result.errors else None


async def test_slots_follow_the_duration_grid_in_local_opening_hours(
    client: httpx.AsyncClient, shops: Shops
) -> None:
    monday = next_weekday(0, at_least_days=14)
    result = await slots(client, shops.day, "pair", local(monday, 0), local(monday, 23, 59))
    found = result.ok()["availableSlots"]
    assert [datetime.fromisoformat(s["startsAt"]) for s in found] == [
        local(monday, 7) + timedelta(minutes=30 * i) for i in range(20)
    ]
    for slot in found:
        starts, ends = (
            datetime.fromisoformat(slot["startsAt"]),
            datetime.fromisoformat(slot["endsAt"]),
        )
        assert starts.utcoffset() == timedelta(0) and ends.utcoffset() == timedelta(0)
        assert ends - starts == timedelta(minutes=30)
        assert slot["remaining"] == 2
    # A week: five weekdays of 20 slots, a Saturday morning of 8, a closed Sunday.
    week = await slots(client, shops.day, "pair", local(monday, 0), local(monday, 0) + timedelta(7))
    assert len(instants(week)) == 5 * 20 + 8


async def test_spring_forward_loses_an_hour_of_night_slots(
    client: httpx.AsyncClient, shops: Shops
) -> None:
    sunday = next_last_sunday(3)
    found = instants(await slots(client, shops.night, "hour", local(sunday, 0), local(sunday, 12)))
    # 00:00-06:00 local is five hours long that night: 02:00 does not exist.
    assert found == [local(sunday, 0) + timedelta(hours=h) for h in range(5)]
    assert [f.astimezone(COPENHAGEN).hour for f in found] == [0, 1, 3, 4, 5]
    # Weekday hours are wall-clock: 07:00 is 06:00Z before the change, 05:00Z after.
    friday, monday = sunday - timedelta(days=2), sunday + timedelta(days=1)
    before = instants(await slots(client, shops.night, "hour", local(friday, 0), local(friday, 23)))
    after = instants(await slots(client, shops.night, "hour", local(monday, 0), local(monday, 23)))
    assert (before[0].hour, after[0].hour) == (6, 5)
    assert len(before) == len(after) == 10


async def test_fall_back_gains_an_hour_of_night_slots(
    client: httpx.AsyncClient, shops: Shops
) -> None:
    sunday = next_last_sunday(10)
    found = instants(await slots(client, shops.night, "hour", local(sunday, 0), local(sunday, 12)))
    # 00:00-06:00 local is seven hours long that night: 02:00 comes twice.
    assert found == [local(sunday, 0) + timedelta(hours=h) for h in range(7)]
    assert [f.astimezone(COPENHAGEN).hour for f in found] == [0, 1, 2, 2, 3, 4, 5]
    friday, monday = sunday - timedelta(days=2), sunday + timedelta(days=1)
    before = instants(await slots(client, shops.night, "hour", local(friday, 0), local(friday, 23)))
    after = instants(await slots(client, shops.night, "hour", local(monday, 0), local(monday, 23)))
    assert (before[0].hour, after[0].hour) == (5, 6)


async def test_bookings_and_live_holds_take_capacity_and_lapsed_holds_do_not(
    client: httpx.AsyncClient, backend: Backend, shops: Shops
) -> None:
    tuesday = next_weekday(1, at_least_days=21)
    slot = local(tuesday, 9)
    window = (local(tuesday, 0), local(tuesday, 23))

    async def remaining() -> int:
        found = (await slots(client, shops.day, "pair", *window)).ok()["availableSlots"]
        return next(s["remaining"] for s in found if datetime.fromisoformat(s["startsAt"]) == slot)

    assert await remaining() == 2
    staff = shops.day.tokens["staff"]
    customer = (
        await gql(
            client,
            CREATE_CUSTOMER,
            {"input": {"name": "Telefon Kunde", "phone": "+4520304050"}},
            token=staff,
        )
    ).ok()["createCustomer"]["customer"]["id"]
    booking = {"customerId": customer, "serviceId": shops.day.services["pair"]}
    (
        await gql(
            client,
            CREATE_BOOKING,
            {"input": {**booking, "startsAt": slot.isoformat()}},
            token=staff,
        )
    ).ok()
    assert await remaining() == 1
    async with browser(shops.app) as person:
        variables = {"slug": shops.day.slug, "service": shops.day.services["pair"]}
        (await gql(person, START, {**variables, "at": slot.isoformat()})).ok()
        held = draft_id_of(person)
    found = (await slots(client, shops.day, "pair", *window)).ok()["availableSlots"]
    full = [s for s in found if datetime.fromisoformat(s["startsAt"]) == slot]
    assert full == [{"startsAt": full[0]["startsAt"], "endsAt": full[0]["endsAt"], "remaining": 0}]
    # Neighbouring slots are untouched.
    assert {s["remaining"] for s in found if s is not full[0]} == {2}
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        await session.execute(
            update(BookingDraft)
            .where(BookingDraft.id == held)
            .values(hold_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await remaining() == 1


async def test_past_slots_are_left_out(client: httpx.AsyncClient, shops: Shops) -> None:
    now = datetime.now(UTC)
    found = instants(
        await slots(client, shops.day, "pair", now - timedelta(days=3), now + timedelta(days=3))
    )
    assert found and all(start > now for start in found)
    gone = await slots(client, shops.day, "pair", now - timedelta(days=10), now - timedelta(days=8))
    assert gone.ok()["availableSlots"] == []


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        pytest.param("2030-01-01T00:00:00+00:00", "2030-02-01T00:00:01+00:00", "to", id="32 days"),
        pytest.param(
            "2030-01-02T00:00:00+00:00", "2030-01-01T00:00:00+00:00", "to", id="backwards"
        ),
        pytest.param("2030-01-01T00:00:00+00:00", "2030-01-01T00:00:00+00:00", "to", id="empty"),
        pytest.param("2030-01-01T00:00:00", "2030-01-02T00:00:00+00:00", "from", id="no offset"),
    ],
)
async def test_bad_windows_name_their_argument(
    client: httpx.AsyncClient, shops: Shops, start: str, end: str, field: str
) -> None:
    variables = {
        "slug": shops.day.slug,
        "service": shops.day.services["pair"],
        "from": start,
        "to": end,
    }
    result = await gql(client, SLOTS, variables)
    assert result.codes == ["BAD_USER_INPUT"] and field_of(result) == field, result.body


async def test_a_window_of_31_days_is_allowed(client: httpx.AsyncClient, shops: Shops) -> None:
    start = local(next_weekday(0), 0)
    found = instants(await slots(client, shops.day, "pair", start, start + timedelta(days=31)))
    assert len(found) > 100


async def test_unknown_tenant_foreign_and_retired_services_are_not_found(
    client: httpx.AsyncClient, shops: Shops
) -> None:
    day = next_weekday(2)
    window = {"from": local(day, 0).isoformat(), "to": local(day, 23).isoformat()}
    cases = [
        ({"slug": "no-such-shop", "service": shops.day.services["pair"]}, "tenantSlug"),
        ({"slug": shops.day.slug, "service": shops.other.services["pair"]}, "serviceId"),
        ({"slug": shops.day.slug, "service": shops.day.services["retired"]}, "serviceId"),
        ({"slug": shops.day.slug, "service": "not-an-id"}, "serviceId"),
    ]
    for variables, field in cases:
        result = await gql(client, SLOTS, {**variables, **window})
        assert result.codes in (["NOT_FOUND"], ["BAD_USER_INPUT"]), result.body
        assert field_of(result) == field and result.data is None


async def test_slots_cost_two_queries_whatever_the_window(
    client: httpx.AsyncClient, shops: Shops, count_statements: list[str]
) -> None:
    start = local(next_weekday(0), 0)
    counts = []
    for days in (1, 7, 31):
        count_statements.clear()
        assert instants(await slots(client, shops.day, "pair", start, start + timedelta(days)))
        reads = [
            s
            for s in count_statements
            if s.lstrip().upper().startswith(("SELECT", "WITH"))
            and "policy_state" not in s
            and "casbin_rule" not in s
        ]
        counts.append(len(reads))
    assert counts == [2, 2, 2]


async def test_every_caller_may_ask(
    client: httpx.AsyncClient, shops: Shops, backend: Backend
) -> None:
    day = next_weekday(3)
    variables = {
        "slug": shops.day.slug,
        "service": shops.day.services["pair"],
        "from": local(day, 0).isoformat(),
        "to": local(day, 23).isoformat(),
    }
    anonymous = await gql(client, SLOTS, variables)
    for token in (
        shops.other.tokens["staff"],
        shops.day.tokens["inspector"],
        backend.world.platform_token,
    ):
        assert (await gql(client, SLOTS, variables, token=token)).ok() == anonymous.ok()
