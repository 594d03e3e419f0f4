"""Creating and updating customers and their vehicles."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from audit.trail import record_write
from authz.kernel import require_writer, row_in_reach
from basics.errors import BadUserInput, Conflict
from basics.ids import decode_id
from resolvers import validation
from resolvers.context import RequestContext
from store.engine import write_transaction
from store.models import CreatedVia, Customer, Vehicle
from store.types import utcnow

STAFF_CREATION_CHANNELS = (CreatedVia.PHONE, CreatedVia.STAFF)


def customer_fields(values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Validate the customer fields present in ``values`` into column values."""
    out: dict[str, Any] = {}
    if "name" in values:
        if values["name"] is None:
            raise BadUserInput(f"{prefix}.name", "must not be null")
        out["name"] = validation.text(f"{prefix}.name", values["name"], max_length=200)
    if "email" in values:
        out["email"] = (
            None
            if values["email"] is None
            else validation.email(f"{prefix}.email", values["email"])
        )
    if "phone" in values:
        out["phone"] = (
            None
            if values["phone"] is None
            else validation.phone(f"{prefix}.phone", values["phone"])
        )
    if "street" in values:
        out["street"] = validation.optional_text(
            f"{prefix}.street", values["street"], max_length=200
        )
    if "postal_code" in values:
        out["postal_code"] = validation.postal_code(f"{prefix}.postalCode", values["postal_code"])
    if "city" in values:
        out["city"] = validation.optional_text(f"{prefix}.city", values["city"], max_length=100)
    return out


def ensure_not_restricted(customer: Customer, field: str) -> None:
    """Art. 18: a restricted customer's data is kept but neither changed nor used."""
    if customer.restricted_at is not None:
        raise Conflict("processing of this customer's data is restricted", field=field)


def require_contact(customer_email: str | None, customer_phone: str | None, prefix: str) -> None:
    if not customer_email and not customer_phone:
        raise BadUserInput(f"{prefix}.email", "or phone is required so the customer can be reached")


async def create_customer(
    ctx: RequestContext, values: Mapping[str, Any], created_via: CreatedVia
) -> Customer:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "createCustomer")
    if created_via not in STAFF_CREATION_CHANNELS:
        raise BadUserInput("input.createdVia", "must be PHONE or STAFF for staff-created customers")
    fields = customer_fields(values, "input")
    if "name" not in fields:
        raise BadUserInput("input.name", "is required")
    require_contact(fields.get("email"), fields.get("phone"), "input")
    customer = Customer(tenant_id=tenant_id, created_via=created_via, **fields)
    async with write_transaction(ctx.sessions) as tx:
        tx.add(customer)
        await tx.flush()
        await record_write(tx, ctx.principal, "customer.create", customer, list(fields))
    return customer


async def update_customer(
    ctx: RequestContext, global_id: str, patch: Mapping[str, Any]
) -> Customer:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "updateCustomer")
    key = decode_id("id", global_id, "Customer")
    fields = customer_fields(patch, "input")
    async with write_transaction(ctx.sessions) as tx:
        customer = await _scoped_customer(tx, tenant_id, key, "id")
        ensure_not_restricted(customer, "id")
        for name, value in fields.items():
            setattr(customer, name, value)
        require_contact(customer.email, customer.phone, "input")
        customer.updated_at = utcnow()
        await record_write(tx, ctx.principal, "customer.update", customer, list(fields))
    return customer


def _vehicle_fields(values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "registration" in values:
        reg = values["registration"]
        out["registration"] = (
            None if reg is None else validation.registration(f"{prefix}.registration", reg)
        )
    if "vin" in values:
        out["vin"] = (
            None if values["vin"] is None else validation.vin(f"{prefix}.vin", values["vin"])
        )
    for name in ("make", "model"):
        if name in values:
            out[name] = validation.optional_text(f"{prefix}.{name}", values[name], max_length=60)
    if "first_registration_date" in values:
        first_reg: date | None = values["first_registration_date"]
        out["first_registration_date"] = (
            None
            if first_reg is None
            else validation.past_date(f"{prefix}.firstRegistrationDate", first_reg)
        )
    return out


def _require_identifier(registration: str | None, vin: str | None, prefix: str) -> None:
    if not registration and not vin:
        raise BadUserInput(f"{prefix}.registration", "or vin is required")


async def _scoped_customer(tx: Any, tenant_id: str, key: str, field: str) -> Customer:
    return await row_in_reach(tx, Customer, key, tenant_id, field=field)


async def create_vehicle(ctx: RequestContext, values: Mapping[str, Any]) -> Vehicle:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "createVehicle")
    fields = _vehicle_fields(values, "input")
    _require_identifier(fields.get("registration"), fields.get("vin"), "input")
    owner_gid = values.get("owner_id")
    owner_key = decode_id("input.ownerId", owner_gid, "Customer") if owner_gid is not None else None
    async with write_transaction(ctx.sessions) as tx:
        if owner_key is not None:
            owner = await _scoped_customer(tx, tenant_id, owner_key, "input.ownerId")
            ensure_not_restricted(owner, "input.ownerId")
        vehicle = Vehicle(tenant_id=tenant_id, owner_id=owner_key, **fields)
        tx.add(vehicle)
        await tx.flush()
        await record_write(tx, ctx.principal, "vehicle.create", vehicle, list(fields))
    return vehicle


async def update_vehicle(ctx: RequestContext, global_id: str, patch: Mapping[str, Any]) -> Vehicle:
    tenant_id = require_writer(ctx.principal, ctx.decisions, "updateVehicle")
    key = decode_id("id", global_id, "Vehicle")
    fields = _vehicle_fields(patch, "input")
    owner_key: str | None = None
    if "owner_id" in patch and patch["owner_id"] is not None:
        owner_key = decode_id("input.ownerId", patch["owner_id"], "Customer")
    async with write_transaction(ctx.sessions) as tx:
        vehicle = await row_in_reach(tx, Vehicle, key, tenant_id)
        if vehicle.owner_id is not None:
            ensure_not_restricted(
                await _scoped_customer(tx, tenant_id, vehicle.owner_id, "id"), "id"
            )
        if owner_key is not None:
            owner = await _scoped_customer(tx, tenant_id, owner_key, "input.ownerId")
            ensure_not_restricted(owner, "input.ownerId")
        if "owner_id" in patch:
            vehicle.owner_id = owner_key
        for name, value in fields.items():
            setattr(vehicle, name, value)
        _require_identifier(vehicle.registration, vehicle.vin, "input")
        changed = [*fields, *(["owner_id"] if "owner_id" in patch else [])]
        await record_write(tx, ctx.principal, "vehicle.update", vehicle, changed)
    return vehicle
