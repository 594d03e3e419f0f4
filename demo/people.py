"""People and their cars for the demo: Danish names, addresses, valid phone numbers,
plausible registrations and VINs with a correct check digit.

Every value is drawn from one seeded ``random.Random`` (``Generator``), so two
runs with the same seed produce the same people. E-mail addresses use the
example.dk, example.com and example.net domains only.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import phonenumbers

from bookings.references import REFERENCE_ALPHABET, REFERENCE_LENGTH
from demo import content
from store.models import TenantKind

# A well-known data subject for demos: a customer at two businesses with the
# same email, with a vehicle, bookings and an invoice at each.
DEMO_SUBJECT_EMAIL = "mette.sorensen@example.dk"
DEMO_SUBJECT_NAME = "Mette Sørensen"

_VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Model-year codes (VIN position 10) for 2001-2030.
_VIN_YEARS = "123456789ABCDEFGHJKLMNPRSTVWXY"


def _people(key: str) -> tuple[str, ...]:
    return content.texts("people", key)


def _surname_weights() -> tuple[int, ...]:
    # Popular surnames are far more common than the rest, as in Denmark.
    popular = int(content.load("people")["popular_surnames"])
    return tuple(12 if i < popular else 3 for i in range(len(_people("surnames"))))


@dataclass
class VehicleSpec:
    registration: str
    vin: str
    make: str
    model: str
    first_registration_date: date
    km_per_year: int


@dataclass
class Person:
    name: str
    email: str | None
    phone: str
    street: str | None
    postal_code: str | None
    city: str | None
    vehicles: list[VehicleSpec]
    is_subject: bool = False


@dataclass
class Generator:
    """Draws every random value from one ``random.Random``, so data is reproducible."""

    rng: random.Random
    now: datetime
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    registrations: set[str] = field(default_factory=set)
    vins: set[str] = field(default_factory=set)

    # -- people ----------------------------------------------------------

    def person(self, region: Sequence[tuple[str, str]], *, needs_vehicle: bool) -> Person:
        rng = self.rng
        while True:
            first = rng.choice(_people("first_names"))
            last = rng.choices(_people("surnames"), weights=_surname_weights())[0]
            # The demo subject's name is reserved so searches for her are unambiguous.
            if f"{first} {last}" != DEMO_SUBJECT_NAME:
                break
        middle = rng.choice(_people("middle_names")) if rng.random() < 0.12 else None
        name = " ".join(part for part in (first, middle, last) if part)
        email = self.email(first, last) if rng.random() < 0.94 else None
        street, postal_code, city = self.address(region) if rng.random() < 0.5 else (None,) * 3
        vehicles = self.vehicles(needs_vehicle=needs_vehicle)
        return Person(name, email, self.phone(), street, postal_code, city, vehicles)

    def subject(self, region: Sequence[tuple[str, str]]) -> Person:
        self.emails.add(DEMO_SUBJECT_EMAIL)
        street, postal_code, city = self.address(region)
        vehicles = [self.vehicle()]
        return Person(
            DEMO_SUBJECT_NAME,
            DEMO_SUBJECT_EMAIL,
            self.phone(),
            street,
            postal_code,
            city,
            vehicles,
            is_subject=True,
        )

    def email(self, first: str, last: str) -> str:
        rng = self.rng
        f, la = _ascii(first), _ascii(last)
        while True:
            style = rng.random()
            if style < 0.45:
                local = f"{f}.{la}"
            elif style < 0.6:
                local = f"{f}{la}"
            elif style < 0.7:
                local = f"{f[0]}{la}"
            elif style < 0.85:
                local = f"{f}{rng.randint(60, 99)}"
            else:
                local = f"{f}.{la}{rng.randint(1, 99)}"
            domain = rng.choices(_people("email_domains"), weights=(60, 25, 15))[0]
            address = f"{local}@{domain}".lower()
            if address not in self.emails:
                self.emails.add(address)
                return address

    def phone(self) -> str:
        rng, prefixes = self.rng, _people("mobile_prefixes")
        while True:
            number = f"+45{rng.choice(prefixes)}{rng.randint(0, 999_999):06d}"
            if number not in self.phones and _valid_phone(number):
                self.phones.add(number)
                return number

    def address(self, region: Sequence[tuple[str, str]]) -> tuple[str, str, str]:
        rng = self.rng
        number = str(rng.randint(1, 120))
        if rng.random() < 0.1:
            number += rng.choice("ABC")
        street = f"{rng.choice(_people('streets'))} {number}"
        if rng.random() < 0.2:
            street += f", {rng.randint(1, 4)}. {rng.choice(('tv', 'th', 'mf'))}"
        postal_code, city = rng.choice(region)
        return street, postal_code, city

    # -- vehicles --------------------------------------------------------

    def vehicles(self, *, needs_vehicle: bool) -> list[VehicleSpec]:
        roll = self.rng.random()
        if not needs_vehicle and roll < 0.1:
            return []
        count = 2 if roll > 0.8 else 1
        return [self.vehicle() for _ in range(count)]

    def vehicle(self) -> VehicleSpec:
        rng = self.rng
        models = content.car_models()
        car = rng.choices(models, weights=[c.weight for c in models])[0]
        latest = min(2024, self.now.year)
        year = rng.randint(max(2005, car.year_from), latest)
        first_registration = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
        return VehicleSpec(
            registration=self.registration(),
            vin=self.vin(car.wmi, year),
            make=car.make,
            model=car.model,
            first_registration_date=first_registration,
            km_per_year=rng.randrange(7_000, 26_000, 100),
        )

    def registration(self) -> str:
        rng = self.rng
        while True:
            plate_letters = content.load("vehicles")["plate_letters"]
            letters = rng.choice(plate_letters) + rng.choice(plate_letters)
            plate = f"{letters}{rng.randint(10_000, 99_999)}"
            if plate not in self.registrations:
                self.registrations.add(plate)
                return plate

    def vin(self, wmi: str, year: int) -> str:
        rng = self.rng
        while True:
            descriptor = "".join(rng.choice(_VIN_ALPHABET) for _ in range(5))
            plant = rng.choice(_VIN_ALPHABET)
            serial = f"{rng.randint(0, 999_999):06d}"
            vin = _vin_with_check_digit(
                f"{wmi}{descriptor}0{_VIN_YEARS[year - 2001]}{plant}{serial}"
            )
            if vin not in self.vins:
                self.vins.add(vin)
                return vin

    def reference(self, used: set[str]) -> str:
        rng = self.rng
        while True:
            code = "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
            reference = f"{code[:4]}-{code[4:]}"
            if reference not in used:
                used.add(reference)
                return reference


def _vin_with_check_digit(vin: str) -> str:
    """``vin`` with position 9 set to its ISO 3779 (North American) check digit."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return f"{vin[:8]}{'X' if remainder == 10 else remainder}{vin[9:]}"


