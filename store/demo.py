"""Realistic Danish demo data: two inspection stations and a workshop.

Demos, manual testing and performance checks need data that looks like the
real thing: Danish names and addresses, valid phone numbers, plausible cars,
bookings inside opening hours and real invoice and inspection-report text.
Everything is drawn from a single seeded ``random.Random`` so two runs with
the same ``seed`` and ``now`` produce the same data (only the random primary
keys differ). Some people are customers at two businesses with the same
e-mail address, so a data subject's view spans tenants.

E-mail addresses use the example.dk, example.com and example.net domains only.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import (
    Base,
    Booking,
    BookingChannel,
    BookingStatus,
    CreatedVia,
    Customer,
    Document,
    DocumentKind,
    Service,
    Tenant,
    TenantKind,
    Vehicle,
)
from store.types import new_id

__all__ = ["DEMO_CREATED_BY", "DEMO_SUBJECT_EMAIL", "DEMO_TENANT_SLUGS", "DemoSummary", "seed_demo"]

DEMO_TENANT_SLUGS: tuple[str, ...] = ("aarhus-syn", "koege-bilsyn", "vejle-autovaerksted")
# A well-known data subject for demos: a customer at aarhus-syn and at
# vejle-autovaerksted, with a vehicle, bookings and an invoice at each.
DEMO_SUBJECT_EMAIL = "mette.sorensen@example.dk"
DEMO_SUBJECT_NAME = "Mette Sørensen"
DEMO_CREATED_BY = "seed:demo"

TIMEZONE = "Europe/Copenhagen"
TEXT_MIME_TYPE = "text/plain; charset=utf-8"
PAST_DAYS = 548  # about 18 months of history
FUTURE_DAYS = 42  # six weeks of upcoming bookings
VAT_RATE_PERCENT = 25


@dataclass(frozen=True)
class DemoSummary:
    """Row counts of the demo tenants after seeding."""

    tenants: int
    services: int
    customers: int
    vehicles: int
    bookings: int
    documents: int
    created: bool  # False when the demo data was already there


# --------------------------------------------------------------------------
# Static catalogue
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _ServiceSpec:
    name: str
    description: str
    duration_minutes: int
    # Consumer prices in Denmark are quoted including VAT; multiples of 5 øre
    # so the VAT split is exact.
    price_ore: int
    capacity_per_slot: int
    weight: int  # how often customers book it
    inspection: bool = False  # produces an inspection report
    reinspection: bool = False  # the follow-up after a failed inspection


@dataclass(frozen=True)
class _TenantSpec:
    slug: str
    name: str
    kind: TenantKind
    street: str
    postal_code: str
    city: str
    cvr: str
    phone: str
    email: str
    description: str
    opening_hours: dict[str, list[list[str]]]
    services: tuple[_ServiceSpec, ...]
    # (postal code, city) pairs where this tenant's customers live.
    region: tuple[tuple[str, str], ...]
    bank_account: str
    staff: tuple[str, ...]

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}"


_PERIODIC = _ServiceSpec(
    name="Periodisk syn",
    description="Lovpligtigt periodisk syn af personbil og varebil op til 3.500 kg.",
    duration_minutes=30,
    price_ore=55000,
    capacity_per_slot=3,
    weight=60,
    inspection=True,
)
_REINSPECTION = _ServiceSpec(
    name="Omsyn",
    description="Genfremstilling efter et syn med fejl. Medbring synsrapporten.",
    duration_minutes=20,
    price_ore=25000,
    capacity_per_slot=2,
    weight=6,
    inspection=True,
    reinspection=True,
)
_REGISTRATION = _ServiceSpec(
    name="Registreringssyn",
    description="Syn af brugt importbil eller køretøj, der skal registreres igen.",
    duration_minutes=60,
    price_ore=125000,
    capacity_per_slot=1,
    weight=10,
    inspection=True,
)
_ALTERATION = _ServiceSpec(
    name="Ændringssyn",
    description="Syn efter ændringer, fx montering af anhængertræk eller ombygning.",
    duration_minutes=60,
    price_ore=99500,
    capacity_per_slot=1,
    weight=6,
    inspection=True,
)

_TENANTS: tuple[_TenantSpec, ...] = (
    _TenantSpec(
        slug="aarhus-syn",
        name="Aarhus Syn ApS",
        kind=TenantKind.INSPECTION_STATION,
        street="Hasselager Allé 24",
        postal_code="8260",
        city="Viby J",
        cvr="31245670",
        phone="+4586123456",
        email="aarhus-syn@example.dk",
        description=(
            "Uvildig synsvirksomhed i Viby J med fire synsbaner. Vi syner personbiler, "
            "varebiler og importbiler - book online, og kom til tiden, så er du typisk "
            "ude igen på en halv time. Gratis kaffe i venteområdet."
        ),
        opening_hours={
            "mon": [["07:00", "17:00"]],
            "tue": [["07:00", "17:00"]],
            "wed": [["07:00", "17:00"]],
            "thu": [["07:00", "17:00"]],
            "fri": [["07:00", "15:00"]],
            "sat": [["08:00", "12:00"]],
            "sun": [],
        },
        services=(
            _PERIODIC,
            _REINSPECTION,
            _REGISTRATION,
            _ALTERATION,
        ),
        region=(
            ("8000", "Aarhus C"),
            ("8200", "Aarhus N"),
            ("8210", "Aarhus V"),
            ("8220", "Brabrand"),
            ("8240", "Risskov"),
            ("8260", "Viby J"),
            ("8270", "Højbjerg"),
            ("8300", "Odder"),
            ("8520", "Lystrup"),
            ("8600", "Silkeborg"),
        ),
        bank_account="reg.nr. 9570, kontonr. 0012345678",
        staff=("Bo Kjeldsen", "Hanne Vinther", "Kim Bruun", "Jan Ravn"),
    ),
    _TenantSpec(
        slug="koege-bilsyn",
        name="Køge Bilsyn ApS",
        kind=TenantKind.INSPECTION_STATION,
        street="Tangmosevej 110",
        postal_code="4600",
        city="Køge",
        cvr="35817246",
        phone="+4556654321",
        email="koege-bilsyn@example.dk",
        description=(
            "Lokal synshal i Køge med personlig betjening. Periodisk syn, omsyn og "
            "registreringssyn af personbiler. Vi holder frokostlukket 11:30-12:00."
        ),
        opening_hours={
            "mon": [["07:30", "11:30"], ["12:00", "16:00"]],
            "tue": [["07:30", "11:30"], ["12:00", "16:00"]],
            "wed": [["07:30", "11:30"], ["12:00", "16:00"]],
            "thu": [["07:30", "11:30"], ["12:00", "18:00"]],
            "fri": [["07:30", "11:30"], ["12:00", "14:00"]],
            "sat": [],
            "sun": [],
        },
        services=(
            _ServiceSpec(
                name="Periodisk syn",
                description="Lovpligtigt periodisk syn af personbil.",
                duration_minutes=30,
                price_ore=52500,
                capacity_per_slot=2,
                weight=60,
                inspection=True,
            ),
            _ServiceSpec(
                name="Omsyn",
                description="Genfremstilling efter et syn med fejl inden for fristen.",
                duration_minutes=20,
                price_ore=24500,
                capacity_per_slot=1,
                weight=6,
                inspection=True,
                reinspection=True,
            ),
            _ServiceSpec(
                name="Registreringssyn",
                description="Syn af brugt importbil før registrering i Danmark.",
                duration_minutes=60,
                price_ore=119500,
                capacity_per_slot=1,
                weight=12,
                inspection=True,
            ),
        ),
        region=(
            ("4600", "Køge"),
            ("4623", "Lille Skensved"),
            ("4681", "Herfølge"),
            ("4682", "Tureby"),
            ("2680", "Solrød Strand"),
            ("4640", "Faxe"),
            ("4690", "Haslev"),
            ("4100", "Ringsted"),
        ),
        bank_account="reg.nr. 5301, kontonr. 0000456789",
        staff=("Lise Friis", "Claus Holt", "Per Vang"),
    ),
    _TenantSpec(
        slug="vejle-autovaerksted",
        name="Vejle Autoværksted ApS",
        kind=TenantKind.WORKSHOP,
        street="Vestre Engvej 31",
        postal_code="7100",
        city="Vejle",
        cvr="28749137",
        phone="+4575821234",
        email="vejle-autovaerksted@example.dk",
        description=(
            "Autoriseret værksted for alle bilmærker. Service efter fabrikkens "
            "forskrifter uden at miste garantien, dækskifte og dækhotel, bremser, "
            "aircondition og klargøring til syn. Lånebil efter aftale."
        ),
        opening_hours={
            "mon": [["07:00", "16:00"]],
            "tue": [["07:00", "16:00"]],
            "wed": [["07:00", "16:00"]],
            "thu": [["07:00", "16:00"]],
            "fri": [["07:00", "14:00"]],
            "sat": [],
            "sun": [],
        },
        services=(
            _ServiceSpec(
                name="Lille service",
                description="Olieskift, nyt oliefilter og eftersyn efter fabrikkens serviceskema.",
                duration_minutes=60,
                price_ore=149500,
                capacity_per_slot=2,
                weight=30,
            ),
            _ServiceSpec(
                name="Stort service",
                description="Komplet service med filtre, tændrør og bremsevæske.",
                duration_minutes=120,
                price_ore=349500,
                capacity_per_slot=2,
                weight=20,
            ),
            _ServiceSpec(
                name="Dækskifte",
                description="Skift mellem sommer- og vinterdæk inkl. afbalancering.",
                duration_minutes=30,
                price_ore=39500,
                capacity_per_slot=3,
                weight=30,
            ),
            _ServiceSpec(
                name="Bremsetest",
                description="Test af bremsevirkning på rullefelt og visuel kontrol af bremser.",
                duration_minutes=30,
                price_ore=29500,
                capacity_per_slot=1,
                weight=8,
            ),
            _ServiceSpec(
                name="Klargøring til syn",
                description="Gennemgang af bilen efter synets kontrolpunkter og udbedring af fejl.",
                duration_minutes=60,
                price_ore=89500,
                capacity_per_slot=1,
                weight=8,
            ),
            _ServiceSpec(
                name="Aircondition-service",
                description="Tømning, tæthedsprøve og påfyldning af kølemiddel.",
                duration_minutes=60,
                price_ore=79500,
                capacity_per_slot=1,
                weight=4,
            ),
        ),
        region=(
            ("7100", "Vejle"),
            ("7120", "Vejle Øst"),
            ("7080", "Børkop"),
            ("7000", "Fredericia"),
            ("7300", "Jelling"),
            ("8700", "Horsens"),
            ("7160", "Tørring"),
        ),
        bank_account="reg.nr. 7040, kontonr. 0001122334",
        staff=("Rene Bech", "Dennis Krag"),
    ),
)

# Index into _TENANTS of the two tenants where the demo subject is a customer.
_SUBJECT_TENANTS = (0, 2)

_FIRST_NAMES = (
    "Anders", "Anne", "Bente", "Birgitte", "Bjørn", "Camilla", "Christian", "Dorthe",
    "Emil", "Emma", "Erik", "Freja", "Frederik", "Hanne", "Helle", "Henrik", "Ida",
    "Jakob", "Jens", "Jesper", "Johanne", "Jonas", "Julie", "Jørgen", "Karen", "Kasper",
    "Kirsten", "Lars", "Laura", "Lene", "Line", "Lone", "Louise", "Lærke", "Mads",
    "Magnus", "Maja", "Malene", "Marianne", "Martin", "Mette", "Michael", "Mikkel",
    "Morten", "Niels", "Nikolaj", "Ole", "Peter", "Pia", "Poul", "Rasmus", "Rikke",
    "Signe", "Simon", "Sofie", "Søren", "Susanne", "Thomas", "Tina", "Torben", "Troels",
    "Ulla", "Åse", "Anne-Mette",
)  # fmt: skip
_SURNAMES = (
    "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
    "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
    "Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Knudsen",
    "Jakobsen", "Mikkelsen", "Frederiksen", "Laursen", "Holm", "Schmidt", "Eriksen",
    "Kristiansen", "Nissen", "Lauridsen", "Clausen", "Simonsen", "Svendsen", "Iversen",
    "Østergaard", "Jeppesen", "Vestergaard", "Mogensen", "Kjær", "Dahl", "Brandt",
)  # fmt: skip
_MIDDLE_NAMES = ("Lund", "Holm", "Bach", "Skov", "Juhl", "Krogh", "Brix", "Dam", "Buch")
# Popular surnames are far more common than the rest, as in Denmark.
_SURNAME_WEIGHTS = tuple(12 if i < 15 else 3 for i in range(len(_SURNAMES)))
_STREETS = (
    "Skolevej", "Kirkevej", "Vestergade", "Østergade", "Nørregade", "Søndergade",
    "Bakkevej", "Engvej", "Birkevej", "Egevej", "Møllevej", "Stationsvej", "Skovvej",
    "Hybenvej", "Lærkevej", "Mågevej", "Rosenvej", "Toftevej", "Fasanvej", "Granvej",
    "Ahornvej", "Kastanievej", "Syrenvej", "Kærvej", "Åboulevarden", "Strandvejen",
    "Elmevej", "Højvangen", "Solbakken", "Bøgevej",
)  # fmt: skip
_EMAIL_DOMAINS = ("example.dk", "example.com", "example.net")
# Mobile number ranges (first two digits) that phonenumbers accepts for DK.
_MOBILE_PREFIXES = (
    "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
    "40", "41", "42", "50", "51", "52", "53", "60", "61", "71", "81", "91", "92", "93",
)  # fmt: skip


@dataclass(frozen=True)
class _CarModel:
    make: str
    model: str
    wmi: str  # world manufacturer identifier: the first three VIN characters
    year_from: int
    weight: int


_CAR_MODELS: tuple[_CarModel, ...] = (
    _CarModel("Volkswagen", "Golf", "WVW", 2005, 10),
    _CarModel("Volkswagen", "Polo", "WVW", 2005, 7),
    _CarModel("Volkswagen", "Passat", "WVW", 2005, 5),
    _CarModel("Volkswagen", "ID.3", "WVW", 2020, 4),
    _CarModel("Toyota", "Yaris", "VNK", 2005, 8),
    _CarModel("Toyota", "Corolla", "SB1", 2019, 4),
    _CarModel("Toyota", "Aygo", "JTD", 2005, 5),
    _CarModel("Skoda", "Octavia", "TMB", 2005, 9),
    _CarModel("Skoda", "Fabia", "TMB", 2005, 5),
    _CarModel("Skoda", "Enyaq", "TMB", 2021, 3),
    _CarModel("Peugeot", "208", "VF3", 2012, 8),
    _CarModel("Peugeot", "308", "VF3", 2007, 5),
    _CarModel("Ford", "Focus", "WF0", 2005, 6),
    _CarModel("Ford", "Fiesta", "WF0", 2005, 5),
    _CarModel("Tesla", "Model 3", "5YJ", 2019, 5),
    _CarModel("Tesla", "Model Y", "XP7", 2022, 4),
    _CarModel("Kia", "Niro", "KNA", 2016, 4),
    _CarModel("Kia", "Ceed", "U5Y", 2007, 4),
    _CarModel("Hyundai", "i20", "NLH", 2009, 4),
    _CarModel("Hyundai", "Kona", "KMH", 2018, 3),
    _CarModel("Renault", "Clio", "VF1", 2005, 4),
    _CarModel("Renault", "Zoe", "VF1", 2013, 2),
    _CarModel("Citroën", "C3", "VF7", 2005, 4),
    _CarModel("Opel", "Corsa", "W0L", 2005, 4),
    _CarModel("Audi", "A4", "WAU", 2005, 3),
    _CarModel("BMW", "3-serie", "WBA", 2005, 3),
    _CarModel("Mercedes-Benz", "A-Klasse", "WDD", 2012, 3),
    _CarModel("Volvo", "V60", "YV1", 2011, 3),
    _CarModel("Volvo", "XC40", "YV1", 2018, 3),
    _CarModel("Nissan", "Leaf", "SJN", 2011, 2),
    _CarModel("Mazda", "CX-5", "JMZ", 2012, 2),
    _CarModel("Suzuki", "Swift", "TSM", 2005, 3),
    _CarModel("Dacia", "Sandero", "UU1", 2008, 3),
    _CarModel("Polestar", "2", "LPS", 2020, 2),
)

_CUSTOMER_NOTES_COMMON = (
    "Jeg kommer lidt før.",
    "Kan I ringe, når bilen er klar?",
    "Jeg afleverer nøglen i nøgleboksen.",
    "Har lånt min brors bil - han ved, at jeg kommer.",
    "Kommer måske 5 minutter for sent pga. trafik.",
)
_CUSTOMER_NOTES = {
    TenantKind.INSPECTION_STATION: (
        "Der er et lille stenslag i forruden - er det et problem?",
        "Har kun registreringsattesten digitalt.",
        "Bilen er lige kommet hjem fra Tyskland.",
        "Har fået skiftet pærer siden sidst.",
    ),
    TenantKind.WORKSHOP: (
        "Der lyser en advarselslampe for motoren.",
        "Bilen trækker lidt til højre ved opbremsning.",
        "Ønsker lånebil, hvis det er muligt.",
        "Vinterdækkene ligger i bagagerummet.",
        "Der er en hvinende lyd fra forhjulene.",
    ),
}
_INTERNAL_NOTES = (
    "Kunden ringede og flyttede tiden.",
    "Stamkunde - giv besked ved ekstra arbejde.",
    "Kunden venter på stedet.",
    "Betalt med MobilePay.",
    "Husk at kontrollere anmærkning fra sidst.",
)
_INTERNAL_NOTES_BY_STATUS = {
    BookingStatus.CANCELLED: ("Aflyst af kunden pr. telefon.", "Aflyst via SMS-link."),
    BookingStatus.NO_SHOW: ("Mødte ikke op - ringet uden svar.", "Udeblev, sendt påmindelse."),
}

# Check points on the Danish inspection report: (name, faults, minor remarks).
_CHECKS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Bremser",
        (
            "Ujævn bremsevirkning på forakslen",
            "Parkeringsbremse virker for svagt",
            "Bremserør tæret",
        ),
        ("Let rust på bremseskiver",),
    ),
    (
        "Lys",
        ("Nærlys venstre defekt", "Forkert lysindstilling", "Bremselys højre defekt"),
        ("Nummerpladelys svagt",),
    ),
    ("Styretøj", ("Slør i styrekugle højre", "Manchet på styrestang defekt"), ()),
    (
        "Dæk",
        ("Mønsterdybde under 1,6 mm på bagdæk", "Revne i dæksiden venstre for"),
        ("Dæk nærmer sig slidgrænsen",),
    ),
    ("Hjulophæng", ("Defekt bærearmsbøsning venstre", "Støddæmper utæt højre bag"), ()),
    ("Udstødning", ("Udstødning utæt", "For høj røgtæthed"), ()),
    (
        "Karrosseri",
        ("Gennemtæring i bundplade", "Løs kofanger"),
        ("Stenslag i forrude uden for synsfeltet",),
    ),
)

_REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY2346789"  # no 0/O, 1/I/L, 5/S, 8/B
_PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVXYZ"
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
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --------------------------------------------------------------------------
# People and vehicles (shared between tenants for overlapping customers)
# --------------------------------------------------------------------------


@dataclass
class _VehicleSpec:
    registration: str
    vin: str
    make: str
    model: str
    first_registration_date: date
    km_per_year: int


@dataclass
class _Person:
    name: str
    email: str | None
    phone: str
    street: str | None
    postal_code: str | None
    city: str | None
    vehicles: list[_VehicleSpec]
    is_subject: bool = False


@dataclass
class _Generator:
    """Draws every random value from one ``random.Random``, so data is reproducible."""

    rng: random.Random
    now: datetime
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    registrations: set[str] = field(default_factory=set)
    vins: set[str] = field(default_factory=set)

    # -- people ----------------------------------------------------------

    def person(self, region: Sequence[tuple[str, str]], *, needs_vehicle: bool) -> _Person:
        rng = self.rng
        while True:
            first = rng.choice(_FIRST_NAMES)
            last = rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
            # The demo subject's name is reserved so searches for her are unambiguous.
            if f"{first} {last}" != DEMO_SUBJECT_NAME:
                break
        middle = rng.choice(_MIDDLE_NAMES) if rng.random() < 0.12 else None
        name = " ".join(part for part in (first, middle, last) if part)
        email = self.email(first, last) if rng.random() < 0.94 else None
        street, postal_code, city = self.address(region) if rng.random() < 0.5 else (None,) * 3
        vehicles = self.vehicles(needs_vehicle=needs_vehicle)
        return _Person(name, email, self.phone(), street, postal_code, city, vehicles)

    def subject(self, region: Sequence[tuple[str, str]]) -> _Person:
        self.emails.add(DEMO_SUBJECT_EMAIL)
        street, postal_code, city = self.address(region)
        vehicles = [self.vehicle()]
        return _Person(
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
            domain = rng.choices(_EMAIL_DOMAINS, weights=(60, 25, 15))[0]
            address = f"{local}@{domain}".lower()
            if address not in self.emails:
                self.emails.add(address)
                return address

    def phone(self, prefixes: Sequence[str] = _MOBILE_PREFIXES) -> str:
        rng = self.rng
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
        street = f"{rng.choice(_STREETS)} {number}"
        if rng.random() < 0.2:
            street += f", {rng.randint(1, 4)}. {rng.choice(('tv', 'th', 'mf'))}"
        postal_code, city = rng.choice(region)
        return street, postal_code, city

    # -- vehicles --------------------------------------------------------

    def vehicles(self, *, needs_vehicle: bool) -> list[_VehicleSpec]:
        roll = self.rng.random()
        if not needs_vehicle and roll < 0.1:
            return []
        count = 2 if roll > 0.8 else 1
        return [self.vehicle() for _ in range(count)]

    def vehicle(self) -> _VehicleSpec:
        rng = self.rng
        car = rng.choices(_CAR_MODELS, weights=[c.weight for c in _CAR_MODELS])[0]
        latest = min(2024, self.now.year)
        year = rng.randint(max(2005, car.year_from), latest)
        first_registration = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
        return _VehicleSpec(
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
            letters = rng.choice(_PLATE_LETTERS) + rng.choice(_PLATE_LETTERS)
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
            code = "".join(rng.choice(_REFERENCE_ALPHABET) for _ in range(8))
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


def _people_per_tenant(gen: _Generator, customers_per_tenant: int) -> list[list[_Person]]:
    """Each tenant's customers; about one person in ten is a customer at two tenants."""
    n = customers_per_tenant
    people: list[list[_Person]] = [[] for _ in _TENANTS]

    def needs_vehicle(*tenants: int) -> bool:
        return any(_TENANTS[t].kind is TenantKind.INSPECTION_STATION for t in tenants)

    subject = gen.subject(_TENANTS[_SUBJECT_TENANTS[0]].region)
    for t in _SUBJECT_TENANTS:
        people[t].append(subject)

    # shared / (3n - shared) ≈ 10 %.
    shared = max(2, round(n * 3 / 11))
    pairs = ((0, 1), (1, 2), (0, 2))
    for k in range(shared - 1):
        a, b = pairs[k % len(pairs)]
        if len(people[a]) >= n or len(people[b]) >= n:
            continue
        person = gen.person(_TENANTS[a].region, needs_vehicle=needs_vehicle(a, b))
        if person.email is None:
            person.email = gen.email(*_first_and_last(person.name))
        people[a].append(person)
        people[b].append(person)

    for t, spec in enumerate(_TENANTS):
        while len(people[t]) < n:
            people[t].append(gen.person(spec.region, needs_vehicle=needs_vehicle(t)))
        gen.rng.shuffle(people[t])
    return people


