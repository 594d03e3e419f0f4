"""One demo business's rows: its services, customers, cars, 18 months of bookings
inside its opening hours and the documents they produced."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bookings.slots import DAY_KEYS
from demo import content
from demo.content import BusinessSpec, ServiceSpec
from demo.documents import DEMO_CREATED_BY, Planned, add_documents, remark
from demo.people import Generator, Person, VehicleSpec
from demo.rows import Rows
from store.models import BookingChannel, BookingStatus, CreatedVia, TenantKind

TIMEZONE = "Europe/Copenhagen"
PAST_DAYS = 548  # about 18 months of history
FUTURE_DAYS = 42  # six weeks of upcoming bookings

# (service, future, vehicle, day of the failed inspection a re-inspection follows)
_Wish = tuple[ServiceSpec, bool, VehicleSpec | None, date | None]


class Calendar:
    """Bookable slots of one business: opening hours on each service's duration grid."""

    def __init__(self, spec: BusinessSpec, now: datetime) -> None:
        self.spec = spec
        self.tz = ZoneInfo(TIMEZONE)
        self.today = now.astimezone(self.tz).date()
        self.taken: dict[tuple[str, datetime], int] = {}
        self._slots: dict[tuple[str, date], list[datetime]] = {}

    def slots(self, service: ServiceSpec, day: date) -> list[datetime]:
        key = (service.name, day)
        cached = self._slots.get(key)
        if cached is not None:
            return cached
        starts: list[datetime] = []
        step = timedelta(minutes=service.duration_minutes)
        for opens, closes in self.spec.opening_hours[DAY_KEYS[day.weekday()]]:
            start = datetime.combine(day, time.fromisoformat(opens), self.tz)
            end = datetime.combine(day, time.fromisoformat(closes), self.tz)
            while start + step <= end:
                starts.append(start.astimezone(UTC))
                start += step
        self._slots[key] = starts
        return starts

    def find(
        self,
        rng: random.Random,
        service: ServiceSpec,
        offsets: tuple[int, int],
        avoid_days: set[date],
        earliest: date | None,
    ) -> datetime | None:
        """A free slot on a day ``offsets`` days from today; None when none was found."""
        low, high = offsets
        for _ in range(40):
            offset = rng.randint(low, high)
            day = self.today + timedelta(days=offset)
            if offset == 0 or day in avoid_days or (earliest and day < earliest):
                continue
            starts = self.slots(service, day)
            if not starts:
                continue
            start = rng.choice(starts)
            # Capacity is counted over every status, which is stricter than needed.
            if self.taken.get((service.name, start), 0) >= service.capacity_per_slot:
                continue
            self.taken[(service.name, start)] = self.taken.get((service.name, start), 0) + 1
            avoid_days.add(day)
            return start
        return None


@dataclass
class _Business:
    """What planning one business's bookings needs at hand."""

    gen: Generator
    spec: BusinessSpec
    rows: Rows
    tenant_id: str
    services: dict[str, dict[str, Any]]
    calendar: Calendar
    references: set[str]


def build_business(gen: Generator, spec: BusinessSpec, people: list[Person]) -> Rows:
    """Every row of one business, ready to insert."""
    rows, now = Rows(), gen.now
    tenant_id = rows.tenant(
        slug=spec.slug,
        name=spec.name,
        kind=spec.kind,
        description=spec.description,
        address=spec.address,
        contact_phone=spec.phone,
        contact_email=spec.email,
        timezone=TIMEZONE,
        opening_hours=spec.opening_hours,
        created_at=now - timedelta(days=PAST_DAYS + 120),
    )
    for s in spec.services:
        rows.service(
            tenant_id,
            name=s.name,
            description=s.description,
            duration_minutes=s.duration_minutes,
            price_ore=s.price_ore,
            capacity_per_slot=s.capacity_per_slot,
            active=True,
        )
    services = {row["name"]: row for row in rows.tables["services"]}
    business = _Business(gen, spec, rows, tenant_id, services, Calendar(spec, now), set())
    planned: list[Planned] = []
    for person in people:
        planned.extend(_customer_and_bookings(business, person))
    add_documents(rows, gen.rng, spec, tenant_id, planned, business.calendar.tz)
    return rows


