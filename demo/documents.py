"""The demo's documents: an invoice for every completed booking and, at inspection
stations, the inspection report, written from the line templates in
``demo/data/documents.json``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from demo import content
from demo.content import BusinessSpec, ServiceSpec
from demo.people import Person, VehicleSpec
from demo.rows import Rows
from store.models import BookingStatus, DocumentKind, TenantKind

VAT_RATE_PERCENT = 25
DEMO_CREATED_BY = "seed:demo"


@dataclass
class Planned:
    """A booking row with what the documents about it need to know."""

    booking: dict[str, Any]
    person: Person
    customer_id: str
    service: ServiceSpec
    vehicle: VehicleSpec | None
    passed: bool = True  # inspection outcome
    remarks: dict[str, str] = field(default_factory=dict)


def add_documents(
    rows: Rows,
    rng: random.Random,
    spec: BusinessSpec,
    tenant_id: str,
    planned: Sequence[Planned],
    tz: ZoneInfo,
) -> None:
    """Invoices are numbered consecutively per calendar year in the order they were
    issued, as Danish bookkeeping rules require."""
    completed = sorted(
        (p for p in planned if p.booking["status"] is BookingStatus.COMPLETED),
        key=lambda p: (p.booking["ends_at"], p.booking["reference"]),
    )
    templates = content.load("documents")
    sequence: dict[int, int] = {}
    for plan in completed:
        issued = plan.booking["ends_at"].astimezone(tz)
        year = issued.year
        if year not in sequence:
            # The oldest year in the data continues numbering from before it.
            sequence[year] = rng.randint(150, 900) if not sequence else 0
        sequence[year] += 1
        number = f"{year}-{sequence[year]:06d}"
        _add(
            rows,
            tenant_id,
            plan,
            DocumentKind.INVOICE,
            templates["invoice_title"].format(number=number),
            _invoice_text(spec, plan, number, issued),
            # Bookkeeping records are kept five years after the financial year ends.
            retain_until=date(year + 5, 12, 31),
        )
        if spec.kind is TenantKind.INSPECTION_STATION and plan.vehicle is not None:
            _add(
                rows,
                tenant_id,
                plan,
                DocumentKind.INSPECTION_REPORT,
                templates["report_title"].format(registration=plan.vehicle.registration),
                _report_text(rng, spec, plan, plan.vehicle, issued),
                retain_until=None,
            )


def _add(
    rows: Rows,
    tenant_id: str,
    plan: Planned,
    kind: DocumentKind,
    title: str,
    text: bytes,
    *,
    retain_until: date | None,
) -> None:
    rows.document(
        tenant_id,
        booking_id=plan.booking["id"],
        customer_id=plan.customer_id,
        kind=kind,
        title=title,
        content=text,
        issued_at=plan.booking["ends_at"],
        retain_until=retain_until,
        created_by=DEMO_CREATED_BY,
        created_at=plan.booking["ends_at"],
    )


def _render(template: Sequence[str], many: dict[str, list[str]], **values: Any) -> bytes:
    """The template's lines filled in; a line that is only ``{key}`` of ``many`` becomes
    those lines."""
    lines: list[str] = []
    for line in template:
        key = line.strip("{}")
        if line == f"{{{key}}}" and key in many:
            lines.extend(many[key])
        else:
            lines.append(line.format(**values))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _invoice_text(spec: BusinessSpec, plan: Planned, number: str, issued: datetime) -> bytes:
    booking, person = plan.booking, plan.person
    total = int(booking["price_ore"])
    net = total * 100 // (100 + VAT_RATE_PERCENT)
    description = plan.service.name
    if plan.vehicle is not None:
        description += f" - {plan.vehicle.registration}"
    recipient = [person.name]
    if person.street and person.postal_code and person.city:
        recipient += [person.street, f"{person.postal_code} {person.city}"]
    elif person.email:
        recipient.append(person.email)
    templates = content.load("documents")
    labels = {
        key: label.format(vat_rate=VAT_RATE_PERCENT)
        for key, label in templates["invoice_labels"].items()
    }
    return _render(
        templates["invoice"],
        {"recipient": [f"  {line}" for line in recipient]},
        business=spec.name,
        street=spec.street,
        postal_code=spec.postal_code,
        city=spec.city,
        cvr=spec.cvr,
        phone=_format_phone(spec.phone),
        email=spec.email,
        number=number,
        issued=_format_date(issued.date()),
        reference=booking["reference"],
        rule="-" * 64,
        description=description,
        quantity="1",
        net=_format_kr(net),
        vat=_format_kr(total - net),
        total=_format_kr(total),
        due=_format_date(issued.date() + timedelta(days=8)),
        bank_account=spec.bank_account,
        **labels,
    )


def _report_text(
    rng: random.Random,
    spec: BusinessSpec,
    plan: Planned,
    vehicle: VehicleSpec,
    inspected: datetime,
) -> bytes:
    day = inspected.date()
    # The report shows when the inspection started, not when the slot ended.
    started = plan.booking["starts_at"].astimezone(inspected.tzinfo)
    years = (day - vehicle.first_registration_date).days / 365.25
    odometer = max(12, round(vehicle.km_per_year * years))
    templates = content.load("documents")
    checks = [
        f"{check.name + ':':<22}{plan.remarks.get(check.name, templates['check_ok'])}"
        for check in content.checks()
    ]
    if plan.passed:
        # Cars are first inspected after four years, then every second year.
        next_due = max(_add_years(vehicle.first_registration_date, 4), _add_years(day, 2))
        outcome = [
            line.format(next_due=_format_date(next_due)) for line in templates["report_passed"]
        ]
    else:
        deadline = _format_date(day + timedelta(days=30))
        outcome = [line.format(deadline=deadline) for line in templates["report_failed"]]
    return _render(
        templates["report"],
        {"checks": checks, "outcome": outcome},
        business=spec.name,
        address=spec.address,
        cvr=spec.cvr,
        day=_format_date(day),
        started=f"{started:%H:%M}",
        service=plan.service.name,
        reference=plan.booking["reference"],
        inspector=rng.choice(spec.staff),
        registration=vehicle.registration,
        vin=vehicle.vin,
        make=vehicle.make,
        model=vehicle.model,
        first_registration=_format_date(vehicle.first_registration_date),
        odometer=_format_thousands(odometer),
        presented_by=plan.person.name,
    )


def remark(check_remark: str) -> str:
    """What a check point with only a minor remark says on the report."""
    return str(content.load("documents")["check_remark"]).format(remark=check_remark)


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