def _first_and_last(name: str) -> tuple[str, str]:
    parts = name.split()
    return parts[0], parts[-1]


# --------------------------------------------------------------------------
# Bookings
# --------------------------------------------------------------------------


@dataclass
class _Planned:
    booking: Booking
    person: _Person
    customer: Customer
    service: _ServiceSpec
    vehicle: _VehicleSpec | None
    passed: bool = True  # inspection outcome
    remarks: dict[str, str] = field(default_factory=dict)


class _Calendar:
    """Bookable slots of one tenant: opening hours on each service's duration grid."""

    def __init__(self, spec: _TenantSpec, now: datetime) -> None:
        self.spec = spec
        self.tz = ZoneInfo(TIMEZONE)
        self.today = now.astimezone(self.tz).date()
        self.taken: dict[tuple[str, datetime], int] = {}
        self._slots: dict[tuple[str, date], list[datetime]] = {}

    def slots(self, service: _ServiceSpec, day: date) -> list[datetime]:
        key = (service.name, day)
        cached = self._slots.get(key)
        if cached is not None:
            return cached
        starts: list[datetime] = []
        step = timedelta(minutes=service.duration_minutes)
        for opens, closes in self.spec.opening_hours[_WEEKDAYS[day.weekday()]]:
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
        service: _ServiceSpec,
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
class _TenantData:
    spec: _TenantSpec
    tenant: Tenant
    services: list[Service]
    customers: list[Customer]
    vehicles: list[Vehicle]
    bookings: list[Booking]
    documents: list[Document]

    def groups(self) -> list[Sequence[Base]]:
        """Rows in foreign-key order: the models declare no relationships, so the
        unit of work cannot order inserts between tables by itself."""
        return [
            [self.tenant],
            self.services,
            self.customers,
            self.vehicles,
            self.bookings,
            self.documents,
        ]


