"""Security checks after the OWASP GraphQL cheat sheet, over real HTTP through the app.

Every hostile input gets a clear answer -- ``BAD_USER_INPUT`` naming the field,
``NOT_FOUND``, 400, 401 or 413 -- never a 500, and leaves nothing behind: a case
compares the row count of every table before and after, or reads the stored value
back from the database.

(a) SQL injection in every search, filter, id, cursor and slug argument, and in every
    string input of every mutation: structured inputs are refused, free text is stored
    verbatim as harmless text, and every table keeps its rows.
(b) Oversize strings and bodies.
(c) Odd Unicode: NUL, lone surrogates, overlong UTF-8, bidirectional overrides, and
    names in other scripts or decomposed forms (stored NFC-normalised).
The other items of the cheat sheet have modules of their own: alias, depth,
directive, token, batch and fragment-cycle attacks in ``test_operation_limits`` and
``test_http_surface``; introspection and suggestions in ``test_production``;
cross-site requests in ``test_cross_site``; forged, expired and revoked
credentials in ``test_authentication``; rate limits in ``test_rate_limits``.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from basics.ids import decode_any, encode_id
from basics.settings import Settings
from identity import tokens
from identity.apikeys import create_api_key
from server.app import create_app
from store.engine import create_sessionmaker
from store.models import (
    Base,
    Booking,
    Customer,
    Document,
    PrivacyRequest,
    Service,
    Tenant,
    TenantKind,
    Vehicle,
)
from store.types import new_id
from tests.conftest import Backend
from tests.fixtures import World
from tests.graphql_client import Result

# Bookkeeping of the rate limiter: a refused call still counts, by design.
COUNTER_TABLES = frozenset({"rate_limit_windows"})
# The search index holds one row per character of a customer's name, email and
# phone, so an accepted update to a shorter value rightly has fewer of them.
DERIVED_TABLES = frozenset(
    {"customer_search_name", "customer_search_email", "customer_search_phone"}
)
SAFE_CODES = frozenset({"BAD_USER_INPUT", "NOT_FOUND"})
HOURS = {d: [["07:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# A slot inside the opening hours on the service's grid, well ahead.
SLOT = (datetime.now(UTC) + timedelta(days=90)).replace(hour=8, minute=0, second=0, microsecond=0)
PDF = b"%PDF-1.4\n%%EOF\n"


# --- plumbing ---------------------------------------------------------------------


async def post_json(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> Result:
    """POST a GraphQL request; JSON escapes keep lone surrogates and NUL intact on the wire."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    response = await http.post("/graphql", content=body, headers=headers)
    return Result(response.status_code, response.json())


