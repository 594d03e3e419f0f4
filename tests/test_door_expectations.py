"""Every role through every door, against a table written from the roles' purpose.

The table below is written from what each role is for (the README's role
table), not read from the policy files: if the policy and the table disagree,
one of them is wrong. Callers of tenant roles belong to tenant A; the data
subject is Anna. Targets: ``own`` = Bo at tenant A, ``other_tenant`` = Carl at
tenant B, ``self`` = Anna at tenant A, ``other_subject`` = Bo at tenant A.

Outcomes: ``ALLOW`` (answered with the target's data), ``HIDDEN`` (as if the
row did not exist: ``NOT_FOUND``, an empty list, absent from an export),
``DENY`` (refused: ``FORBIDDEN``; for a download, refused with 403 or 404).
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType, get_named_type, is_leaf_type

from basics.settings import Settings
from schema.build import build_schema
from tests.fixtures import World
from tests.graphql_client import gql

ALLOW, HIDDEN, DENY = "ALLOW", "HIDDEN", "DENY"
ROLES = (
    "tenant_admin",
    "staff",
    "inspector",
    "partner_accounting",
    "partner_reminders",
    "subject",
    "platform_admin",
    "anonymous",
)
DOORS = ("graphql_read", "graphql_write", "download", "export", "search")
TENANT_RELATIONS = ("own", "other_tenant")
SUBJECT_RELATIONS = ("self", "other_subject", "other_tenant")


def _row(*outcomes: str) -> dict[str, str]:
    return dict(zip(DOORS, outcomes, strict=True))


# role -> relation -> door -> outcome
STAFF_LIKE = {
    "own": _row(ALLOW, ALLOW, ALLOW, ALLOW, ALLOW),
    "other_tenant": _row(HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
}
EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    "tenant_admin": STAFF_LIKE,
    # Staff work with the tenant's customers but answer no access requests.
    "staff": {
        "own": _row(ALLOW, ALLOW, ALLOW, DENY, ALLOW),
        "other_tenant": _row(HIDDEN, HIDDEN, HIDDEN, DENY, HIDDEN),
    },
    # An inspector sees the customer's name, edits no customer, holds no invoice.
    "inspector": {
        "own": _row(ALLOW, DENY, HIDDEN, DENY, ALLOW),
        "other_tenant": _row(HIDDEN, DENY, HIDDEN, DENY, HIDDEN),
    },
    # Accounting reads names and invoices; writes nothing.
    "partner_accounting": {
        "own": _row(ALLOW, DENY, ALLOW, DENY, ALLOW),
        "other_tenant": _row(HIDDEN, DENY, HIDDEN, DENY, HIDDEN),
    },
    # Reminders read names and contact data; never a document.
    "partner_reminders": {
        "own": _row(ALLOW, DENY, DENY, DENY, ALLOW),
        "other_tenant": _row(HIDDEN, DENY, DENY, DENY, HIDDEN),
    },
    # A person sees their own rows, in every tenant, and nobody else's.
    "subject": {
        "self": _row(ALLOW, DENY, ALLOW, ALLOW, ALLOW),
        "other_subject": _row(HIDDEN, DENY, HIDDEN, HIDDEN, HIDDEN),
        "other_tenant": _row(HIDDEN, DENY, HIDDEN, HIDDEN, HIDDEN),
    },
    "platform_admin": {
        "own": _row(DENY, DENY, DENY, DENY, DENY),
        "other_tenant": _row(DENY, DENY, DENY, DENY, DENY),
    },
    "anonymous": {
        "own": _row(DENY, DENY, DENY, DENY, DENY),
        "other_tenant": _row(DENY, DENY, DENY, DENY, DENY),
    },
}
# Introspection: does the role's own schema show Customer.phone (contact data)?
INTROSPECTS_PHONE = {
    "tenant_admin": True,
    "staff": True,
    "inspector": False,
    "partner_accounting": False,
    "partner_reminders": True,
    "subject": True,
    "platform_admin": False,
    "anonymous": False,
}
PEOPLE = {
    "anna": ("a", "Anna Jensen", "Jensen"),
    "bo": ("a", "Bo Nielsen", "Nielsen"),
    "carl": ("b", "Carl Larsen", "Larsen"),
}
TARGET = {"own": "bo", "other_tenant": "carl", "self": "anna", "other_subject": "bo"}


def _token(world: World, role: str) -> str | None:
    if role == "subject":
        return world.subject_tokens["anna"]
    if role == "platform_admin":
        return world.platform_token
    if role == "anonymous":
        return None
    return world.a.api_keys.get(role) or world.a.tokens[role]


def _tenant(world: World, key: str) -> Any:
    return world.a if PEOPLE[key][0] == "a" else world.b


def _graphql_outcome(result: Any, found: bool) -> str:
    if "FORBIDDEN" in result.codes:
        return DENY
    if "NOT_FOUND" in result.codes or not found:
        return HIDDEN
    assert not result.errors, result.body
    return ALLOW


async def _probe(client: httpx.AsyncClient, world: World, role: str, door: str, key: str) -> str:
    token = _token(world, role)
    tenant = _tenant(world, key)
    customer_id = tenant.customers[key]
    name, surname = PEOPLE[key][1], PEOPLE[key][2]
    if door == "graphql_read":
        result = await gql(
            client,
            "query($id: ID!) { customer(id: $id) { name } }",
            {"id": customer_id},
            token=token,
        )
        return _graphql_outcome(result, bool(result.data and result.data.get("customer")))
    if door == "graphql_write":
        result = await gql(
            client,
            "mutation($id: ID!, $name: String!) {"
            " updateCustomer(id: $id, input: {name: $name}) { customer { name } } }",
            {"id": customer_id, "name": name},
            token=token,
        )
        return _graphql_outcome(result, bool(result.data))
    if door == "download":
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.get(
            f"/documents/{tenant.documents[f'{key}-invoice']}", headers=headers
        )
        if response.status_code == 200:
            return ALLOW
        return DENY if response.status_code == 403 else HIDDEN
    if door == "export":
        if role == "subject":
            result = await gql(client, "mutation { exportMyData { content } }", token=token)
            content = result.data["exportMyData"]["content"] if result.data else ""
            return _graphql_outcome(result, name in content)
        result = await gql(
            client,
            "mutation($id: ID!) { exportSubjectData(customerId: $id) { content } }",
            {"id": customer_id},
            token=token,
        )
        return _graphql_outcome(result, bool(result.data and name in str(result.data)))
    result = await gql(
        client,
        "query($s: String!) { customers(search: $s) { edges { node { name } } } }",
        {"s": surname},
        token=token,
    )
    edges = (result.data or {}).get("customers", {}) or {}
    names = [edge["node"]["name"] for edge in edges.get("edges", [])]
    return _graphql_outcome(result, name in names)


@pytest.mark.parametrize("role", ROLES)
async def test_every_door_answers_as_the_table_says(
    client: httpx.AsyncClient, world: World, role: str
) -> None:
    wrong: list[tuple[str, str, object, object]] = []
    for relation, doors in EXPECTED[role].items():
        for door, expected in doors.items():
            got = await _probe(client, world, role, door, TARGET[relation])
            # A download refused outright is a 404, like an id outside the reach.
            refused_download = door == "download" and expected == DENY and got == HIDDEN
            if got != expected and not refused_download:
                wrong.append((relation, door, expected, got))
    query = '{ __type(name: "Customer") { fields { name } } }'
    result = (await gql(client, query, token=_token(world, role))).ok()
    fields = {f["name"] for f in (result["__type"] or {}).get("fields") or ()}
    if ("phone" in fields) is not INTROSPECTS_PHONE[role]:
        wrong.append(("-", "introspection", INTROSPECTS_PHONE[role], sorted(fields)))
    assert not wrong, wrong


# ---------------------------------------------------------------------------
# The crawl: everything a role can reach through every door, against the
# values its row of the table denies it.
# ---------------------------------------------------------------------------

SCHEMA = build_schema(Settings(secret_key="x" * 40))._schema


def _selection(type_name: str, depth: int) -> str:
    named = SCHEMA.type_map[type_name]
    assert isinstance(named, GraphQLObjectType)
    parts = []
    for name, field in named.fields.items():
        if any(arg.type.__class__.__name__ == "GraphQLNonNull" for arg in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(name)
        elif (
            depth > 0
            and isinstance(inner, GraphQLObjectType)
            and not inner.name.endswith("Connection")
        ):
            parts.append(f"{name} {{ {_selection(inner.name, depth - 1)} }}")
    return " ".join(parts) or "__typename"


def _values(world_slug: str, index: int, person: str, email: str) -> dict[str, str]:
    registration = f"{world_slug[:2].upper()}1234{index}"
    return {
        "name": person,
        "email": email,
        "phone": f"+452{index}{len(world_slug):02d}4567"[:11],
        "registration": registration,
        "invoice": f"Faktura {world_slug} {person}: 550,00 kr inkl. moms",
        "report": f"Synsrapport {registration}: Godkendt",
    }


A_PEOPLE = [("Anna Jensen", "anna@example.dk"), ("Bo Nielsen", "bo@example.dk")]
A_VALUES = [_values("alpha-syn", i, *p) for i, p in enumerate(A_PEOPLE)]
CARL = _values("beta-vaerksted", 1, "Carl Larsen", "carl@example.net")
ANNA_AT_B = _values("beta-vaerksted", 0, "Anna Jensen", "anna@example.dk")
INTERNAL_NOTES = "Kunden var flink"


def _denied_values(role: str) -> set[str]:
    """Written from the table's purpose: what this role must never hold."""
    other_tenant = set(CARL.values()) | {ANNA_AT_B["invoice"], ANNA_AT_B["registration"]}
    everything_a = {value for values in A_VALUES for value in values.values()}
    by_kind = {key: {values[key] for values in A_VALUES} for key in A_VALUES[0]}
    if role in ("platform_admin", "anonymous"):
        return everything_a | other_tenant | {INTERNAL_NOTES}
    if role == "subject":
        # Staff notes on the person's own bookings are theirs to see under Art. 15
        # (myData.staffNotes and the export), not as the Booking.internalNotes
        # field; every value of another person stays out of reach.
        bo = A_VALUES[1]
        return set(bo.values()) | set(CARL.values())
    denied = set(other_tenant)
    if role == "inspector":
        denied |= by_kind["invoice"] | by_kind["email"] | by_kind["phone"]
    if role == "partner_accounting":
        denied |= by_kind["registration"] | by_kind["report"] | by_kind["phone"] | {INTERNAL_NOTES}
    if role == "partner_reminders":
        denied |= (
            by_kind["registration"] | by_kind["report"] | by_kind["invoice"] | {INTERNAL_NOTES}
        )
    return denied


