"""The demo content, read from the JSON files shipped in ``demo/data``.

Names, streets, businesses, cars, notes, inspection check points and the line
templates of invoices and reports are data, not code: they can be read and
changed without touching the generator, and the generator stays small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from store.models import TenantKind


@cache
def load(name: str) -> Any:
    """One data file, parsed once per process."""
    text = resources.files("demo").joinpath("data", f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class ServiceSpec:
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
class BusinessSpec:
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
    services: tuple[ServiceSpec, ...]
    # (postal code, city) pairs where this business's customers live.
    region: tuple[tuple[str, str], ...]
    bank_account: str
    staff: tuple[str, ...]

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}"


@dataclass(frozen=True)
class CarModel:
    make: str
    model: str
    wmi: str  # world manufacturer identifier: the first three VIN characters
    year_from: int
    weight: int


@dataclass(frozen=True)
class Check:
    """A check point of the Danish inspection report, with its faults and minor remarks."""

    name: str
    faults: tuple[str, ...]
    remarks: tuple[str, ...]


@cache
def businesses() -> tuple[BusinessSpec, ...]:
    return tuple(
        BusinessSpec(
            **{
                **raw,
                "kind": TenantKind(raw["kind"]),
                "services": tuple(ServiceSpec(**s) for s in raw["services"]),
                "region": tuple((code, city) for code, city in raw["region"]),
                "staff": tuple(raw["staff"]),
            }
        )
        for raw in load("businesses")["businesses"]
    )


@cache
def subject_businesses() -> tuple[int, ...]:
    """Indexes into ``businesses()`` of the two where the demo data subject is a customer."""
    slugs = [b.slug for b in businesses()]
    return tuple(slugs.index(slug) for slug in load("businesses")["subject_businesses"])


@cache
def car_models() -> tuple[CarModel, ...]:
    return tuple(CarModel(**raw) for raw in load("vehicles")["models"])


@cache
def checks() -> tuple[Check, ...]:
    return tuple(
        Check(raw["name"], tuple(raw["faults"]), tuple(raw["remarks"]))
        for raw in load("inspection")["checks"]
    )


def texts(name: str, *keys: str) -> tuple[str, ...]:
    """A list of strings from a data file, e.g. ``texts("notes", "internal")``."""
    found: Any = load(name)
    for key in keys:
        found = found[key]
    return tuple(found)