async def post_upload(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], *, token: str | None
) -> Result:
    """``addDocument`` as a GraphQL multipart request, the file at ``variables.input.file``."""
    operations = {"query": query, "variables": {**variables}}
    operations["variables"]["input"] = {**variables["input"], "file": None}
    response = await http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("rapport.pdf", PDF, "application/pdf")},
        headers={"GraphQL-Require-Preflight": "1"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    return Result(response.status_code, response.json())


async def row_counts(backend: Backend) -> dict[str, int]:
    """Rows per table, in one statement; fails if any table has gone."""
    tables = [
        t for t in Base.metadata.sorted_tables if t.name not in COUNTER_TABLES | DERIVED_TABLES
    ]
    statement = select(
        *(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables)
    )
    async with backend.engine.connect() as connection:
        present = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        row = (await connection.execute(statement)).one()
    assert {t.name for t in Base.metadata.sorted_tables} <= present
    return dict(row._mapping)


def assert_no_table_shrank(before: dict[str, int], after: dict[str, int]) -> None:
    shrunk = {name: (before[name], after[name]) for name in before if after[name] < before[name]}
    assert not shrunk, f"rows disappeared: {shrunk}"


def assert_refused(result: Result, field_name: str, *, codes: frozenset[str] = SAFE_CODES) -> None:
    """A clear client error that names the field, and no data."""
    assert result.status in (200, 400), result.body
    assert result.errors, result.body
    assert "INTERNAL_SERVER_ERROR" not in result.codes, result.body
    assert set(result.codes) <= codes, result.body
    error = result.errors[0]
    named = error.get("extensions", {}).get("field")
    leaf = field_name.rsplit(".", 1)[-1]
    assert named == field_name or leaf in error["message"], (field_name, result.body)
    assert not any((result.data or {}).values()), result.body


def dig(data: Any, path: str) -> Any:
    """``createCustomer.customer.id`` or ``requestRestriction.requests.0.id`` inside data."""
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


# --- a business of this module's own --------------------------------------------


# Six-digit subscriber numbers, one per scene (see ``Scene.phone``).
_PHONE_NUMBERS = itertools.count(100_000)


@dataclass
class Shop:
    slug: str
    tenant_id: str
    service: str
    staff: str
    admin: str
    partner_key: str
    settings: Settings


@pytest.fixture(scope="module")
async def http(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    """The app over HTTP, the rate limits off (the module makes thousands of calls)."""
    settings = backend.settings.model_copy(
        update={"booking_rate_limit": 0, "code_rate_limit": 0, "principal_rate_limit": 0}
    )
    app = create_app(settings, engine=backend.engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture(scope="module")
async def shop(backend: Backend) -> Shop:
    slug = f"security-{uuid.uuid4().hex[:8]}"
    async with create_sessionmaker(backend.engine)() as session, session.begin():
        tenant = Tenant(
            id=new_id(),
            slug=slug,
            name="Sikkerhedssyn",
            kind=TenantKind.INSPECTION_STATION,
            opening_hours=HOURS,
        )
        session.add(tenant)
        await session.flush()
        service = Service(
            id=new_id(),
            tenant_id=tenant.id,
            name="Periodisk syn",
            duration_minutes=30,
            price_ore=55000,
            capacity_per_slot=10_000,
        )
        session.add(service)
        partner = await create_api_key(
            session, tenant=tenant, role="partner_accounting", name="security key"
        )
    settings = backend.settings

    def staff(role: str) -> str:
        return tokens.staff_token(
            settings, subject=f"{role}@{slug}", tenant_id=tenant.id, tenant_slug=slug, role=role
        )

    return Shop(
        slug=slug,
        tenant_id=tenant.id,
        service=encode_id("Service", service.id),
        staff=staff("staff"),
        admin=staff("tenant_admin"),
        partner_key=partner.plaintext,
        settings=settings,
    )


@dataclass
class Scene:
    """Rows a case aims at, made on first use: a customer (with a unique email), their
    vehicle and booking, and a privacy request of theirs."""

    http: httpx.AsyncClient
    shop: Shop
    email: str = field(default_factory=lambda: f"p-{uuid.uuid4().hex[:12]}@example.dk")
    # Counted, not random: online booking matches a returning customer by email
    # or phone, so two scenes sharing a random phone became one customer.
    phone: str = field(default_factory=lambda: f"+4522{next(_PHONE_NUMBERS)}")
    made: dict[str, str] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return tokens.subject_token(self.shop.settings, email=self.email)

    async def _create(self, query: str, variables: dict[str, Any], path: str, token: str) -> str:
        result = await post_json(self.http, query, variables, token=token)
        return str(dig(result.ok(), path))

    async def customer(self) -> str:
        if "customer" not in self.made:
            self.made["customer"] = await self._create(
                CREATE_CUSTOMER,
                {"input": {"name": "Sara Sikker", "email": self.email, "phone": self.phone}},
                "createCustomer.customer.id",
                self.shop.staff,
            )
        return self.made["customer"]

    async def vehicle(self) -> str:
        if "vehicle" not in self.made:
            owner = await self.customer()
            self.made["vehicle"] = await self._create(
                CREATE_VEHICLE,
                {"input": {"ownerId": owner, "registration": "SE12345"}},
                "createVehicle.vehicle.id",
                self.shop.staff,
            )
        return self.made["vehicle"]

    async def booking(self) -> str:
        if "booking" not in self.made:
            values = {
                "customerId": await self.customer(),
                "serviceId": self.shop.service,
                "startsAt": SLOT.isoformat(),
            }
            self.made["booking"] = await self._create(
                CREATE_BOOKING, {"input": values}, "createBooking.booking.id", self.shop.staff
            )
        return self.made["booking"]

    async def request(self) -> str:
        if "request" not in self.made:
            await self.customer()
            self.made["request"] = await self._create(
                REQUEST_RESTRICTION,
                {"reason": "Oplysningerne er forkerte", "slug": None},
                "requestRestriction.requests.0.id",
                self.subject,
            )
        return self.made["request"]

    async def draft(self) -> None:
        """An unfinished online booking in the client's cookie jar."""
        variables = {"slug": self.shop.slug, "service": self.shop.service, "at": SLOT.isoformat()}
        (await post_json(self.http, START_BOOKING, variables)).ok()

    async def fill(self, template: Any, value: str) -> Any:
        """The template with ``<value>`` and the ``<row>`` placeholders filled in."""
        if isinstance(template, dict):
            return {k: await self.fill(v, value) for k, v in template.items()}
        if isinstance(template, list):
            return [await self.fill(v, value) for v in template]
        if not isinstance(template, str) or not template.startswith("<"):
            return template
        rows: dict[str, Callable[[], Any]] = {
            "<customer>": self.customer,
            "<vehicle>": self.vehicle,
            "<booking>": self.booking,
            "<request>": self.request,
        }
        if template in rows:
            return await rows[template]()
        fixed = {
            "<value>": value,
            "<email>": self.email,
            "<phone>": self.phone,
            "<service>": self.shop.service,
            "<slug>": self.shop.slug,
            "<slot>": SLOT.isoformat(),
        }
        return fixed[template]


# --- the operations ---------------------------------------------------------------

CREATE_CUSTOMER = """mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } } }"""
UPDATE_CUSTOMER = """mutation($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(id: $id, input: $input) { customer { id } } }"""
CREATE_VEHICLE = """mutation($input: CreateVehicleInput!) {
  createVehicle(input: $input) { vehicle { id } } }"""
UPDATE_VEHICLE = """mutation($id: ID!, $input: UpdateVehicleInput!) {
  updateVehicle(id: $id, input: $input) { vehicle { id } } }"""
CREATE_BOOKING = """mutation($input: CreateBookingInput!) {
  createBooking(input: $input) { booking { id } } }"""
RESCHEDULE_BOOKING = """mutation($id: ID!, $startsAt: DateTime!) {
  rescheduleBooking(id: $id, startsAt: $startsAt) { booking { id } } }"""
CANCEL_BOOKING = "mutation($id: ID!) { cancelBooking(id: $id) { booking { id } } }"
ADD_DOCUMENT = """mutation($input: AddDocumentInput!) {
  addDocument(input: $input) { document { id } } }"""
RECTIFY_CUSTOMER = """mutation($id: ID!, $input: RectifyCustomerInput!) {
  rectifyCustomer(id: $id, input: $input) { customer { id } changedFields } }"""
RESTRICT = """mutation($id: ID!, $reason: String!) {
  restrictProcessing(customerId: $id, reason: $reason) { customer { id } } }"""
LIFT = "mutation($id: ID!) { liftRestriction(customerId: $id) { customer { id } } }"
ERASE = "mutation($id: ID!) { eraseCustomer(id: $id) { receipt { customerId } } }"
EXPORT_SUBJECT = """mutation($id: ID!) {
  exportSubjectData(customerId: $id) { filename } }"""
EXTEND_REQUEST = """mutation($id: ID!, $reason: String!) {
  extendPrivacyRequest(id: $id, reason: $reason) { request { id } } }"""
RESOLVE_REQUEST = """mutation($id: ID!, $reason: String, $ref: String) {
  resolvePrivacyRequest(id: $id, approve: false, reason: $reason, legalReference: $ref) {
    request { id } } }"""
GRANT = """mutation($role: String!, $field: String!) {
  grantPartnerField(role: $role, field: $field) { policyVersion } }"""
REVOKE = """mutation($role: String!, $field: String!) {
  revokePartnerField(role: $role, field: $field) { policyVersion } }"""
ACKNOWLEDGE = """mutation($ids: [ID!]!) {
  acknowledgeRecipientNotices(ids: $ids) { notices { id } } }"""
REQUEST_LOGIN = """mutation($email: String!) {
  requestSubjectLogin(email: $email) { accepted } }"""
VERIFY_LOGIN = """mutation($email: String!, $code: String!) {
  verifySubjectLogin(email: $email, code: $code) { token } }"""
RECTIFY_MY_DATA = """mutation($input: RectifyMyDataInput!) {
  rectifyMyData(input: $input) { changedFields pendingConfirmation } }"""
CONFIRM_RECTIFICATION = """mutation($code: String!) {
  confirmRectification(code: $code) { changedFields } }"""
EXPORT_MY_DATA = "mutation($slug: String) { exportMyData(tenantSlug: $slug) { filename } }"
REQUEST_ERASURE = """mutation($slug: String) {
  requestErasure(tenantSlug: $slug) { requests { id } } }"""
REQUEST_RESTRICTION = """mutation($reason: String!, $slug: String) {
  requestRestriction(reason: $reason, tenantSlug: $slug) { requests { id } } }"""
OBJECT = """mutation($slug: String) {
  objectToProcessing(purpose: MARKETING, tenantSlug: $slug) { requests { id } } }"""
WITHDRAW = """mutation($slug: String) {
  withdrawObjection(purpose: MARKETING, tenantSlug: $slug) { requests { id } } }"""
START_BOOKING = """mutation($slug: String!, $service: ID!, $at: DateTime!) {
  startBooking(tenantSlug: $slug, serviceId: $service, startsAt: $at) { draft { holdLive } } }"""
COMPLETE_BOOKING = """mutation($input: CompleteBookingInput!) {
  completeBooking(input: $input) { reference } }"""


@dataclass(frozen=True)
class Stored:
    """Where a free-text input lands: ``model.attribute`` of the row found by ``locate``.

    ``locate`` is a path into the mutation's data or a scene placeholder; ``by`` is
    the column it matches (``id`` takes a global id).
    """

    model: type[Base]
    attribute: str
    locate: str
    by: str = "id"


@dataclass(frozen=True)
class Write:
    """One string input of one mutation, and what hostile text there must lead to."""

    field: str
    query: str
    variables: dict[str, Any]
    who: str = "staff"
    stored: Stored | None = None  # free text: stored verbatim; else refused
    upload: bool = False
    draft: bool = False

    @property
    def id(self) -> str:
        operation = self.query.split("{", 2)[1].split("(", 1)[0].strip()
        return f"{operation}:{self.field}"


V = "<value>"
CUSTOMER = {"name": "Sara Sikker", "email": "<email>", "phone": "<phone>"}
BOOKING = {"customerId": "<customer>", "serviceId": "<service>", "startsAt": "<slot>"}
DOCUMENT = {"kind": "INSPECTION_REPORT", "title": "Synsrapport", "bookingId": "<booking>"}
ONLINE = {"name": "Ole Online", "email": "<email>", "phone": "<phone>"}


def customer_fields(
    query: str, base: dict[str, Any], locate: str, *, who: str = "staff", **variables: Any
) -> list[Write]:
    """The customer fields of an input: name and address stored as text, the rest refused."""
    texts = [
        Write(
            f"input.{name}",
            query,
            {**variables, "input": {**base, name: V}},
            who,
            stored=Stored(Customer, name, locate),
        )
        for name in ("name", "street", "city")
    ]
    structured = [
        Write(f"input.{name}", query, {**variables, "input": {**base, name: V}}, who)
        for name in ("email", "phone", "postalCode")
    ]
    return texts + structured


WRITES: list[Write] = [
    # staff: customers, vehicles, bookings, documents
    *customer_fields(CREATE_CUSTOMER, CUSTOMER, "createCustomer.customer.id"),
    Write("id", UPDATE_CUSTOMER, {"id": V, "input": {"name": "Sara"}}),
    *customer_fields(UPDATE_CUSTOMER, {}, "<customer>", id="<customer>"),
    Write("input.ownerId", CREATE_VEHICLE, {"input": {"ownerId": V, "registration": "SE12345"}}),
    Write("input.registration", CREATE_VEHICLE, {"input": {"registration": V}}),
    Write("input.vin", CREATE_VEHICLE, {"input": {"vin": V}}),
    *(
        Write(
            f"input.{name}",
            CREATE_VEHICLE,
            {"input": {"registration": "SE12345", name: V}},
            stored=Stored(Vehicle, name, "createVehicle.vehicle.id"),
        )
        for name in ("make", "model")
    ),
    Write("id", UPDATE_VEHICLE, {"id": V, "input": {"make": "VW"}}),
    *(
        Write(f"input.{name}", UPDATE_VEHICLE, {"id": "<vehicle>", "input": {name: V}})
        for name in ("ownerId", "registration", "vin")
    ),
    *(
        Write(
            f"input.{name}",
            UPDATE_VEHICLE,
            {"id": "<vehicle>", "input": {name: V}},
            stored=Stored(Vehicle, name, "<vehicle>"),
        )
        for name in ("make", "model")
    ),
    *(
        Write(f"input.{name}", CREATE_BOOKING, {"input": {**BOOKING, name: V}})
        for name in ("customerId", "serviceId", "vehicleId")
    ),
    Write(
        "input.customerNotes",
        CREATE_BOOKING,
        {"input": {**BOOKING, "customerNotes": V}},
        stored=Stored(Booking, "customer_notes", "createBooking.booking.id"),
    ),
    Write(
        "input.internalNotes",
        CREATE_BOOKING,
        {"input": {**BOOKING, "internalNotes": V}},
        stored=Stored(Booking, "internal_notes", "createBooking.booking.id"),
    ),
    Write("id", RESCHEDULE_BOOKING, {"id": V, "startsAt": "<slot>"}),
    Write("startsAt", RESCHEDULE_BOOKING, {"id": "<booking>", "startsAt": V}),
    Write("id", CANCEL_BOOKING, {"id": V}),
    Write(
        "input.title",
        ADD_DOCUMENT,
        {"input": {**DOCUMENT, "title": V}},
        stored=Stored(Document, "title", "addDocument.document.id"),
        upload=True,
    ),
    Write("input.bookingId", ADD_DOCUMENT, {"input": {**DOCUMENT, "bookingId": V}}, upload=True),
    Write(
        "input.customerId",
        ADD_DOCUMENT,
        {"input": {**DOCUMENT, "bookingId": None, "customerId": V}},
        upload=True,
    ),
    # staff and tenant_admin: privacy operations on the person's behalf
    Write("id", RECTIFY_CUSTOMER, {"id": V, "input": {"name": "Sara"}}),
    *customer_fields(RECTIFY_CUSTOMER, {}, "<customer>", id="<customer>"),
    Write("customerId", RESTRICT, {"id": V, "reason": "Art. 18(1)(a)"}, "tenant_admin"),
    Write(
        "reason",
        RESTRICT,
        {"id": "<customer>", "reason": V},
        "tenant_admin",
        stored=Stored(Customer, "restriction_reason", "<customer>"),
    ),
    Write("customerId", LIFT, {"id": V}, "tenant_admin"),
    Write("id", ERASE, {"id": V}, "tenant_admin"),
    Write("customerId", EXPORT_SUBJECT, {"id": V}, "tenant_admin"),
    Write("id", EXTEND_REQUEST, {"id": V, "reason": "Mange sager"}, "tenant_admin"),
    Write(
        "reason",
        EXTEND_REQUEST,
        {"id": "<request>", "reason": V},
        "tenant_admin",
        stored=Stored(PrivacyRequest, "extension_reason", "<request>"),
    ),
    Write("id", RESOLVE_REQUEST, {"id": V, "reason": "Nej", "ref": "Art. 12(5)"}, "tenant_admin"),
    Write(
        "reason",
        RESOLVE_REQUEST,
        {"id": "<request>", "reason": V, "ref": "Art. 12(5)"},
        "tenant_admin",
        stored=Stored(PrivacyRequest, "rejection_reason", "<request>"),
    ),
    Write(
        "legalReference",
        RESOLVE_REQUEST,
        {"id": "<request>", "reason": "Nej", "ref": V},
        "tenant_admin",
        stored=Stored(PrivacyRequest, "legal_reference", "<request>"),
    ),
    Write("role", GRANT, {"role": V, "field": "Customer.street"}, "tenant_admin"),
    Write("field", GRANT, {"role": "partner_accounting", "field": V}, "tenant_admin"),
    Write("role", REVOKE, {"role": V, "field": "Customer.street"}, "tenant_admin"),
    Write("field", REVOKE, {"role": "partner_accounting", "field": V}, "tenant_admin"),
    Write("ids", ACKNOWLEDGE, {"ids": [V]}, "partner"),
    # anonymous: signing in
    Write("email", REQUEST_LOGIN, {"email": V}, "anonymous"),
    Write("email", VERIFY_LOGIN, {"email": V, "code": "123456"}, "anonymous"),
    Write("code", VERIFY_LOGIN, {"email": "<email>", "code": V}, "anonymous"),
    # data subject: their own rights
    *customer_fields(RECTIFY_MY_DATA, {}, "<customer>", who="subject"),
    Write(
        "input.tenantSlug", RECTIFY_MY_DATA, {"input": {"name": "S", "tenantSlug": V}}, "subject"
    ),
    Write("code", CONFIRM_RECTIFICATION, {"code": V}, "subject"),
    Write("tenantSlug", EXPORT_MY_DATA, {"slug": V}, "subject"),
    Write("tenantSlug", REQUEST_ERASURE, {"slug": V}, "subject"),
    Write("tenantSlug", REQUEST_RESTRICTION, {"reason": "Forkert", "slug": V}, "subject"),
    Write(
        "reason",
        REQUEST_RESTRICTION,
        {"reason": V, "slug": "<slug>"},
        "subject",
        stored=Stored(PrivacyRequest, "parameters.reason", "requestRestriction.requests.0.id"),
    ),
    Write("tenantSlug", OBJECT, {"slug": V}, "subject"),
    Write("tenantSlug", WITHDRAW, {"slug": V}, "subject"),
    # anonymous: booking online
    Write(
        "tenantSlug",
        START_BOOKING,
        {"slug": V, "service": "<service>", "at": "<slot>"},
        "anonymous",
    ),
    Write(
        "serviceId", START_BOOKING, {"slug": "<slug>", "service": V, "at": "<slot>"}, "anonymous"
    ),
    Write(
        "input.name",
        COMPLETE_BOOKING,
        {"input": {**ONLINE, "name": V}},
        "anonymous",
        stored=Stored(Customer, "name", "<email>", by="email"),
        draft=True,
    ),
    Write(
        "input.customerNotes",
        COMPLETE_BOOKING,
        {"input": {**ONLINE, "customerNotes": V}},
        "anonymous",
        stored=Stored(Booking, "customer_notes", "completeBooking.reference", by="reference"),
        draft=True,
    ),
    *(
        Write(
            f"input.{name}",
            COMPLETE_BOOKING,
            {"input": {**ONLINE, name: V}},
            "anonymous",
            draft=True,
        )
        for name in ("email", "phone", "registration", "vin", "tenantSlug")
    ),
]

# What an attacker types into a text box. None of it may reach SQL as code.
INJECTIONS = {
    "or-1=1": "' OR 1=1 --",
    "drop-table": '"; DROP TABLE customers; --',
    "union": "%' UNION SELECT id, email, phone FROM customers --",
    "stacked-delete": "1; DELETE FROM bookings WHERE '1'='1",
    "backslash-quote": "\\'; DROP TABLE bookings; --",
    "escaped-nul-text": "\\x00\\u0000",
    "like-wildcards": "%_%",
    "sleep": "'||pg_sleep(5)||'",
}
# Text no field may hold: it cannot be stored faithfully or displays as something else.
HOSTILE_TEXT = {
    "nul": "Sara\x00Sikker",
    "lone-high-surrogate": "Sara\ud800",
    "lone-low-surrogate": "\udfffSara",
    "right-to-left-override": "Sara\u202ekkiS",
}


@dataclass
class Attempt:
    result: Result
    scene: Scene
    before: dict[str, int]
    after: dict[str, int]


async def attempt(
    http: httpx.AsyncClient, shop: Shop, backend: Backend, case: Write, value: str
) -> Attempt:
    scene = Scene(http, shop)
    variables = await scene.fill(case.variables, value)
    credentials = {
        "staff": shop.staff,
        "tenant_admin": shop.admin,
        "partner": shop.partner_key,
        "anonymous": None,
    }
    if case.who == "subject":
        await scene.customer()
        token: str | None = scene.subject
    else:
        token = credentials[case.who]
    if case.draft:
        await scene.draft()
    before = await row_counts(backend)
    send = post_upload if case.upload else post_json
    result = await send(http, case.query, variables, token=token)
    return Attempt(result, scene, before, await row_counts(backend))


async def stored_value(backend: Backend, shop: Shop, case: Write, done: Attempt) -> Any:
    assert case.stored is not None
    stored = case.stored
    if stored.locate.startswith("<"):
        locator = await done.scene.fill(stored.locate, "")
    else:
        locator = dig(done.result.data, stored.locate)
    if stored.by == "id":
        locator = decode_any("id", locator)[1]
    attribute, _, key = stored.attribute.partition(".")
    model: Any = stored.model
    statement = select(getattr(model, attribute)).where(
        getattr(model, stored.by) == locator, model.tenant_id == shop.tenant_id
    )
    async with AsyncSession(backend.engine) as session:
        value = (await session.execute(statement)).scalar_one()
    return value[key] if key else value


@pytest.mark.parametrize("value", INJECTIONS.values(), ids=INJECTIONS.keys())
@pytest.mark.parametrize("case", WRITES, ids=lambda case: case.id)
async def test_injection_in_mutation_inputs(
    http: httpx.AsyncClient, shop: Shop, backend: Backend, case: Write, value: str
) -> None:
    """Structured inputs refuse SQL; free text keeps it verbatim as harmless text."""
    done = await attempt(http, shop, backend, case, value)
    if case.stored is None:
        assert_refused(done.result, case.field)
        assert done.after == done.before
        return
    done.result.ok()
    assert await stored_value(backend, shop, case, done) == value
    assert_no_table_shrank(done.before, done.after)


@pytest.mark.parametrize("value_name", HOSTILE_TEXT)
@pytest.mark.parametrize("case", WRITES, ids=lambda case: case.id)
async def test_unstorable_text_in_mutation_inputs(
    http: httpx.AsyncClient,
    shop: Shop,
    backend: Backend,
    case: Write,
    value_name: str,
) -> None:
    """NUL, lone surrogates and bidi overrides: refused in every input, free text too."""
    done = await attempt(http, shop, backend, case, HOSTILE_TEXT[value_name])
    assert_refused(done.result, case.field)
    assert done.after == done.before


@pytest.mark.parametrize("case", WRITES, ids=lambda case: case.id)
async def test_oversize_text_in_mutation_inputs(
    http: httpx.AsyncClient, shop: Shop, backend: Backend, case: Write
) -> None:
    """(b) Far longer than any field: refused by name, whatever the field."""
    done = await attempt(http, shop, backend, case, "Å" * 20_000)
    assert_refused(done.result, case.field)
    assert done.after == done.before


async def test_oversize_body_is_refused_before_parsing(http: httpx.AsyncClient, shop: Shop) -> None:
    """(b) A body over the limit is a 413, not a parse of megabytes."""
    query = "query($s: String) { customers(search: $s) { totalCount } }"
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": {"s": "x" * 3_000_000}},
        headers={"Authorization": f"Bearer {shop.staff}"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xc0\xaf", id="overlong slash"),
        pytest.param(b"\xe0\x80\xaf", id="overlong three bytes"),
        pytest.param(b"\xed\xa0\x80", id="encoded surrogate"),
        pytest.param(b"\xff\xfe", id="not UTF-8"),
    ],
)
async def test_malformed_utf8_bodies_are_client_errors(
    http: httpx.AsyncClient, shop: Shop, backend: Backend, raw: bytes
) -> None:
    """(c) Bytes that are not valid UTF-8 never reach a resolver."""
    before = await row_counts(backend)
    body = (
        b'{"query": "mutation { createCustomer(input: {name: \\"'
        + raw
        + b'\\", email: \\"u@example.com\\"}) { customer { id } } }"}'
    )
    response = await http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {shop.staff}", "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert await row_counts(backend) == before


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        pytest.param("A\u030ase Jo\u0308rgensen", "Åse Jörgensen", id="decomposed"),
        pytest.param("Ольга Петрова", "Ольга Петрова", id="cyrillic"),
        pytest.param("Αλέξης Παπαδόπουλος", "Αλέξης Παπαδόπουλος", id="greek"),
        pytest.param("محمد علي", "محمد علي", id="arabic"),
        pytest.param("Zoë Ωmega-Jensen", "Zoë Ωmega-Jensen", id="mixed scripts"),
    ],
)
async def test_names_in_any_script_are_kept_normalised(
    http: httpx.AsyncClient, shop: Shop, backend: Backend, given: str, kept: str
) -> None:
    """(c) Real names in other scripts are stored, in NFC, and found again."""
    case = WRITES[0]
    assert case.field == "input.name" and case.stored is not None
    done = await attempt(http, shop, backend, case, given)
    done.result.ok()
    assert await stored_value(backend, shop, case, done) == kept


