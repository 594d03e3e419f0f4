"""Response bodies as JSON text, with the database's JSON spliced in unchanged."""

from __future__ import annotations

import json
import secrets
from typing import Any

from basics.raw_json import RawJSON

# Stands in for each RawJSON value while the rest is encoded; random per
# process, so no string a client stored can be mistaken for it.
_PLACEHOLDER = f"tg-raw-json-{secrets.token_hex(16)}"
_QUOTED = json.dumps(_PLACEHOLDER)


def encode_body(body: object) -> str:
    """``json.dumps(body)`` compactly; ``RawJSON`` values go in as the text they are."""
    texts: list[str] = []

    def raw(value: Any) -> str:
        if isinstance(value, RawJSON):
            texts.append(value.text)
            return _PLACEHOLDER
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    encoded = json.dumps(body, separators=(",", ":"), default=raw)
    if not texts:
        return encoded
    pieces = encoded.split(_QUOTED)
    out = [pieces[0]]
    for text, piece in zip(texts, pieces[1:], strict=True):
        out.append(text)
        out.append(piece)
    return "".join(out)
