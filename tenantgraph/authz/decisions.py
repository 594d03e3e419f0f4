"""Casbin decides; this module remembers.

pycasbin's ``enforce`` scans every policy line (about a millisecond here), far
too slow to call per row and field. A ``Decisions`` object answers for one
(policy version, role set, domain) and memoises each (coordinate, action,
relation) the first time it is asked, so every later check is a dict lookup
and every answer is still Casbin's own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import casbin
from casbin.util import key_match

AUTHZ_DIR = Path(__file__).parent
MODEL_PATH = AUTHZ_DIR / "model.conf"
POLICY_PATH = AUTHZ_DIR / "policy.csv"
PLATFORM_DOMAIN = "*"

READ = "read"
WRITE = "write"
GRANT = "grant"
RELATIONS = ("tenant", "self", "public")


@dataclass(frozen=True)
class Explanation:
    allowed: bool
    rule: tuple[str, ...]


def new_enforcer(policy_path: Path = POLICY_PATH) -> casbin.Enforcer:
    enforcer = casbin.Enforcer(str(MODEL_PATH), str(policy_path))
    # Role inheritance lines in the "*" domain apply in every tenant's domain.
    enforcer.enable_auto_save(False)
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

    def allows_any(self, coordinate: str, action: str, relations: tuple[str, ...]) -> bool:
        return any(self.allows(coordinate, action, relation) for relation in relations)


class Authorizer:
    """The process's Casbin enforcer and its decision cache, keyed by policy version."""

    def __init__(self, enforcer: casbin.Enforcer | None = None) -> None:
        self._enforcer = enforcer or new_enforcer()
        self._lock = threading.Lock()
        self.version = 1
        self._cache: dict[tuple[int, frozenset[str], str], Decisions] = {}

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

    def replace_tenant_grants(self, grants: list[tuple[str, str, str, str, str]]) -> None:
        """Swap in the database-held tenant grants and start a new policy version."""
        with self._lock:
            for line in self._enforcer.get_policy():
                if line[1] != PLATFORM_DOMAIN:
                    self._enforcer.remove_policy(*line)
            for role, domain, coordinate, action, relation in grants:
                self._enforcer.add_policy(role, domain, coordinate, action, relation, "allow")
            self.version += 1
            self._cache.clear()
