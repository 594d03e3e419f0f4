"""Casbin decides; this module remembers.

pycasbin's ``enforce`` scans every policy line (about a millisecond here), far
too slow to call per row and field. A ``Decisions`` object answers for one
(policy version, role set, domain) and memoises each (coordinate, action,
relation) the first time it is asked, so every later check is a dict lookup
and every answer is still Casbin's own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import casbin
from casbin.model import Model
from casbin.util import key_match
from casbin_async_sqlalchemy_adapter import Adapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import PolicyRule, PolicyState

AUTHZ_DIR = Path(__file__).parent
MODEL_PATH = AUTHZ_DIR / "model.conf"
POLICY_PATH = AUTHZ_DIR / "policy.csv"
# Further platform policy files, one per feature area, loaded after policy.csv.
POLICY_DIR = AUTHZ_DIR / "policy.d"
PLATFORM_DOMAIN = "*"

logger = logging.getLogger("authz")
# How stale a process's copy of the database-held grants may get.
REFRESH_SECONDS = 0.5
READ = "read"
WRITE = "write"
GRANT = "grant"
RELATIONS = ("tenant", "self", "public")


@dataclass(frozen=True)
class Explanation:
    allowed: bool
    rule: tuple[str, ...]


def _policy_lines(path: Path) -> list[list[str]]:
    lines = []
    for raw in path.read_text().splitlines():
        text = raw.strip()
        if text and not text.startswith("#"):
            lines.append([part.strip() for part in text.split(",")])
    return lines


def new_enforcer(policy_path: Path = POLICY_PATH, policy_dir: Path = POLICY_DIR) -> casbin.Enforcer:
    enforcer = casbin.Enforcer(str(MODEL_PATH), str(policy_path))
    enforcer.enable_auto_save(False)
    for extra in sorted(policy_dir.glob("*.csv")):
        for line in _policy_lines(extra):
            if line[0] == "p":
                enforcer.add_policy(*line[1:])
            elif line[0] == "g":
                enforcer.add_grouping_policy(*line[1:])
    # Role inheritance lines in the "*" domain apply in every tenant's domain.
    enforcer.add_named_domain_matching_func("g", key_match)
    enforcer.build_role_links()
    return enforcer


class Decisions:
    """Every answer for one role set in one domain under one policy version."""

    def __init__(
        self, authorizer: Authorizer, roles: frozenset[str], domain: str, version: int
    ) -> None:
        self._authorizer = authorizer
        self._roles = tuple(sorted(roles))
        self._domain = domain
        self.version = version
        self._memo: dict[tuple[str, str, str], bool] = {}
        self._field_memo: dict[tuple[str, str, str], bool] = {}
        # Views built from these decisions (the caller's own schema for introspection).
        self.views: dict[int, Any] = {}

    def allows(self, coordinate: str, action: str, relation: str) -> bool:
        key = (coordinate, action, relation)
        answer = self._memo.get(key)
        if answer is None:
            answer = any(
                self._authorizer.enforce(role, self._domain, coordinate, action, relation)
                for role in self._roles
            )
            self._memo[key] = answer
        return answer

    def allows_field(self, type_name: str, field_name: str, relation: str) -> bool:
        """``allows`` for a read of one field, memoised without building a coordinate string."""
        key = (type_name, field_name, relation)
        answer = self._field_memo.get(key)
        if answer is None:
            answer = self.allows(f"{type_name}.{field_name}", READ, relation)
            self._field_memo[key] = answer
        return answer

    def allows_any(self, coordinate: str, action: str, relations: tuple[str, ...]) -> bool:
        return any(self.allows(coordinate, action, relation) for relation in relations)


class Authorizer:
    """The process's Casbin enforcer and its decision cache, keyed by policy version."""

    def __init__(self, enforcer: casbin.Enforcer | None = None) -> None:
        self._enforcer = enforcer or new_enforcer()
        self._lock = threading.Lock()
        self.version = 1
        self._cache: dict[tuple[int, frozenset[str], str], Decisions] = {}
        self._database_version: int | None = None
        self._checked_at = float("-inf")
        self._refresh_lock = asyncio.Lock()

    def enforce(self, role: str, domain: str, coordinate: str, action: str, relation: str) -> bool:
        with self._lock:
            return bool(self._enforcer.enforce(role, domain, coordinate, action, relation))

    def explain(
        self, role: str, domain: str, coordinate: str, action: str, relation: str
    ) -> Explanation:
        with self._lock:
            allowed, rule = self._enforcer.enforce_ex(role, domain, coordinate, action, relation)
        return Explanation(bool(allowed), tuple(rule))

    def decisions(self, roles: frozenset[str], domain: str | None) -> Decisions:
        key = (self.version, roles, domain or PLATFORM_DOMAIN)
        found = self._cache.get(key)
        if found is None:
            found = Decisions(self, roles, domain or PLATFORM_DOMAIN, self.version)
            self._cache[key] = found
        return found

    def policy_lines(self) -> list[list[str]]:
        with self._lock:
            return [list(line) for line in self._enforcer.get_policy()]

    def grouping_lines(self) -> list[list[str]]:
        with self._lock:
            return [list(line) for line in self._enforcer.get_grouping_policy()]

    def replace_tenant_grants(self, grants: list[list[str]]) -> None:
        """Swap in the database-held tenant grants and start a new policy version."""
        with self._lock:
            for line in self._enforcer.get_policy():
                if line[1] != PLATFORM_DOMAIN:
                    self._enforcer.remove_policy(*line)
            for line in grants:
                self._enforcer.add_policy(*line)
            self.version += 1
            self._cache.clear()

    def _admissible(self, line: list[str]) -> bool:
        """A database line may only allow a read in one tenant, within the platform ceiling."""
        if len(line) != 6 or line[1] == PLATFORM_DOMAIN or line[3] != READ or line[5] != "allow":
            return False
        return self.enforce(line[0], PLATFORM_DOMAIN, line[2], GRANT, line[4])

    async def refresh_if_stale(
        self, sessions: async_sessionmaker[AsyncSession], *, force: bool = False
    ) -> None:
        """Reload the tenant grants when the database's policy version has moved.

        Checked at most every ``REFRESH_SECONDS`` per process, on the request
        path, so a grant or revocation made by any process is in force in every
        process within a second without a background task or a message bus.
        """
        if not force and time.monotonic() - self._checked_at < REFRESH_SECONDS:
            return
        async with self._refresh_lock:
            if not force and time.monotonic() - self._checked_at < REFRESH_SECONDS:
                return
            async with sessions() as session:
                version = (
                    await session.execute(select(PolicyState.version).where(PolicyState.id == 1))
                ).scalar_one_or_none()
                if version != self._database_version:
                    model = Model()
                    model.load_model(str(MODEL_PATH))
                    await Adapter(
                        session.bind, db_class=PolicyRule, db_session=session
                    ).load_policy(model)
                    lines = [list(line) for line in model.get_policy("p", "p")]
                    admissible = [line for line in lines if self._admissible(line)]
                    if len(admissible) != len(lines):
                        logger.warning(
                            "ignored %d database policy lines outside the platform ceiling",
                            len(lines) - len(admissible),
                        )
                    self.replace_tenant_grants(admissible)
                    self._database_version = version
            self._checked_at = time.monotonic()
