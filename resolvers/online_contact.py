"""What a person types to complete an online booking, and the records it lands in.

An existing record is never changed from an anonymous request: anyone may type
anyone's email. The person's customer and vehicle are found or created here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from authz.kernel import owned_by
from resolvers import validation
from resolvers.booking_writes import MAX_NOTES_LENGTH
from store.models import CreatedVia, Customer, Vehicle
from store.types import new_id


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str
    registration: str | None
    vin: str | None
    customer_notes: str | None


def validate_contact(
    *,
    name: str,
    email: str,
    phone: str,
    registration: str | None,
    vin: str | None,
    customer_notes: str | None,
) -> Contact:
    """The same rules as createCustomer and createVehicle, naming ``input.<field>``."""
    reg = registration.strip() if registration is not None else ""
    chassis = vin.strip() if vin is not None else ""
    return Contact(
        name=validation.text("input.name", name, max_length=200),
        email=validation.email("input.email", email),
        phone=validation.phone("input.phone", phone),
        registration=validation.registration("input.registration", reg) if reg else None,
        vin=validation.vin("input.vin", chassis) if chassis else None,
        customer_notes=validation.optional_text(
            "input.customerNotes", customer_notes, max_length=MAX_NOTES_LENGTH, multiline=True
        ),
    )


async def customer_for(tx: AsyncSession, tenant_id: str, contact: Contact) -> tuple[Customer, bool]:
    """The tenant's customer with this email (else phone), or a new one; (customer, created).

    An existing record is never changed from an anonymous request: anyone may
    type anyone's email. A record whose processing is restricted (Art. 18) is
    not used; the person gets a record of their own instead, and the answer is
    the same either way, so it tells nobody whether the email is known.
    """
    existing = (
        await tx.execute(
            select(Customer)
            .where(
                owned_by(Customer, tenant_id),
                Customer.restricted_at.is_(None),
                or_(Customer.email == contact.email, Customer.phone == contact.phone),
            )
            .order_by(case((Customer.email == contact.email, 0), else_=1), Customer.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    customer = Customer(
        id=new_id(),
        tenant_id=tenant_id,
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        created_via=CreatedVia.ONLINE,
    )
    tx.add(customer)
    return customer, True


async def vehicle_for(
    tx: AsyncSession, tenant_id: str, customer: Customer, contact: Contact, customer_is_new: bool
) -> tuple[Vehicle | None, bool]:
    """The customer's own vehicle with this registration or VIN, or a new one."""
    if contact.registration is None and contact.vin is None:
        return None, False
    if not customer_is_new:
        matches = []
        if contact.registration is not None:
            matches.append(Vehicle.registration == contact.registration)
        if contact.vin is not None:
            matches.append(Vehicle.vin == contact.vin)
        existing = (
            await tx.execute(
                select(Vehicle)
                .where(
                    owned_by(Vehicle, tenant_id),
                    Vehicle.owner_id == customer.id,
                    or_(*matches),
                )
                .order_by(Vehicle.created_at)
                .limit(1)
            )
        ).scalar_one_or_none()
        if existing is not None:
            return existing, False
    vehicle = Vehicle(
        id=new_id(),
        tenant_id=tenant_id,
        owner_id=customer.id,
        registration=contact.registration,
        vin=contact.vin,
    )
    tx.add(vehicle)
    return vehicle, True
