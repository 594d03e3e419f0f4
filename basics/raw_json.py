"""JSON text written elsewhere, sent to the client as it is."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RawJSON:
    """A value of a GraphQL answer that is already JSON text (the database wrote it).

    The HTTP view splices the text into the response instead of decoding and
    encoding it again; anything else that needs the value calls ``value()``.
    """

    text: str

    def value(self) -> Any:
        return json.loads(self.text)
