"""Buyers and their personal data, encrypted field by field at rest (``security.crypto``).

The associated data of each field names the tenant, the customer and the field, so a ciphertext
moved to another row or column does not decrypt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from embedfin.core.errors import NotFound
from embedfin.db.tables import customers
from embedfin.security.crypto import FieldCipher

FIELDS = ("name", "phone", "email")


@dataclass(frozen=True, slots=True)
class Customer:
    tenant: str
    customer_id: str
    name: str
    phone: str | None
    email: str | None
    created_at_ns: int


def _context(tenant: str, customer_id: str, field: str) -> str:
    return f"customers.{field}:{tenant}:{customer_id}"


def insert_customer(conn: Connection, cipher: FieldCipher, customer: Customer) -> None:
    values: dict[str, object] = {
        "tenant": customer.tenant,
        "customer_id": customer.customer_id,
        "created_at": customer.created_at_ns,
    }
    for field in FIELDS:
        plain = getattr(customer, field)
        values[f"{field}_enc"] = (
            None
            if plain is None
            else cipher.encrypt(plain, _context(customer.tenant, customer.customer_id, field))
        )
    conn.execute(insert(customers).values(**values))


def _decrypt(cipher: FieldCipher, row: Row[Any]) -> Customer:
    plain = {
        field: None
        if getattr(row, f"{field}_enc") is None
        else cipher.decrypt(
            getattr(row, f"{field}_enc"), _context(row.tenant, row.customer_id, field)
        )
        for field in FIELDS
    }
    return Customer(
        row.tenant,
        row.customer_id,
        plain["name"] or "",
        plain["phone"],
        plain["email"],
        row.created_at,
    )


def load_customer(conn: Connection, cipher: FieldCipher, tenant: str, customer_id: str) -> Customer:
    row = conn.execute(
        select(customers).where(
            customers.c.tenant == tenant, customers.c.customer_id == customer_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no customer {customer_id}")
    return _decrypt(cipher, row)


def customer_exists(conn: Connection, tenant: str, customer_id: str) -> bool:
    row = conn.execute(
        select(customers.c.customer_id).where(
            customers.c.tenant == tenant, customers.c.customer_id == customer_id
        )
    ).first()
    return row is not None


def known_customers(conn: Connection, tenant: str, customer_ids: Sequence[str]) -> set[str]:
    """Which of these customers exist (one query for many)."""
    found = conn.execute(
        select(customers.c.customer_id).where(
            customers.c.tenant == tenant, customers.c.customer_id.in_(list(customer_ids))
        )
    ).scalars()
    return set(found)


def list_customers(
    conn: Connection, cipher: FieldCipher, tenant: str, limit: int, starting_after: str | None
) -> tuple[list[Customer], bool]:
    query = select(customers).where(customers.c.tenant == tenant)
    if starting_after is not None:
        query = query.where(customers.c.customer_id < starting_after)
    rows = conn.execute(query.order_by(customers.c.customer_id.desc()).limit(limit + 1)).all()
    return [_decrypt(cipher, r) for r in rows[:limit]], len(rows) > limit


def rotate_customers(conn: Connection, cipher: FieldCipher) -> int:
    """Re-encrypt every field not under the primary key; returns how many fields changed."""
    changed = 0
    for row in conn.execute(select(customers)).all():
        values = {}
        for field in FIELDS:
            stored = getattr(row, f"{field}_enc")
            if stored is not None and cipher.needs_rotation(stored):
                context = _context(row.tenant, row.customer_id, field)
                values[f"{field}_enc"] = cipher.rotate(stored, context)
        if values:
            conn.execute(
                update(customers)
                .where(
                    customers.c.tenant == row.tenant,
                    customers.c.customer_id == row.customer_id,
                )
                .values(**values)
            )
            changed += len(values)
    return changed
