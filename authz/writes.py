"""The write check every mutation makes before touching the database.

The static check has already refused a mutation the caller's roles may not run;
this repeats the decision where the write happens, so a resolver reached by
any other path is still guarded, and hands back the tenant the write belongs to.
"""

from __future__ import annotations

from authz.decisions import Decisions
from basics.errors import Forbidden
from basics.principal import Principal, PrincipalKind


def require_writer(principal: Principal, decisions: Decisions, mutation: str) -> str:
    """The caller's tenant id, if it may run ``mutation``; otherwise ``FORBIDDEN``."""
    if (
        principal.kind is not PrincipalKind.STAFF
        or principal.tenant_id is None
        or not decisions.allows(f"Mutation.{mutation}", "write", "public")
    ):
        raise Forbidden(f"not allowed to run {mutation}", path=[mutation])
    return principal.tenant_id