def _customer_and_bookings(business: _Business, person: Person) -> list[Planned]:
    """The person as the business's customer, their cars, and their bookings."""
    rng, rows, tenant_id = business.gen.rng, business.rows, business.tenant_id
    customer_id = rows.customer(
        tenant_id,
        name=person.name,
        email=person.email,
        phone=person.phone,
        street=person.street,
        postal_code=person.postal_code,
        city=person.city,
        created_via=rng.choices(list(CreatedVia), weights=(55, 25, 20))[0],
    )
    customer = rows.last("customers")
    vehicle_ids = {
        v.registration: rows.vehicle(
            tenant_id,
            customer_id,
            registration=v.registration,
            vin=v.vin,
            make=v.make,
            model=v.model,
            first_registration_date=v.first_registration_date,
        )
        for v in person.vehicles
    }
    vehicles = rows.tables["vehicles"][len(rows.tables["vehicles"]) - len(vehicle_ids) :]
    mine = _bookings(business, person, customer_id, vehicle_ids)
    # A customer (and their cars) is registered shortly before the first booking.
    first = min((p.booking["created_at"] for p in mine), default=business.gen.now)
    customer["created_at"] = first - timedelta(minutes=rng.randint(1, 72 * 60))
    customer["updated_at"] = customer["created_at"]
    for vehicle in vehicles:
        vehicle["created_at"] = customer["created_at"]
    return mine


def _wishes(rng: random.Random, person: Person, spec: BusinessSpec) -> list[_Wish]:
    bookable = [s for s in spec.services if not s.reinspection]
    wishes: list[tuple[ServiceSpec, bool]]
    if person.is_subject:
        wishes = [(bookable[0], False), (bookable[-1], True)]
    else:
        count = rng.choices((1, 2, 3, 4), weights=(35, 30, 20, 15))[0]
        wishes = [
            (rng.choices(bookable, weights=[s.weight for s in bookable])[0], rng.random() < 0.22)
            for _ in range(count)
        ]
    return [(s, f, _pick_vehicle(rng, person, spec), None) for s, f in wishes]


def _window(calendar: Calendar, future: bool, after: date | None) -> tuple[int, int] | None:
    """Day offsets to book in; a re-inspection 5-28 days after the failed one, all in the
    past or all in the future so its status is unambiguous."""
    if after is None:
        return (1, FUTURE_DAYS) if future else (-PAST_DAYS, -1)
    offset = (after - calendar.today).days
    low, high = offset + 5, offset + 28
    if low == 0:  # never today: the day is neither past nor future
        low = 1
    future = low > 0
    window = (low, min(high, FUTURE_DAYS if future else -1))
    return None if window[0] > window[1] else window


def _bookings(
    business: _Business, person: Person, customer_id: str, vehicle_ids: dict[str, str]
) -> list[Planned]:
    rng, spec, calendar = business.gen.rng, business.spec, business.calendar
    reinspection = next((s for s in spec.services if s.reinspection), None)
    queue = _wishes(rng, person, spec)
    limit = len(queue)
    days: set[date] = set()
    mine: list[Planned] = []
    while queue and len(mine) < limit:
        service, future, vehicle, after = queue.pop(0)
        window = _window(calendar, future, after)
        if window is None:
            continue
        earliest = vehicle.first_registration_date if vehicle else None
        starts_at = calendar.find(rng, service, window, days, earliest)
        if starts_at is None:
            continue
        status = _status(rng, window[0] > 0, forced=person.is_subject or after is not None)
        vehicle_id = vehicle_ids[vehicle.registration] if vehicle else None
        _booking(business, service, customer_id, vehicle_id, starts_at, status)
        plan = Planned(business.rows.last("bookings"), person, customer_id, service, vehicle)
        if status is BookingStatus.COMPLETED and service.inspection and vehicle:
            _inspect(rng, plan, must_pass=person.is_subject or service.reinspection)
            if not plan.passed and reinspection is not None:
                day = starts_at.astimezone(calendar.tz).date()
                queue.insert(0, (reinspection, False, vehicle, day))
                # Make room for the re-inspection, within four bookings in all.
                limit = min(limit + 1, 4)
        mine.append(plan)
    return mine