# --- (a), (c) query arguments ------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """One argument of a query, read as a caller of the shared two-tenant world."""

    field: str
    query: str
    who: str = "staff"
    empty: str | None = None  # if the query answers, this path must be empty

    @property
    def id(self) -> str:
        root = self.query.split("{", 1)[1].split("(", 1)[0].strip()
        return f"{root}:{self.field}"


WINDOW = 'from: "2030-01-07T00:00:00+00:00", to: "2030-01-08T00:00:00+00:00"'
READS: list[Read] = [
    Read(
        "search",
        "query($search: String) { customers(search: $search) { totalCount } }",
        empty="customers.totalCount",
    ),
    Read(
        "search",
        "query($search: String) { vehicles(search: $search) { totalCount } }",
        empty="vehicles.totalCount",
    ),
    *(
        Read("after", f"query($after: String) {{ {root}(after: $after) {{ totalCount }} }}", who)
        for root, who in (
            ("customers", "staff"),
            ("vehicles", "staff"),
            ("bookings", "staff"),
            ("documents", "staff"),
            ("privacyRequests", "tenant_admin"),
            ("auditEvents", "tenant_admin"),
        )
    ),
    *(
        Read(
            f"filter.{name}",
            f"query($v: ID) {{ bookings(filter: {{{name}: $v}}) {{ totalCount }} }}",
        )
        for name in ("customerId", "vehicleId")
    ),
    Read(
        "status",
        "query($status: BookingStatus!) { bookings(filter: {status: [$status]}) { totalCount } }",
    ),
    Read(
        "startsFrom",
        "query($startsFrom: DateTime) { bookings(filter: {startsFrom: $startsFrom}) { totalCount } }",
    ),
    Read("kind", "query($kind: DocumentKind) { documents(kind: $kind) { totalCount } }"),
    Read(
        "filter.entityId",
        "query($v: ID) { auditEvents(filter: {entityId: $v}) { totalCount } }",
        "tenant_admin",
    ),
    *(
        Read(
            f"filter.{name}",
            f"query($v: String) {{ auditEvents(filter: {{{name}: $v}}) {{ totalCount }} }}",
            "tenant_admin",
            empty="auditEvents.totalCount",
        )
        for name in ("entityType", "action")
    ),
    Read("slug", "query($slug: String!) { tenant(slug: $slug) { name } }", "anonymous"),
    *(
        Read("id", f"query($id: ID!) {{ {root}(id: $id) {{ id }} }}")
        for root in ("node", "customer", "vehicle", "booking", "document")
    ),
    Read(
        "customerId",
        "query($id: ID!) { previewErasure(customerId: $id) { customerId } }",
        "tenant_admin",
    ),
    Read(
        "tenantSlug",
        f"query($tenantSlug: String!, $s: ID!) {{ availableSlots(tenantSlug: $tenantSlug, serviceId: $s, {WINDOW}) {{ remaining }} }}",
        "anonymous",
    ),
    Read(
        "serviceId",
        f'query($serviceId: ID!) {{ availableSlots(tenantSlug: "alpha-syn", serviceId: $serviceId, {WINDOW}) {{ remaining }} }}',
        "anonymous",
    ),
    Read(
        "tenantSlug",
        "query($tenantSlug: String) { myData(tenantSlug: $tenantSlug) { email } }",
        "subject",
    ),
    Read(
        "tenantSlug",
        "query($tenantSlug: String) { resumeBooking(tenantSlug: $tenantSlug) { startsAt } }",
        "anonymous",
        empty="resumeBooking",
    ),
]


