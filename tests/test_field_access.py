"""Every role x every field x relation, over HTTP, against an expectation table
written here independently of the policy file.

For each role and each field of each personal type, one request selects that
single field on a row of the caller's own tenant (or, for a data subject, their
own row), and one on a row it has no relation to (another tenant's, another
person's). Allowed: the value comes back, the unrelated row is NOT_FOUND.
Denied: the operation is refused with FORBIDDEN naming the field.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.fixtures import World
from tests.graphql_client import gql

FIELDS: dict[str, list[str]] = {
    "Customer": [
        "id",
        "name",
        "email",
        "phone",
        "street",
        "postalCode",
        "city",
        "createdVia",
        "createdAt",
        "updatedAt",
        "tenant",
        "vehicles",
        "bookings",
        "documents",
    ],
    "Vehicle": [
        "id",
        "registration",
        "vin",
        "make",
        "model",
        "firstRegistrationDate",
        "tenant",
        "owner",
        "bookings",
    ],
    "Booking": [
        "id",
        "reference",
        "status",
        "startsAt",
        "endsAt",
        "customerNotes",
        "internalNotes",
        "priceOre",
        "channel",
        "createdAt",
        "tenant",
        "customer",
        "vehicle",
        "service",
        "documents",
    ],
    "Document": [
        "id",
        "kind",
        "title",
        "issuedAt",
        "mimeType",
        "sizeBytes",
        "sha256",
        "retainUntil",
        "downloadUrl",
        "content",
        "tenant",
        "booking",
        "customer",
    ],
}
ALL = {t: set(f) for t, f in FIELDS.items()}
NONE: dict[str, set[str]] = {t: set() for t in FIELDS}

# What each role may read on rows it relates to (the README's role table).
EXPECTED: dict[str, dict[str, set[str]]] = {
    "tenant_admin": ALL,
    "staff": ALL,
    "inspector": {
        "Customer": {"id", "name", "tenant", "vehicles", "bookings", "documents"},
        "Vehicle": ALL["Vehicle"],
        "Booking": ALL["Booking"],
        "Document": ALL["Document"],
    },
    "partner_accounting": {
        "Customer": {"id", "name", "email", "tenant", "bookings", "documents"},
        "Vehicle": set(),
        "Booking": {"id", "reference", "priceOre", "tenant", "customer", "service", "documents"},
        "Document": ALL["Document"],
    },
    "partner_reminders": {
        "Customer": {"id", "name", "phone", "email", "tenant", "bookings"},
        "Vehicle": set(),
        "Booking": {
            "id",
            "reference",
            "status",
            "startsAt",
            "endsAt",
            "tenant",
            "service",
            "customer",
        },
        "Document": set(),
    },
    "subject": {**ALL, "Booking": ALL["Booking"] - {"internalNotes"}},
    "platform_admin": NONE,
    "anonymous": NONE,
}
OBJECT_FIELDS = {
    "tenant",
    "owner",
    "customer",
    "vehicle",
    "service",
    "booking",
    "vehicles",
    "bookings",
    "documents",
}
ROOT = {"Customer": "customer", "Vehicle": "vehicle", "Booking": "booking", "Document": "document"}


def _credential(world: World, role: str) -> str | None:
    if role in ("tenant_admin", "staff", "inspector"):
        return world.a.tokens[role]
    if role.startswith("partner_"):
        return world.a.api_keys[role]
    if role == "subject":
        return world.subject_tokens["anna"]
    if role == "platform_admin":
        return world.platform_token
    return None


def _rows(world: World, role: str, type_name: str) -> tuple[str, str]:
    """(a row the caller relates to, a row it does not)."""
    document = "invoice" if role == "partner_accounting" else "report"
    own_key = {
        "Customer": "anna",
        "Vehicle": "anna",
        "Booking": "anna-past",
        "Document": f"anna-{document}",
    }
    other_key = {
        "Customer": "bo",
        "Vehicle": "bo",
        "Booking": "bo-past",
        "Document": f"bo-{document}",
    }
    collection = {
        "Customer": "customers",
        "Vehicle": "vehicles",
        "Booking": "bookings",
        "Document": "documents",
    }[type_name]
    own = getattr(world.a, collection)[own_key[type_name]]
    if role == "subject":
        # Bo is another person at the same tenant: no relation to Anna.
        return own, getattr(world.a, collection)[other_key[type_name]]
    other_tenant_key = {
        "Customer": "carl",
        "Vehicle": "carl",
        "Booking": "carl-past",
        "Document": f"carl-{document}",
    }
    return own, getattr(world.b, collection)[other_tenant_key[type_name]]


CASES = [
    (role, type_name, field)
    for role in EXPECTED
    for type_name, fields in FIELDS.items()
    for field in fields
]


@pytest.mark.parametrize(("role", "type_name", "field"), CASES)
async def test_field_access_matrix(
    client: httpx.AsyncClient, world: World, role: str, type_name: str, field: str
) -> None:
    selection = f"{field} {{ __typename }}" if field in OBJECT_FIELDS else field
    query = f"query($id: ID!) {{ {ROOT[type_name]}(id: $id) {{ {selection} }} }}"
    own, unrelated = _rows(world, role, type_name)
    token = _credential(world, role)
    allowed = field in EXPECTED[role][type_name]

    mine = await gql(client, query, {"id": own}, token=token)
    if not allowed:
        assert mine.data is None and mine.codes == ["FORBIDDEN"], mine.body
        assert f"{type_name}.{field}" in mine.errors[0]["extensions"]["deniedFields"]
        return
    assert mine.errors == [], mine.body
    value = mine.data[ROOT[type_name]][field]
    assert value is not None or field in {
        "street",
        "postalCode",
        "city",
        "retainUntil",
        "customerNotes",
        "internalNotes",
    }, mine.body

    theirs = await gql(client, query, {"id": unrelated}, token=token)
    assert theirs.data == {ROOT[type_name]: None} and theirs.codes == ["NOT_FOUND"], theirs.body


async def test_partial_style_nulls_only_denied_fields(
    client: httpx.AsyncClient, world: World
) -> None:
    query = "query($id: ID!) { booking(id: $id) { startsAt mine: priceOre customer { name city } documents { id } } }"
    result = await gql(
        client,
        query,
        {"id": world.a.bookings["anna-past"]},
        token=world.a.api_keys["partner_reminders_partial"],
    )
    booking = result.data["booking"]
    assert booking["startsAt"] and booking["customer"]["name"] == "Anna Jensen"
    assert (
        booking["mine"] is None
        and booking["customer"]["city"] is None
        and booking["documents"] is None
    )
    denied = sorted((tuple(e["path"]), e["extensions"]["code"]) for e in result.errors)
    assert denied == [
        (("booking", "customer", "city"), "FORBIDDEN"),
        (("booking", "documents"), "FORBIDDEN"),
        (("booking", "mine"), "FORBIDDEN"),
    ]


async def test_partial_style_by_header_for_token_callers(
    client: httpx.AsyncClient, world: World
) -> None:
    query = "query($id: ID!) { customer(id: $id) { name email } }"
    result = await gql(
        client,
        query,
        {"id": world.a.customers["anna"]},
        token=world.a.tokens["inspector"],
        headers={"X-Denial-Style": "partial"},
    )
    assert result.data == {"customer": {"name": "Anna Jensen", "email": None}}
    assert [(e["path"], e["extensions"]["code"]) for e in result.errors] == [
        (["customer", "email"], "FORBIDDEN")
    ]


async def test_partial_style_never_writes_partially(
    client: httpx.AsyncClient, world: World
) -> None:
    mutation = 'mutation { createCustomer(input: {name: "Partial Writer", email: "pw@example.com"}) { customer { id } } }'
    result = await gql(
        client, mutation, token=world.a.tokens["inspector"], headers={"X-Denial-Style": "partial"}
    )
    assert result.data is None and result.codes == ["FORBIDDEN"]
    found = await gql(
        client,
        '{ customers(search: "Partial Writer") { totalCount } }',
        token=world.a.tokens["staff"],
    )
    assert found.ok()["customers"]["totalCount"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "query($id: ID!) { customer(id: $id) { ...F } } fragment F on Customer { name hidden: email }",
        "query($id: ID!) { customer(id: $id) { ... on Customer { name hidden: email } } }",
        "query($id: ID!) { node(id: $id) { ... on Customer { hidden: email } } }",
        "query($id: ID!) { customer(id: $id) { ...A } } fragment A on Customer { ...B } fragment B on Customer { hidden: email }",
    ],
)
async def test_aliases_hidden_in_fragments_are_found(
    client: httpx.AsyncClient, world: World, query: str
) -> None:
    result = await gql(
        client, query, {"id": world.a.customers["anna"]}, token=world.a.tokens["inspector"]
    )
    assert result.data is None and result.codes == ["FORBIDDEN"]
    assert result.errors[0]["extensions"]["deniedFields"] == ["Customer.email"]
    assert result.errors[0]["extensions"]["deniedPaths"][0].endswith("hidden")


async def test_reject_lists_every_denied_path(client: httpx.AsyncClient, world: World) -> None:
    query = "{ bookings(first: 2) { edges { node { startsAt notes: internalNotes vehicle { vin } customer { name street } } } } }"
    result = await gql(client, query, token=world.a.api_keys["partner_reminders"])
    assert result.data is None and result.codes == ["FORBIDDEN"]
    assert result.errors[0]["extensions"]["deniedPaths"] == [
        "bookings.edges.node.notes",
        "bookings.edges.node.vehicle",
        "bookings.edges.node.vehicle.vin",
        "bookings.edges.node.customer.street",
    ]


async def test_async_resolved_fields_are_guarded_too(
    client: httpx.AsyncClient, world: World
) -> None:
    """Relations resolve through awaitables; a denial there must still hold in both styles."""
    query = "query($id: ID!) { customer(id: $id) { name documents { id } vehicles { id } } }"
    for key in ("partner_reminders", "partner_reminders_partial"):
        result = await gql(
            client, query, {"id": world.a.customers["anna"]}, token=world.a.api_keys[key]
        )
        assert "FORBIDDEN" in result.codes
        if result.data is not None:
            assert (
                result.data["customer"]["documents"] is None
                and result.data["customer"]["vehicles"] is None
            )


async def test_field_guard_hides_rows_a_broken_scope_would_leak(
    world: World, backend: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Defence in depth: even if a loader's scope were wrong, a foreign row is not shown."""
    from sqlalchemy import true

    from authz.decisions import Authorizer
    from basics.principal import Principal, PrincipalKind
    from resolvers.context import RequestContext
    from resolvers.loaders import Loaders
    from schema.build import build_schema
    from store.engine import SerialReader, create_sessionmaker

    class LeakyLoaders(Loaders):
        def scope(self, model):  # type: ignore[no-untyped-def]
            return true()  # the bug under test: no row scope at all

    sessions = create_sessionmaker(backend.engine)  # type: ignore[attr-defined]
    principal = Principal(
        kind=PrincipalKind.STAFF,
        subject="s",
        roles=frozenset({"staff"}),
        tenant_id=world.a.id,
        tenant_slug=world.a.slug,
    )
    authorizer = Authorizer()
    context = RequestContext(
        request=None,
        response=None,
        principal=principal,
        settings=world.settings,
        sessions=sessions,
        session=SerialReader(sessions()),
        decisions=authorizer.decisions(principal.roles, principal.tenant_id),
        authorizer=authorizer,
    )
    context.loaders = LeakyLoaders(context.session, principal)
    schema = build_schema(world.settings)
    with caplog.at_level(logging.WARNING, logger="tenantgraph.security"):
        result = await schema.execute(
            "query($id: ID!) { customer(id: $id) { name email } }",
            variable_values={"id": world.b.customers["carl"]},
            context_value=context,
        )
    assert result.data == {"customer": None}
    assert result.errors and all(e.extensions["code"] == "FORBIDDEN" for e in result.errors)
    assert "Carl" not in str(result.data)
    assert any("outside the caller's scope" in r.getMessage() for r in caplog.records)
