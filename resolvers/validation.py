"""Input validation with well-kept libraries; every failure names its field.

Each validator takes the field path used in the error (``input.email``) and
returns the normalised value that is stored.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from basics.errors import BadUserInput

DEFAULT_PHONE_REGION = "DK"
# Danish plates: two letters and up to five digits ("AB12345"), or a personal
# plate of 2-7 letters/digits. Stored upper-case without spaces.
_REGISTRATION = re.compile(r"^[A-ZÆØÅ0-9]{2,7}$")
# ISO 3779: 17 characters, letters I, O and Q are never used.
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
# C0 and C1 control characters except tab and newlines, the bidirectional
# overrides that make text display differently from what is stored, and lone
# surrogates (from JSON "\ud800" escapes), which no database can store.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_LINE_BREAK = re.compile(r"[\t\r\n\u2028\u2029]")


def has_unsafe_characters(value: str) -> bool:
    """Control characters, bidirectional overrides or lone surrogates: never stored."""
    return _CONTROL.search(value) is not None


def text(
    field: str, value: str, *, max_length: int, required: bool = True, multiline: bool = False
) -> str:
    """Trimmed, NFC-normalised text without control characters; one line unless ``multiline``."""
    cleaned = unicodedata.normalize("NFC", value).strip()
    if _CONTROL.search(cleaned):
        raise BadUserInput(field, "must not contain control characters")
    if not multiline and _LINE_BREAK.search(cleaned):
        raise BadUserInput(field, "must be a single line")
    if required and not cleaned:
        raise BadUserInput(field, "must not be empty")
    if len(cleaned) > max_length:
        raise BadUserInput(field, f"must be at most {max_length} characters")
    return cleaned


def optional_text(
    field: str, value: str | None, *, max_length: int, multiline: bool = False
) -> str | None:
    if value is None:
        return None
    cleaned = text(field, value, max_length=max_length, required=False, multiline=multiline)
    return cleaned or None


def email(field: str, value: str) -> str:
    """A deliverable-looking address, stored lower-case (matching is case-insensitive)."""
    if len(value) > 254:
        raise BadUserInput(field, "must be at most 254 characters")
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadUserInput(field, f"is not a valid email address: {exc}") from None
    return result.normalized.lower()


def phone(field: str, value: str) -> str:
    """A valid phone number (Danish unless it has a country code), stored as E.164."""
    if len(value) > 32:
        raise BadUserInput(field, "must be at most 32 characters")
    try:
        parsed = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise BadUserInput(field, "is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise BadUserInput(field, "is not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def looks_like_registration(value: str) -> bool:
    """Whether a search term could be a plate (spaces and dashes ignored)."""
    return _REGISTRATION.match(re.sub(r"[\s-]", "", value).upper()) is not None


def registration(field: str, value: str) -> str:
    """A Danish registration number, upper-case without spaces or dashes."""
    cleaned = re.sub(r"[\s-]", "", value).upper()
    if not _REGISTRATION.match(cleaned):
        raise BadUserInput(field, "is not a Danish registration number (e.g. AB 12 345)")
    return cleaned


def vin(field: str, value: str) -> str:
    """An ISO 3779 vehicle identification number."""
    cleaned = value.strip().upper()
    if len(cleaned) != 17:
        raise BadUserInput(field, "must be exactly 17 characters")
    if not _VIN.match(cleaned):
        raise BadUserInput(field, "may only contain A-Z and 0-9 without I, O or Q")
    return cleaned


def aware(field: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise BadUserInput(field, "must include a timezone offset (e.g. 2026-03-01T09:00:00+01:00)")
    return value


def past_date(field: str, value: date, *, earliest: date = date(1900, 1, 1)) -> date:
    if value < earliest or value > date.today():
        raise BadUserInput(field, f"must be between {earliest.isoformat()} and today")
    return value


def postal_code(field: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    cleaned = value.strip()
    # ASCII digits only: \d would also accept full-width and other non-ASCII digits.
    if not re.fullmatch(r"[0-9]{4}", cleaned):
        raise BadUserInput(field, "must be a four-digit Danish postal code")
    return cleaned