def _build_tenant(gen: _Generator, spec: _TenantSpec, people: list[_Person]) -> _TenantData:
    rng, now = gen.rng, gen.now
    tenant = Tenant(
        id=new_id(),
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
    services = {
        s.name: Service(
            id=new_id(),
            tenant_id=tenant.id,
            name=s.name,
            description=s.description,
            duration_minutes=s.duration_minutes,
            price_ore=s.price_ore,
            capacity_per_slot=s.capacity_per_slot,
            active=True,
            booking_lock=0,
        )
        for s in spec.services
    }
    calendar = _Calendar(spec, now)
    references: set[str] = set()
    customers: list[Customer] = []
    vehicles: list[Vehicle] = []
    planned: list[_Planned] = []
    bookable = [s for s in spec.services if not s.reinspection]
    reinspection = next((s for s in spec.services if s.reinspection), None)

    for person in people:
        customer = Customer(
            id=new_id(),
            tenant_id=tenant.id,
            name=person.name,
            email=person.email,
            phone=person.phone,
            street=person.street,
            postal_code=person.postal_code,
            city=person.city,
            created_via=rng.choices(list(CreatedVia), weights=(55, 25, 20))[0],
        )
        customers.append(customer)
        vehicle_rows = {
            v.registration: Vehicle(
                id=new_id(),
                tenant_id=tenant.id,
                owner_id=customer.id,
                registration=v.registration,
                vin=v.vin,
                make=v.make,
                model=v.model,
                first_registration_date=v.first_registration_date,
            )
            for v in person.vehicles
        }
        vehicles.extend(vehicle_rows.values())

        # (service, future) for each booking to make.
        wishes: list[tuple[_ServiceSpec, bool]]
        if person.is_subject:
            wishes = [(bookable[0], False), (bookable[-1], True)]
        else:
            count = rng.choices((1, 2, 3, 4), weights=(35, 30, 20, 15))[0]
            wishes = [
                (
                    rng.choices(bookable, weights=[s.weight for s in bookable])[0],
                    rng.random() < 0.22,
                )
                for _ in range(count)
            ]
        limit = len(wishes)
        days: set[date] = set()
        mine: list[_Planned] = []
        queue: list[tuple[_ServiceSpec, bool, _VehicleSpec | None, date | None]] = [
            (s, f, _pick_vehicle(rng, person, spec), None) for s, f in wishes
        ]
        while queue and len(mine) < limit:
            service, future, vehicle, after = queue.pop(0)
            if after is not None:
                # A re-inspection 5-28 days after the failed one, all in the past
                # or all in the future so its status is unambiguous.
                offset = (after - calendar.today).days
                low, high = offset + 5, offset + 28
                if low == 0:  # never today: the day is neither past nor future
                    low = 1
                future = low > 0
                window = (low, min(high, FUTURE_DAYS if future else -1))
                if window[0] > window[1]:
                    continue
            else:
                window = (1, FUTURE_DAYS) if future else (-PAST_DAYS, -1)
            earliest = vehicle.first_registration_date if vehicle else None
            starts_at = calendar.find(rng, service, window, days, earliest)
            if starts_at is None:
                continue
            status = _status(rng, future, forced=person.is_subject or after is not None)
            booking = _booking(
                rng,
                gen,
                tenant,
                spec,
                services[service.name],
                customer,
                vehicle_rows[vehicle.registration].id if vehicle else None,
                starts_at,
                status,
                references,
            )
            plan = _Planned(booking, person, customer, service, vehicle)
            if status is BookingStatus.COMPLETED and service.inspection and vehicle:
                _inspect(rng, plan, must_pass=person.is_subject or service.reinspection)
                if not plan.passed and reinspection is not None:
                    day = starts_at.astimezone(calendar.tz).date()
                    queue.insert(0, (reinspection, False, vehicle, day))
                    # Make room for the re-inspection, within four bookings in all.
                    limit = min(limit + 1, 4)
            mine.append(plan)
        planned.extend(mine)
        _set_created_at(rng, now, customer, [p.booking for p in mine], vehicle_rows.values())

    bookings = [p.booking for p in planned]
    documents = _documents(rng, spec, tenant, planned, calendar.tz)
    return _TenantData(
        spec, tenant, list(services.values()), customers, vehicles, bookings, documents
    )


def _pick_vehicle(rng: random.Random, person: _Person, spec: _TenantSpec) -> _VehicleSpec | None:
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


def _booking(
    rng: random.Random,
    gen: _Generator,
    tenant: Tenant,
    spec: _TenantSpec,
    service: Service,
    customer: Customer,
    vehicle_id: str | None,
    starts_at: datetime,
    status: BookingStatus,
    references: set[str],
) -> Booking:
    now = gen.now
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
    customer_notes = None
    if rng.random() < 0.15:
        customer_notes = rng.choice(_CUSTOMER_NOTES_COMMON + _CUSTOMER_NOTES[spec.kind])
    internal_notes = None
    if status in _INTERNAL_NOTES_BY_STATUS and rng.random() < 0.6:
        internal_notes = rng.choice(_INTERNAL_NOTES_BY_STATUS[status])
    elif rng.random() < 0.1:
        internal_notes = rng.choice(_INTERNAL_NOTES)
    return Booking(
        id=new_id(),
        tenant_id=tenant.id,
        customer_id=customer.id,
        vehicle_id=vehicle_id,
        service_id=service.id,
        starts_at=starts_at,
        ends_at=ends_at,
        status=status,
        reference=gen.reference(references),
        customer_notes=customer_notes,
        internal_notes=internal_notes,
        price_ore=service.price_ore,
        channel=rng.choices(
            (BookingChannel.ONLINE, BookingChannel.PHONE, BookingChannel.STAFF),
            weights=(60, 25, 15),
        )[0],
        created_by=DEMO_CREATED_BY,
        created_at=created_at,
        updated_at=updated_at,
    )


def _inspect(rng: random.Random, plan: _Planned, *, must_pass: bool) -> None:
    """Decide the inspection result: about one car in seven needs a re-inspection."""
    plan.passed = must_pass or rng.random() >= 0.14
    if not plan.passed:
        for check, faults, _minor in rng.sample(_CHECKS, rng.randint(1, 2)):
            plan.remarks[check] = rng.choice(faults)
    for check, _faults, minor in _CHECKS:
        if minor and check not in plan.remarks and rng.random() < 0.1:
            plan.remarks[check] = f"OK - bemærkning: {rng.choice(minor)}"


def _set_created_at(
    rng: random.Random,
    now: datetime,
    customer: Customer,
    bookings: Sequence[Booking],
    vehicles: Iterable[Vehicle],
) -> None:
    """A customer (and their cars) is registered shortly before the first booking."""
    first = min((b.created_at for b in bookings), default=now)
    customer.created_at = first - timedelta(minutes=rng.randint(1, 72 * 60))
    customer.updated_at = customer.created_at
    for vehicle in vehicles:
        vehicle.created_at = customer.created_at


# --------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------


def _documents(
    rng: random.Random,
    spec: _TenantSpec,
    tenant: Tenant,
    planned: Sequence[_Planned],
    tz: ZoneInfo,
) -> list[Document]:
    """An invoice for every completed booking and, at stations, the inspection report.

    Invoices are numbered consecutively per calendar year in the order they
    were issued, as Danish bookkeeping rules require.
    """
    completed = sorted(
        (p for p in planned if p.booking.status is BookingStatus.COMPLETED),
        key=lambda p: (p.booking.ends_at, p.booking.reference),
    )
    sequence: dict[int, int] = {}
    documents: list[Document] = []
    for plan in completed:
        issued = plan.booking.ends_at.astimezone(tz)
        year = issued.year
        if year not in sequence:
            # The oldest year in the data continues numbering from before it.
            sequence[year] = rng.randint(150, 900) if not sequence else 0
        sequence[year] += 1
        number = f"{year}-{sequence[year]:06d}"
        documents.append(
            _document(
                tenant,
                plan,
                DocumentKind.INVOICE,
                f"Faktura {number}",
                _invoice_text(spec, plan, number, issued),
                # Bookkeeping records are kept five years after the financial year ends.
                retain_until=date(year + 5, 12, 31),
            )
        )
        if spec.kind is TenantKind.INSPECTION_STATION and plan.vehicle is not None:
            documents.append(
                _document(
                    tenant,
                    plan,
                    DocumentKind.INSPECTION_REPORT,
                    f"Synsrapport {plan.vehicle.registration}",
                    _report_text(rng, spec, plan, plan.vehicle, issued),
                    retain_until=None,
                )
            )
    return documents


def _document(
    tenant: Tenant,
    plan: _Planned,
    kind: DocumentKind,
    title: str,
    content: bytes,
    *,
    retain_until: date | None,
) -> Document:
    return Document(
        id=new_id(),
        tenant_id=tenant.id,
        booking_id=plan.booking.id,
        customer_id=plan.customer.id,
        kind=kind,
        title=title,
        issued_at=plan.booking.ends_at,
        mime_type=TEXT_MIME_TYPE,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        retain_until=retain_until,
        created_by=DEMO_CREATED_BY,
        created_at=plan.booking.ends_at,
    )


def _invoice_text(spec: _TenantSpec, plan: _Planned, number: str, issued: datetime) -> bytes:
    booking, person = plan.booking, plan.person
    total = booking.price_ore
    net = total * 100 // (100 + VAT_RATE_PERCENT)
    vat = total - net
    description = plan.service.name
    if plan.vehicle is not None:
        description += f" - {plan.vehicle.registration}"
    recipient = [person.name]
    if person.street and person.postal_code and person.city:
        recipient += [person.street, f"{person.postal_code} {person.city}"]
    elif person.email:
        recipient.append(person.email)
    rule = "-" * 64
    lines = [
        spec.name,
        spec.street,
        f"{spec.postal_code} {spec.city}",
        f"CVR-nr. {spec.cvr}",
        f"Tlf. {_format_phone(spec.phone)} · {spec.email}",
        "",
        "FAKTURA",
        "",
        f"Fakturanr.:    {number}",
        f"Fakturadato:   {_format_date(issued.date())}",
        f"Booking:       {booking.reference}",
        "",
        "Faktureres til:",
        *(f"  {line}" for line in recipient),
        "",
        f"{'Beskrivelse':<40}{'Antal':>6}{'Beløb':>18}",
        rule,
        f"{description:<40}{'1':>6}{_format_kr(net):>18}",
        rule,
        f"{'Subtotal ekskl. moms':<46}{_format_kr(net):>18}",
        f"{f'Moms {VAT_RATE_PERCENT} %':<46}{_format_kr(vat):>18}",
        f"{'I alt inkl. moms':<46}{_format_kr(total):>18}",
        "",
        "Betalingsbetingelser: netto 8 dage, forfaldsdato "
        f"{_format_date(issued.date() + timedelta(days=8))}.",
        f"Betales til {spec.bank_account}.",
        f"Angiv venligst fakturanr. {number} ved betaling.",
        "",
        "Tak for besøget!",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _report_text(
    rng: random.Random,
    spec: _TenantSpec,
    plan: _Planned,
    vehicle: _VehicleSpec,
    inspected: datetime,
) -> bytes:
    day = inspected.date()
    # The report shows when the inspection started, not when the slot ended.
    started = plan.booking.starts_at.astimezone(inspected.tzinfo)
    years = (day - vehicle.first_registration_date).days / 365.25
    odometer = max(12, round(vehicle.km_per_year * years))
    checks = [(name, plan.remarks.get(name, "OK")) for name, _faults, _minor in _CHECKS]
    if plan.passed:
        # Cars are first inspected after four years, then every second year.
        next_due = max(_add_years(vehicle.first_registration_date, 4), _add_years(day, 2))
        outcome = [
            "Resultat: Godkendt",
            f"Næste periodiske syn senest: {_format_date(next_due)}",
        ]
    else:
        outcome = [
            "Resultat: Omsyn påkrævet",
            "Fejlene skal udbedres, og køretøjet fremstilles til omsyn senest "
            f"{_format_date(day + timedelta(days=30))}.",
        ]
    lines = [
        "SYNSRAPPORT",
        f"{spec.name} · {spec.address} · CVR-nr. {spec.cvr}",
        "",
        f"Synsdato:             {_format_date(day)} kl. {started:%H:%M}",
        f"Synstype:             {plan.service.name}",
        f"Booking:              {plan.booking.reference}",
        f"Synsmedarbejder:      {rng.choice(spec.staff)}",
        "",
        "Køretøj",
        f"Registreringsnummer:  {vehicle.registration}",
        f"Stelnummer (VIN):     {vehicle.vin}",
        f"Mærke og model:       {vehicle.make} {vehicle.model}",
        f"Første registrering:  {_format_date(vehicle.first_registration_date)}",
        f"Kilometerstand:       {_format_thousands(odometer)} km",
        f"Fremstillet af:       {plan.person.name}",
        "",
        "Kontrolpunkter",
        *(f"{name + ':':<22}{result}" for name, result in checks),
        "",
        *outcome,
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _format_kr(ore: int) -> str:
    kroner, rest = divmod(ore, 100)
    return f"{_format_thousands(kroner)},{rest:02d} kr."


def _format_thousands(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _format_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _format_phone(e164: str) -> str:
    digits = e164.removeprefix("+45")
    return "+45 " + " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def _add_years(value: date, years: int) -> date:
    try:
        return value.replace(year=value.year + years)
    except ValueError:  # 29 February
        return value.replace(year=value.year + years, day=28)


# --------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------


async def seed_demo(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    customers_per_tenant: int = 200,
    seed: int = 2026,
    now: datetime | None = None,
) -> DemoSummary:
    """Insert the demo tenants unless they are there already.

    Safe to run repeatedly: tenants are recognised by their slugs. Each tenant
    is committed in its own transaction; after an interrupted run only the
    missing tenants are added. All tenants' data is still generated, so the
    random stream, and with it every value, is the same as in a full run.
    Dates are relative to ``now`` (default: the current time).
    """
    if customers_per_tenant < 1:
        raise ValueError("customers_per_tenant must be at least 1")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")

    existing = await _existing_slugs(session_factory)
    created = False
    if len(existing) < len(_TENANTS):
        gen = _Generator(random.Random(seed), now)
        people = _people_per_tenant(gen, customers_per_tenant)
        for spec, tenant_people in zip(_TENANTS, people, strict=True):
            data = _build_tenant(gen, spec, tenant_people)
            if spec.slug not in existing:
                created = await _insert(session_factory, data) or created
    return await _summary(session_factory, created=created)


async def _existing_slugs(session_factory: async_sessionmaker[AsyncSession]) -> set[str]:
    async with session_factory() as session:
        result = await session.scalars(
            select(Tenant.slug).where(Tenant.slug.in_(DEMO_TENANT_SLUGS))
        )
        return set(result)


async def _insert(session_factory: async_sessionmaker[AsyncSession], data: _TenantData) -> bool:
    """Insert one tenant's rows; False when a concurrent run inserted it first."""
    async with session_factory() as session:
        try:
            for group in data.groups():
                session.add_all(group)
                await session.flush()
            await session.commit()
        except IntegrityError:
            await session.rollback()
            if data.spec.slug in await _existing_slugs(session_factory):
                return False
            raise
    return True


async def _summary(
    session_factory: async_sessionmaker[AsyncSession], *, created: bool
) -> DemoSummary:
    async with session_factory() as session:
        tenant_ids = list(
            await session.scalars(select(Tenant.id).where(Tenant.slug.in_(DEMO_TENANT_SLUGS)))
        )
        counts: list[int] = []
        for model in (Service, Customer, Vehicle, Booking, Document):
            count = await session.scalar(
                select(func.count()).select_from(model).where(model.tenant_id.in_(tenant_ids))
            )
            counts.append(count or 0)
    services, customers, vehicles, bookings, documents = counts
    return DemoSummary(
        tenants=len(tenant_ids),
        services=services,
        customers=customers,
        vehicles=vehicles,
        bookings=bookings,
        documents=documents,
        created=created,
    )
