"""Which roles may run which mutation.

Mutations change a tenant's data, so only members of that tenant with a
writing role may run them; every other principal gets ``FORBIDDEN``.
"""

from __future__ import annotations

from tenantgraph.authz.principal import Principal, PrincipalKind
from tenantgraph.errors import Forbidden

MUTATION_WRITERS: dict[str, frozenset[str]] = {
    "createCustomer": frozenset({"tenant_admin", "staff"}),
    "updateCustomer": frozenset({"tenant_admin", "staff"}),
    "createVehicle": frozenset({"tenant_admin", "staff"}),
    "updateVehicle": frozenset({"tenant_admin", "staff", "inspector"}),
    "createBooking": frozenset({"tenant_admin", "staff"}),
    "rescheduleBooking": frozenset({"tenant_admin", "staff"}),
    "cancelBooking": frozenset({"tenant_admin", "staff"}),
    "addDocument": frozenset({"tenant_admin", "staff", "inspector"}),
}


def require_writer(principal: Principal, mutation: str) -> str:
    """The caller's tenant id, if it may run ``mutation``; otherwise ``FORBIDDEN``."""
    allowed = MUTATION_WRITERS.get(mutation, frozenset())
    if (
        principal.kind is not PrincipalKind.STAFF
        or principal.tenant_id is None
        or not principal.has_any_role(*allowed)
    ):
        raise Forbidden(f"not allowed to run {mutation}", path=[mutation])
    return principal.tenant_id
