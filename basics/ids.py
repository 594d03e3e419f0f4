"""Opaque global ids: ``base64url("Type:<key>")``.

Keys are random, so ids cannot be enumerated; the type prefix lets ``node(id)``
dispatch and lets every lookup reject an id of the wrong type.
"""

from __future__ import annotations

import base64
import binascii

from basics.errors import BadUserInput

_MAX_ID_LENGTH = 200


def encode_id(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def decode_any(field: str, global_id: str) -> tuple[str, str]:
    """Split a global id into (type name, key); malformed ids name their field."""
    if len(global_id) > _MAX_ID_LENGTH:
        raise BadUserInput(field, "is not a valid id")
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise BadUserInput(field, "is not a valid id") from None
    type_name, sep, key = raw.partition(":")
    if not sep or not type_name or not key or not key.isalnum():
        raise BadUserInput(field, "is not a valid id")
    return type_name, key


def decode_id(field: str, global_id: str, expected_type: str) -> str:
    type_name, key = decode_any(field, global_id)
    if type_name != expected_type:
        raise BadUserInput(field, f"is not a {expected_type} id")
    return key
