"""The policy matrix a data-protection officer reads: role x field, from the loaded policy.

Generated from Casbin's own decisions over every coordinate of the schema, so
it cannot drift from what the service enforces (a test compares it with
docs/policy-matrix.md).
"""

from __future__ import annotations

import re

from graphql import GraphQLSchema

from authz.decisions import GRANT, PLATFORM_DOMAIN, READ, RELATIONS, Authorizer
from authz.operation_check import iter_input_coordinates, iter_output_coordinates
from authz.row_rules import row_rules
from basics.principal import (
    ANONYMOUS_ROLE,
    PARTNER_ROLES,
    PLATFORM_ROLE,
    ROOT_RELATION,
    SUBJECT_ROLE,
)
from store.data_map import DATA_MAP
from store.models import DocumentKind

MATRIX_ROLES: tuple[str, ...] = (
    "tenant_admin",
    "staff",
    "inspector",
    *sorted(PARTNER_ROLES),
    SUBJECT_ROLE,
    PLATFORM_ROLE,
    ANONYMOUS_ROLE,
)
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


TABLE_OF_TYPE = {
    "Customer": "customers",
    "Vehicle": "vehicles",
    "Booking": "bookings",
    "Document": "documents",
    "PrivacyRequest": "privacy_requests",
}


def data_category(type_name: str, field_name: str) -> str:
    """The data-map category of the column behind a field, if it maps to one."""
    table = TABLE_OF_TYPE.get(type_name)
    if table is None:
        return ""
    column = re.sub(r"(?<!^)(?=[A-Z])", "_", field_name).lower()
    annotation = DATA_MAP[table].columns.get(column)
    if annotation is None or not annotation.personal:
        return ""
    return annotation.category.value


def render_matrix(authorizer: Authorizer, schema: GraphQLSchema) -> str:
    header = "| field | data category | " + " | ".join(MATRIX_ROLES) + " |"
    rule = "|---|---|" + "---|" * len(MATRIX_ROLES)
    lines = [
        "Read access (the data category comes from the data map; cells list the relations",
        "under which the role may read the field:",
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
        category = data_category(type_name, field_name)
        lines.append(f"| `{coordinate}` | {category} | " + " | ".join(cells) + " |")
    write_header = "| field | " + " | ".join(MATRIX_ROLES) + " |"
    write_rule = "|---|" + "---|" * len(MATRIX_ROLES)
    lines += [
        "",
        "Write access (mutations and the input fields they accept):",
        "",
        write_header,
        write_rule,
    ]
    writes = [("Mutation", f) for t, f in iter_output_coordinates(schema) if t == "Mutation"]
    for type_name, field_name in [*writes, *iter_input_coordinates(schema)]:
        coordinate = f"{type_name}.{field_name}"
        if type_name.endswith("Filter"):
            continue
        cells = [_cell(authorizer, role, coordinate, "write", True) for role in MATRIX_ROLES]
        lines.append(f"| `{coordinate}` | " + " | ".join(cells) + " |")
    lines += ["", *_row_rule_lines()]
    return "\n".join(lines) + "\n"


def _row_rule_lines() -> list[str]:
    """The row rules of every role, from ``policy.d/rows.csv`` (platform ceiling)."""
    lines = [
        "Row rules (which rows a role holds at all, beyond the fields above; tenants cannot",
        "widen them; `tenantgraph policy explain --action hold rows:Document.kind.INVOICE`",
        "names the deciding line):",
        "",
        "| role | document kinds held | kinds it may add | retained invoices "
        "| purpose served (objectors hidden) |",
        "|---|---|---|---|---|",
    ]
    for role in MATRIX_ROLES:
        relation = "self" if role == SUBJECT_ROLE else "tenant"
        rules = row_rules(frozenset({role}), relation)
        if rules.document_kinds is None:
            kinds = "all"
        else:
            kinds = ", ".join(sorted(kind.value for kind in rules.document_kinds)) or "—"
        added = ", ".join(sorted(kind.value for kind in rules.addable_kinds)) or "—"
        if len(rules.addable_kinds) == len(DocumentKind):
            added = "all"
        retained = "✓" if rules.keeps_retained else "—"
        purposes = ", ".join(sorted(rules.purposes)) or "—"
        lines.append(f"| {role} | {kinds} | {added} | {retained} | {purposes} |")
    return lines
