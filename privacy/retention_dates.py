"""How long a document must be kept after its person is erased, and on what legal basis.

Issued invoices are accounting material under the Danish Bookkeeping Act;
inspection reports are kept when the business has set a report retention
period. Erasure and the purge both ask ``retention_of``, so they never disagree.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from store.models import DocumentKind, Tenant

BOOKKEEPING_BASIS = (
    "GDPR Art. 17(3)(b); Danish Bookkeeping Act (bogføringsloven) § 10: "
    "5 years from the end of the financial year"
)
BOOKKEEPING_YEARS = 5


def report_basis(years: int) -> str:
    return (
        "GDPR Art. 17(3)(b): the business's duty to keep its inspection reports "
        f"for {years} years from issue (tenant setting)"
    )


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day at the business: an invoice of 31 Dec 23:30 UTC is a January one in DK."""
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Europe/Copenhagen")
    return moment.astimezone(zone).date()


def retention_of(
    kind: DocumentKind,
    issued_at: datetime,
    retain_until: date | None,
    tenant: Tenant,
) -> tuple[str, date] | None:
    """The legal basis and last day a document must be kept, or None when nothing holds it.

    Invoices: the invoice's own ``retain_until``, else 31 December of the issue
    year plus 5 (a calendar financial year). Inspection reports: the issue day
    plus the tenant's ``report_retention_years``, when set. Other documents:
    nothing holds them.
    """
    if kind is DocumentKind.INVOICE:
        if retain_until is None:
            year = local_date(issued_at, tenant.timezone).year + BOOKKEEPING_YEARS
            retain_until = date(year, 12, 31)
        return BOOKKEEPING_BASIS, retain_until
    if kind is DocumentKind.INSPECTION_REPORT and tenant.report_retention_years:
        years = tenant.report_retention_years
        return report_basis(years), add_years(local_date(issued_at, tenant.timezone), years)
    return None
