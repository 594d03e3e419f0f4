"""One-time codes: six digits sent to an address, stored only as a keyed hash.

A code proves that the caller controls an address: the email of a data subject
signing in, or a new email or phone number a subject wants on their records.

- The code comes from ``secrets`` and never touches the database in clear; the
  row holds ``HMAC(key, row id + code)``, so a copied table (or a copied hash
  moved to another row) is useless without the key. The key is derived from
  the signing key, which lives outside the database.
- ``target_key`` is a keyed hash too: for a login, of the normalised email the
  code was sent to; for a contact change, of the verified email of the person
  asking (the new address, which is what changes, waits in ``payload``).
- A code is valid for ``CODE_TTL``, dies after ``MAX_ATTEMPTS`` wrong guesses
  (even if a later guess would be right) and works once. Issuing a new code for
  the same purpose and target retires the older one, so a person never has two
  codes alive that a guesser could try in parallel.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import OneTimeCode
from store.types import new_id, utcnow

LOGIN = "login"
RECTIFY_EMAIL = "rectify_email"
RECTIFY_PHONE = "rectify_phone"

# Kinds of address in ``address_key``.
EMAIL = "email"
PHONE = "phone"

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5

_KEY_CONTEXT = b"tenantgraph one-time codes v1"
_CODE = re.compile(r"[0-9]{6}")
_SEPARATORS = re.compile(r"[\s-]")


def _key(signing_key: str) -> bytes:
    """A key for this purpose only, derived from the signing key (never the key itself)."""
    return hmac.new(signing_key.encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def address_key(signing_key: str, kind: str, address: str) -> str:
    """The keyed hash of a normalised address (``kind`` is "email" or "phone")."""
    return hmac.new(_key(signing_key), f"{kind}:{address}".encode(), hashlib.sha256).hexdigest()


def _code_hash(signing_key: str, row_id: str, code: str) -> str:
    return hmac.new(_key(signing_key), f"{row_id}:{code}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise_code(value: str) -> str | None:
    """Six ASCII digits, forgiving the spaces and dashes people type; None if it is not one."""
    cleaned = _SEPARATORS.sub("", value)
    return cleaned if _CODE.fullmatch(cleaned) else None


async def issue(
    tx: AsyncSession,
    signing_key: str,
    *,
    purpose: str,
    target_key: str,
    payload: dict[str, Any] | None = None,
) -> tuple[OneTimeCode, str]:
    """Store a new code (retiring any live one for the same target) and return it in clear.

    Always the same two statements, whoever the target is: the login path
    relies on that to look the same for known and unknown addresses.
    """
    now = utcnow()
    await tx.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.purpose == purpose,
            OneTimeCode.target_key == target_key,
            OneTimeCode.consumed_at.is_(None),
        )
        .values(consumed_at=now)
    )
    code = new_code()
    row_id = new_id()
    row = OneTimeCode(
        id=row_id,
        purpose=purpose,
        target_key=target_key,
        code_hash=_code_hash(signing_key, row_id, code),
        expires_at=now + CODE_TTL,
        attempts=0,
        payload=payload or {},
        created_at=now,
    )
    tx.add(row)
    await tx.flush()
    return row, code


def _alive(row: OneTimeCode, now: datetime) -> bool:
    return row.consumed_at is None and row.expires_at > now and row.attempts < MAX_ATTEMPTS


async def redeem(
    tx: AsyncSession,
    signing_key: str,
    *,
    purposes: Sequence[str],
    target_key: str,
    code: str | None,
) -> OneTimeCode | None:
    """The code's row, now used up, if ``code`` is the live code of one of ``purposes``.

    Only the newest code per purpose counts. A wrong guess costs every live
    code it was tried against one attempt; the rows are locked first
    (``FOR UPDATE`` on PostgreSQL, the write lock on SQLite) so concurrent
    guesses cannot share an attempt. The caller must commit even when this
    returns None, or the attempt would not count.
    """
    now = utcnow()
    rows = (
        await tx.execute(
            select(OneTimeCode)
            .where(
                OneTimeCode.purpose.in_(list(purposes)),
                OneTimeCode.target_key == target_key,
                OneTimeCode.consumed_at.is_(None),
            )
            .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id)
            .with_for_update()
        )
    ).scalars()
    newest: dict[str, OneTimeCode] = {}
    for row in rows:
        newest.setdefault(row.purpose, row)
    matched: OneTimeCode | None = None
    for row in newest.values():
        if not _alive(row, now):
            continue
        if (
            matched is None
            and code is not None
            and hmac.compare_digest(row.code_hash, _code_hash(signing_key, row.id, code))
        ):
            matched = row
        else:
            row.attempts += 1
    if matched is not None:
        matched.consumed_at = now
    return matched


def message(purpose: str, code: str) -> tuple[str, str]:
    """Subject and body of the message carrying a code: short, Danish first, then English."""
    minutes = int(CODE_TTL.total_seconds() // 60)
    if purpose == RECTIFY_PHONE:
        return (
            "Bekræft telefonnummer / Confirm phone number",
            f"Din kode er {code} ({minutes} min). Your code is {code} ({minutes} min).",
        )
    if purpose == RECTIFY_EMAIL:
        subject = "Bekræft din nye e-mailadresse / Confirm your new email address"
        intro_da = "Bekræft din nye e-mailadresse med denne kode"
        intro_en = "Confirm your new email address with this code"
    else:
        subject = "Din kode / Your code"
        intro_da = "Din engangskode til at se dine data"
        intro_en = "Your one-time code to see your data"
    body = (
        f"{intro_da}: {code}\n"
        f"Koden gælder i {minutes} minutter. Har du ikke bedt om den, kan du se bort fra "
        "denne besked.\n\n"
        f"{intro_en}: {code}\n"
        f"The code is valid for {minutes} minutes. If you did not ask for it, you can ignore "
        "this message.\n"
    )
    return subject, body
