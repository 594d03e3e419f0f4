"""The policy matrix a data-protection officer reads: role x field, from the loaded policy.

Generated from Casbin's own decisions over every coordinate of the schema, so
it cannot drift from what the service enforces (a test compares it with the
copy in the README).
"""

from __future__ import annotations

from graphql import GraphQLSchema

from tenantgraph.authz.decisions import GRANT, PLATFORM_DOMAIN, READ, RELATIONS, Authorizer
from tenantgraph.authz.operation_check import iter_input_coordinates, iter_output_coordinates
from tenantgraph.authz.principal import ANONYMOUS_ROLE, PARTNER_ROLES, PLATFORM_ROLE, SUBJECT_ROLE

MATRIX_ROLES: tuple[str, ...] = (
    "tenant_admin",
    "staff",
    "inspector",
    *sorted(PARTNER_ROLES),
    SUBJECT_ROLE,
    PLATFORM_ROLE,
    ANONYMOUS_ROLE,
)
ROOT_RELATION = "public"
BEGIN_MARKER = "<!-- policy-matrix:begin -->"
END_MARKER = "<!-- policy-matrix:end -->"


def _cell(authorizer: Authorizer, role: str, coordinate: str, action: str, rooted: bool) -> str:
    decisions = authorizer.decisions(frozenset({role}), PLATFORM_DOMAIN)
    if rooted:
        return "✓" if decisions.allows(coordinate, action, ROOT_RELATION) else "—"
    allowed = [r for r in RELATIONS if decisions.allows(coordinate, action, r)]
    if allowed:
        return ", ".join(allowed)
    if action == READ and authorizer.enforce(role, PLATFORM_DOMAIN, coordinate, GRANT, "tenant"):
        return "grantable"
    return "—"


def render_matrix(authorizer: Authorizer, schema: GraphQLSchema) -> str:
    header = "| field | " + " | ".join(MATRIX_ROLES) + " |"
    rule = "|---|" + "---|" * len(MATRIX_ROLES)
    lines = [
        "Read access (cells list the relations under which the role may read the field:",
        "`tenant` = its own tenant's rows, `self` = the data subject's own rows, `public` =",
        "another tenant's public profile; ✓ = may call the root field; — = denied;",
        "grantable = denied unless the tenant grants it, within the platform ceiling).",
        "",
        header,
        rule,
    ]
    for type_name, field_name in iter_output_coordinates(schema):
        if type_name == "Mutation":
            continue
        coordinate = f"{type_name}.{field_name}"
        rooted = type_name in ("Query", "Viewer", "OpeningInterval", "Node")
        cells = [_cell(authorizer, role, coordinate, "read", rooted) for role in MATRIX_ROLES]
        lines.append(f"| `{coordinate}` | " + " | ".join(cells) + " |")
    lines += ["", "Write access (mutations and the input fields they accept):", "", header, rule]
    writes = [("Mutation", f) for t, f in iter_output_coordinates(schema) if t == "Mutation"]
    for type_name, field_name in [*writes, *iter_input_coordinates(schema)]:
        coordinate = f"{type_name}.{field_name}"
        if type_name.endswith("Filter"):
            continue
        cells = [_cell(authorizer, role, coordinate, "write", True) for role in MATRIX_ROLES]
        lines.append(f"| `{coordinate}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