def read_variables(case: Read, value: str, world: World) -> dict[str, Any]:
    """Every variable the query declares gets the hostile value, except the service."""
    names = [
        part.split(":")[0].strip()
        for part in case.query.split("(", 1)[1].split(")")[0].split("$")[1:]
    ]
    return {name: world.a.services["main"] if name == "s" else value for name in names}


def world_credentials(world: World, who: str) -> str | None:
    return {
        "staff": world.a.tokens["staff"],
        "tenant_admin": world.a.tokens["tenant_admin"],
        "subject": world.subject_tokens["anna"],
        "anonymous": None,
    }[who]


async def run_read(
    http: httpx.AsyncClient, backend: Backend, world: World, case: Read, value: str
) -> None:
    before = await row_counts(backend)
    token = world_credentials(world, case.who)
    result = await post_json(http, case.query, read_variables(case, value, world), token=token)
    if result.errors or case.empty is None:
        assert_refused(result, case.field)
    else:
        assert not dig(result.data, case.empty), result.body
    assert await row_counts(backend) == before


@pytest.mark.parametrize("value", INJECTIONS.values(), ids=INJECTIONS.keys())
@pytest.mark.parametrize("case", READS, ids=lambda case: case.id)
async def test_injection_in_query_arguments(
    http: httpx.AsyncClient,
    backend: Backend,
    world: World,
    case: Read,
    value: str,
) -> None:
    """Refused, or an empty answer: no injected condition widens what is read."""
    await run_read(http, backend, world, case, value)


