"""Typed access to the request context from a Strawberry ``Info``."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info as StrawberryInfo

from resolvers.context import RequestContext

Info = StrawberryInfo[RequestContext, Any]
