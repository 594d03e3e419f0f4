"""Facts about a request that every layer may add to its log line.

They live in the ASGI scope's state, so the outermost middleware can log them
after the inner layers are done; only ids, names and codes belong here, never
personal values.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.types import Scope


def request_state(scope: Scope) -> MutableMapping[str, Any]:
    state: MutableMapping[str, Any] = scope.setdefault("state", {})
    return state


def note_request(scope: Scope, **facts: Any) -> None:
    """Add facts to the request's log line."""
    request_state(scope).setdefault("log", {}).update(facts)