@pytest.mark.parametrize("value_name", HOSTILE_TEXT)
@pytest.mark.parametrize("case", READS, ids=lambda case: case.id)
async def test_unstorable_text_in_query_arguments(
    http: httpx.AsyncClient,
    backend: Backend,
    world: World,
    case: Read,
    value_name: str,
) -> None:
    await run_read(http, backend, world, case, HOSTILE_TEXT[value_name])


def cursor(value: Any, key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, key]).encode()).decode().rstrip("=")


# Cursors are opaque to clients, but a client can forge one.
FORGED_CURSORS = {
    "number for a name": ("customers", cursor(5, "x")),
    "number for a plate": ("vehicles", cursor(7, "x")),
    "NUL in the name": ("customers", cursor("a\x00", "x")),
    "NUL in the key": ("customers", cursor("a", "x\x00")),
    "lone surrogate": ("customers", cursor("\ud800", "x")),
    "injection in the key": ("bookings", cursor("2030-01-01T00:00:00+00:00", "' OR 1=1 --")),
    "naive time": ("bookings", cursor("2030-01-01T00:00:00", "x")),
    "number for a time": ("bookings", cursor(5, "x")),
    "nested list": ("customers", cursor([["x"]], "x")),
    "not JSON": ("customers", base64.urlsafe_b64encode(b"{'a'").decode()),
    "not base64": ("customers", "%%%"),
}


@pytest.mark.parametrize("name", FORGED_CURSORS)
async def test_forged_cursors_are_refused(
    http: httpx.AsyncClient,
    backend: Backend,
    world: World,
    name: str,
) -> None:
    root, after = FORGED_CURSORS[name]
    query = f"query($after: String) {{ {root}(after: $after) {{ totalCount edges {{ cursor }} }} }}"
    result = await post_json(http, query, {"after": after}, token=world.a.tokens["staff"])
    assert_refused(result, "after")


async def test_search_treats_wildcards_and_quotes_as_text(
    http: httpx.AsyncClient, world: World
) -> None:
    """A sanity check of the matrices above: search works, and only literally."""
    staff = world.a.tokens["staff"]
    query = "query($s: String) { customers(search: $s) { totalCount } }"
    found = await post_json(http, query, {"s": "Anna"}, token=staff)
    assert found.ok()["customers"]["totalCount"] == 1
    for term in ("%", "_", "%%", "' OR ''='", "Anna' --"):
        result = await post_json(http, query, {"s": term}, token=staff)
        assert result.ok()["customers"]["totalCount"] == 0, term