def _pick_vehicle(rng: random.Random, person: Person, spec: BusinessSpec) -> VehicleSpec | None:
    if not person.vehicles:
        return None
    # At a workshop a few bookings are made without naming the car.
    if spec.kind is TenantKind.WORKSHOP and not person.is_subject and rng.random() < 0.08:
        return None
    return rng.choice(person.vehicles)


def _status(rng: random.Random, future: bool, *, forced: bool) -> BookingStatus:
    if future:
        if forced:
            return BookingStatus.CONFIRMED
        return rng.choices((BookingStatus.CONFIRMED, BookingStatus.PENDING), weights=(75, 25))[0]
    if forced:
        return BookingStatus.COMPLETED
    return rng.choices(
        (BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW),
        weights=(84, 10, 6),
    )[0]


def _notes(rng: random.Random, kind: TenantKind, status: BookingStatus) -> dict[str, str | None]:
    customer_notes = None
    if rng.random() < 0.15:
        common = content.texts("notes", "customer_common")
        customer_notes = rng.choice(common + content.texts("notes", "customer_by_kind", kind))
    by_status: dict[str, list[str]] = content.load("notes")["internal_by_status"]
    internal_notes = None
    if status in by_status and rng.random() < 0.6:
        internal_notes = rng.choice(by_status[status])
    elif rng.random() < 0.1:
        internal_notes = rng.choice(content.texts("notes", "internal"))
    return {"customer_notes": customer_notes, "internal_notes": internal_notes}


def _booking(
    business: _Business,
    service: ServiceSpec,
    customer_id: str,
    vehicle_id: str | None,
    starts_at: datetime,
    status: BookingStatus,
) -> None:
    rng, now = business.gen.rng, business.gen.now
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    if starts_at > now:
        created_at = now - timedelta(minutes=rng.randint(10, 30 * 24 * 60))
    else:
        created_at = starts_at - timedelta(minutes=rng.randint(24 * 60, 35 * 24 * 60))
    if status in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        updated_at = ends_at + timedelta(minutes=rng.randint(1, 90))
    elif status is BookingStatus.CANCELLED:
        updated_at = created_at + (starts_at - created_at) * rng.random()
    else:
        updated_at = created_at
    notes = _notes(rng, business.spec.kind, status)
    row = business.services[service.name]
    business.rows.booking(
        business.tenant_id,
        customer_id=customer_id,
        vehicle_id=vehicle_id,
        service_id=row["id"],
        starts_at=starts_at,
        minutes=row["duration_minutes"],
        status=status,
        reference=business.gen.reference(business.references),
        price_ore=row["price_ore"],
        channel=rng.choices(
            (BookingChannel.ONLINE, BookingChannel.PHONE, BookingChannel.STAFF),
            weights=(60, 25, 15),
        )[0],
        created_by=DEMO_CREATED_BY,
        created_at=created_at,
        updated_at=updated_at,
        **notes,
    )


def _inspect(rng: random.Random, plan: Planned, *, must_pass: bool) -> None:
    """Decide the inspection result: about one car in seven needs a re-inspection."""
    checks: Sequence[content.Check] = content.checks()
    plan.passed = must_pass or rng.random() >= 0.14
    if not plan.passed:
        for check in rng.sample(checks, rng.randint(1, 2)):
            plan.remarks[check.name] = rng.choice(check.faults)
    for check in checks:
        if check.remarks and check.name not in plan.remarks and rng.random() < 0.1:
            plan.remarks[check.name] = remark(rng.choice(check.remarks))