def _ascii(name: str) -> str:
    """The e-mail form of a Danish name: æ, ø, å spelt out, no spaces."""
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u", " ": ""})
    return name.lower().translate(table)


def _valid_phone(number: str) -> bool:
    parsed = phonenumbers.parse(number, "DK")
    return bool(phonenumbers.is_valid_number(parsed))


def people_per_business(gen: Generator, customers_per_tenant: int) -> list[list[Person]]:
    """Each tenant's customers; about one person in ten is a customer at two tenants."""
    n = customers_per_tenant
    businesses, subject_at = content.businesses(), content.subject_businesses()
    people: list[list[Person]] = [[] for _ in businesses]

    def needs_vehicle(*tenants: int) -> bool:
        return any(businesses[t].kind is TenantKind.INSPECTION_STATION for t in tenants)

    subject = gen.subject(businesses[subject_at[0]].region)
    for t in subject_at:
        people[t].append(subject)

    # shared / (3n - shared) ≈ 10 %.
    shared = max(2, round(n * 3 / 11))
    pairs = ((0, 1), (1, 2), (0, 2))
    for k in range(shared - 1):
        a, b = pairs[k % len(pairs)]
        if len(people[a]) >= n or len(people[b]) >= n:
            continue
        person = gen.person(businesses[a].region, needs_vehicle=needs_vehicle(a, b))
        if person.email is None:
            person.email = gen.email(*_first_and_last(person.name))
        people[a].append(person)
        people[b].append(person)

    for t, spec in enumerate(businesses):
        while len(people[t]) < n:
            people[t].append(gen.person(spec.region, needs_vehicle=needs_vehicle(t)))
        gen.rng.shuffle(people[t])
    return people


def _first_and_last(name: str) -> tuple[str, str]:
    parts = name.split()
    return parts[0], parts[-1]
