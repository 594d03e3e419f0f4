"""A request budget per caller: an API key, a staff member, a data subject, an address.

A token bucket per caller, held in the server process: ``limit`` requests may
come at once, and the budget refills at ``limit / window`` per second. It runs
on every request, so it must cost no database round trip; the limits whose
point is to stop guessing and flooding (login, one-time codes, online booking)
are the ones counted in the database and shared by every process
(``resolvers.address_limits``). With ``serve --workers N`` each
process keeps its own budget, so a caller spread over N processes may use up to
N times this one; the README says so.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from basics.principal import Principal, PrincipalKind

# The callers remembered per process: beyond this, the one unseen longest is
# forgotten (its budget starts full again if it returns), so memory and the
# cost of each request stay bounded however many addresses a flood comes from.
MAX_TRACKED_CALLERS = 50_000


def caller_key(principal: Principal, address: str | None) -> str:
    """Who spends the budget. Never logged; a subject's email is kept only as a hash."""
    if principal.api_key_id:
        return f"apikey:{principal.api_key_id}"
    if principal.kind is PrincipalKind.SUBJECT and principal.email:
        return "subject:" + hashlib.sha256(principal.email.encode()).hexdigest()
    if principal.kind is PrincipalKind.ANONYMOUS:
        return f"address:{address or 'unknown'}"
    return f"{principal.kind.value.lower()}:{principal.subject}@{principal.tenant_id or '-'}"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class PrincipalRateLimiter:
    """``take(key)`` spends one request; returns 0 when allowed, else seconds to wait."""

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.rate = limit / window_seconds if limit > 0 else 0.0
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        """How many callers this process remembers."""
        return len(self._buckets)

    def take(self, key: str, now: float | None = None) -> int:
        if self.limit <= 0:
            return 0
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_CALLERS:
                self._buckets.popitem(last=False)
            bucket = self._buckets[key] = _Bucket(float(self.limit), now)
        else:
            self._buckets.move_to_end(key)
            refill = (now - bucket.updated) * self.rate
            bucket.tokens = min(float(self.limit), bucket.tokens + refill)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        # The epsilon keeps float noise (5.000000001 s) from adding a second.
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate - 1e-9))
