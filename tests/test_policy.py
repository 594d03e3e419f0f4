"""The policy itself: every field classified, nullability, the matrix in docs/, explain."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType

from authz.decisions import PLATFORM_DOMAIN, RELATIONS, Authorizer
from authz.matrix import BEGIN_MARKER, END_MARKER, MATRIX_ROLES, render_matrix
from authz.operation_check import iter_input_coordinates, iter_output_coordinates
from basics.settings import Settings
from schema.build import build_schema

MATRIX_DOC = Path(__file__).resolve().parent.parent / "docs" / "policy-matrix.md"
SCHEMA = build_schema(Settings(secret_key="x" * 40))._schema
AUTHORIZER = Authorizer()


def _classified(role: str, coordinate: str, action: str) -> bool:
    """Some policy line (allow or explicit deny) speaks about this role and field."""
    actions = (action, "grant") if action == "read" else (action,)
    return any(
        AUTHORIZER.explain(role, PLATFORM_DOMAIN, coordinate, act, relation).rule
        for relation in RELATIONS
        for act in actions
    )


@pytest.mark.parametrize("role", MATRIX_ROLES)
def test_every_output_field_is_classified_for_every_role(role: str) -> None:
    unclassified = [
        f"{t}.{f}"
        for t, f in iter_output_coordinates(SCHEMA)
        if t != "Mutation" and not _classified(role, f"{t}.{f}", "read")
    ]
    assert not unclassified, f"{role}: no policy line decides {unclassified}"


def test_every_mutation_and_input_field_has_a_write_decision() -> None:
    coordinates = [f"Mutation.{f}" for t, f in iter_output_coordinates(SCHEMA) if t == "Mutation"]
    coordinates += [
        f"{t}.{f}" for t, f in iter_input_coordinates(SCHEMA) if not t.endswith("Filter")
    ]
    undecided = [
        c for c in coordinates if not any(_classified(role, c, "write") for role in MATRIX_ROLES)
    ]
    assert not undecided
    admin = AUTHORIZER.decisions(frozenset({"tenant_admin"}), PLATFORM_DOMAIN)
    inputs = [c for c in coordinates if not c.startswith("Mutation.")]
    assert [c for c in inputs if not admin.allows(c, "write", "public")] == []


def test_fields_any_reader_may_be_denied_are_nullable() -> None:
    """A denied non-null field would null its parent; such fields must be nullable."""
    problems = []
    for type_name, field_name in iter_output_coordinates(SCHEMA):
        gql_type = SCHEMA.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType) or type_name == "Node"
        field = gql_type.fields[field_name]  # type: ignore[attr-defined]
        if type_name in ("Query", "Mutation") or not isinstance(field.type, GraphQLNonNull):
            continue
        for role in MATRIX_ROLES:
            decisions = AUTHORIZER.decisions(frozenset({role}), PLATFORM_DOMAIN)
            for relation in RELATIONS:
                sees_type = any(
                    decisions.allows(f"{type_name}.{other}", "read", relation)
                    for other in gql_type.fields  # type: ignore[attr-defined]
                )
                if sees_type and not decisions.allows(
                    f"{type_name}.{field_name}", "read", relation
                ):
                    problems.append(f"{type_name}.{field_name} ({role}, {relation})")
    assert not problems


def test_docs_hold_the_current_policy_matrix() -> None:
    text = MATRIX_DOC.read_text()
    embedded = text.split(BEGIN_MARKER)[1].split(END_MARKER)[0].strip()
    assert embedded == render_matrix(AUTHORIZER, SCHEMA).strip(), (
        "docs/policy-matrix.md is stale: regenerate it with ./scripts/refresh-docs"
    )


def test_no_role_reads_internal_notes_as_a_subject_or_partner() -> None:
    for role in (
        "subject",
        "partner_accounting",
        "partner_reminders",
        "anonymous",
        "platform_admin",
    ):
        decisions = AUTHORIZER.decisions(frozenset({role}), PLATFORM_DOMAIN)
        assert not any(decisions.allows("Booking.internalNotes", "read", r) for r in RELATIONS)


def test_platform_admin_reads_no_personal_data() -> None:
    decisions = AUTHORIZER.decisions(frozenset({"platform_admin"}), PLATFORM_DOMAIN)
    for type_name, field_name in iter_output_coordinates(SCHEMA):
        if type_name in ("Customer", "Vehicle", "Booking", "Document"):
            assert not decisions.allows_any(f"{type_name}.{field_name}", "read", RELATIONS)


def test_policy_explain_prints_the_deciding_line() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "policy",
            "explain",
            "--role",
            "inspector",
            "--relation",
            "tenant",
            "Customer.email",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"TENANTGRAPH_SECRET_KEY": "x" * 40, "PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.strip() == (
        "DENY   inspector read Customer.email as tenant: inspector, *, Customer.email, read, *, deny"
    )
    allowed = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "policy",
            "explain",
            "--role",
            "tenant_admin",
            "--relation",
            "tenant",
            "Customer.email",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"TENANTGRAPH_SECRET_KEY": "x" * 40, "PATH": "/usr/bin:/bin"},
    )
    assert (
        allowed.stdout.startswith("ALLOW")
        and "tenant_admin, *, Customer.*, read, tenant, allow" in allowed.stdout
    )


def test_row_rules_are_policy_lines_explained_like_fields() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "policy",
            "explain",
            "--role",
            "partner_accounting",
            "--action",
            "hold",
            "--relation",
            "tenant",
            "rows:Document.kind.INVOICE",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"TENANTGRAPH_SECRET_KEY": "x" * 40, "PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.startswith("ALLOW")
    assert "rows:Document.kind.INVOICE, hold, tenant, allow" in result.stdout
    matrix = render_matrix(AUTHORIZER, SCHEMA)
    assert "| inspector | INSPECTION_REPORT, OTHER | INSPECTION_REPORT | — | — |" in matrix


def test_a_tenant_cannot_widen_row_rules() -> None:
    """Database lines may only allow reads of fields: a row rule there is ignored."""
    authorizer = Authorizer()
    for line in (
        ["partner_reminders", "t1", "rows:Document.kind.*", "hold", "tenant", "allow"],
        ["staff", "t1", "rows:Document.retained", "hold", "tenant", "allow"],
        ["partner_accounting", "t1", "rows:Purpose.marketing", "serve", "tenant", "allow"],
    ):
        assert not authorizer._admissible(line)