async def _crawl(client: httpx.AsyncClient, world: World, role: str) -> list[str]:
    """Every answer the role gets from every door, as text."""
    token = _token(world, role)
    headers = {"x-denial-style": "partial"}
    answers = []
    for root, type_name in (
        ("customers", "Customer"),
        ("vehicles", "Vehicle"),
        ("bookings", "Booking"),
        ("documents", "Document"),
    ):
        query = f"{{ {root}(first: 20) {{ edges {{ node {{ {_selection(type_name, 2)} }} }} }} }}"
        answers.append(str((await gql(client, query, token=token, headers=headers)).body))
    ids = [
        value
        for tenant in (world.a, world.b)
        for group in (tenant.customers, tenant.vehicles, tenant.bookings, tenant.documents)
        for value in group.values()
    ]
    node_query = (
        "query($id: ID!) { node(id: $id) { id "
        + " ".join(
            f"... on {t} {{ {_selection(t, 1)} }}"
            for t in ("Customer", "Vehicle", "Booking", "Document")
        )
        + " } }"
    )
    for global_id in ids:
        query = node_query
        answers.append(
            str((await gql(client, query, {"id": global_id}, token=token, headers=headers)).body)
        )
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    for tenant in (world.a, world.b):
        for document_id in tenant.documents.values():
            response = await client.get(f"/documents/{document_id}", headers=auth)
            answers.append(response.content.decode(errors="replace"))
        for customer_id in tenant.customers.values():
            export = "mutation($id: ID!) { exportSubjectData(customerId: $id) { content } }"
            answers.append(str((await gql(client, export, {"id": customer_id}, token=token)).body))
    answers.append(
        str((await gql(client, "mutation { exportMyData { content } }", token=token)).body)
    )
    for term in ("Jensen", "Nielsen", "Larsen", "AL12341", "+452"):
        search = (
            "query($s: String!) { customers(search: $s) { edges { node { name email phone } } } }"
        )
        answers.append(str((await gql(client, search, {"s": term}, token=token)).body))
    return answers


@pytest.mark.parametrize("role", ROLES)
async def test_crawl_reaches_no_denied_value(
    client: httpx.AsyncClient, world: World, role: str
) -> None:
    answers = "\n".join(await _crawl(client, world, role))
    leaked = [
        value
        for value in sorted(_denied_values(role))
        if value in answers or base64.b64encode(value.encode()).decode() in answers
    ]
    assert not leaked, f"{role} reached {leaked}"
    # The crawl is not empty-handed: every role but the two without data sees something.
    if role not in ("platform_admin", "anonymous"):
        assert "Jensen" in answers or "Nielsen" in answers
