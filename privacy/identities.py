"""A person's contact details as keys: normalised, and as keyed hashes for the erasure journal.

The journal must recognise a restored person whatever email or phone they had
at the time of the backup, so the keyed hashes of every identifier a person
ever had are kept: the current ones are computed on the spot, former ones are
recorded on the customer row when a rectification replaces them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_phone(phone: str) -> str:
    """E.164 as stored ("+4520123456"); separators a person might type are dropped."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.strip().startswith("00"):
        digits = digits[2:]
    return f"+{digits}"


def identity_keys(key: bytes, *, email: str | None, phone: str | None) -> list[str]:
    """Hex HMAC-SHA256 of the normalised email and phone ("email:"/"phone:" keep them apart)."""
    found = []
    if email:
        found.append(f"email:{normalise_email(email)}")
    if phone:
        found.append(f"phone:{normalise_phone(phone)}")
    return [hmac.new(key, value.encode(), hashlib.sha256).hexdigest() for value in found]


def address_keys(key: bytes, address: str) -> set[str]:
    """The journal keys an outbox address could match: as an email and, if it is one, a phone."""
    keys = set(identity_keys(key, email=address, phone=None))
    if any(ch.isdigit() for ch in address) and "@" not in address:
        keys.update(identity_keys(key, email=None, phone=address))
    return keys


def merged_keys(*groups: Iterable[str]) -> list[str]:
    """Keys of several groups, each once, in a stable order."""
    return sorted({k for group in groups for k in group})
