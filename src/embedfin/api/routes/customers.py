"""``/v1/customers``: create, read and list buyers; their wallet balances."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from embedfin.api.commands import CustomersCommand
from embedfin.api.deps import PlatformDep
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import Cursor, CustomerReader, page, require_customer, v1_router
from embedfin.api.schemas.common import Limit, Page, ts
from embedfin.api.schemas.customers import CustomerCreate, CustomerOut
from embedfin.api.schemas.wallets import BalanceOut
from embedfin.commerce import customers as customer_store
from embedfin.compliance.aml.screening import Subject
from embedfin.security.crypto import mask, mask_email, mask_name

router = v1_router()


def customer_body(c: customer_store.Customer) -> dict[str, Any]:
    return CustomerOut(
        id=c.customer_id,
        name=mask_name(c.name),
        phone=mask(c.phone) if c.phone else None,
        email=mask_email(c.email) if c.email else None,
        created=ts(c.created_at_ns),
    ).model_dump(mode="json")


@router.post("/customers", status_code=201, response_model=CustomerOut, tags=["customers"])
def create_customer(body: CustomerCreate, cmd: CustomersCommand) -> Any:
    def effect() -> tuple[int, Body]:
        platform = cmd.platform
        customer = customer_store.Customer(
            cmd.tenant,
            cmd.new_id("cus"),
            body.name,
            body.phone,
            body.email,
            platform.clock.now_ns(),
        )
        screening = platform.tenant(cmd.tenant).screening
        with platform.ledger.transaction() as tx:
            customer_store.insert_customer(tx.conn, platform.cipher, customer)
            # screened at sign-up: a hit holds the buyer's withdrawals until decided
            subject = Subject(body.name, kind="person")
            screening.record_in(tx, "buyer", customer.customer_id, subject)
        return 201, customer_body(customer)

    return cmd.run(body.model_dump(), effect)


@router.get("/customers/{customer_id}", response_model=CustomerOut, tags=["customers"])
def get_customer(customer_id: str, platform: PlatformDep, principal: CustomerReader) -> Any:
    with platform.read() as conn:
        found = customer_store.load_customer(conn, platform.cipher, principal.tenant, customer_id)
    return customer_body(found)


@router.get("/customers", response_model=Page[CustomerOut], tags=["customers"])
def list_customers(
    platform: PlatformDep,
    principal: CustomerReader,
    limit: Limit = 10,
    starting_after: Cursor = None,
) -> Any:
    with platform.read() as conn:
        found, more = customer_store.list_customers(
            conn, platform.cipher, principal.tenant, limit, starting_after
        )
    return page([customer_body(c) for c in found], more)


@router.get("/customers/{customer_id}/balance", response_model=BalanceOut, tags=["customers"])
def customer_balance(
    customer_id: str,
    platform: PlatformDep,
    principal: CustomerReader,
    currency: Annotated[str, Query(pattern=r"^[A-Z]{3}$")],
) -> Any:
    require_customer(platform, principal, customer_id)
    found = platform.tenant(principal.tenant).wallets.balance("buyer", customer_id, currency)
    return BalanceOut(
        owner=customer_id,
        currency=currency,
        available=found.available.amount_minor,
        held=found.held.amount_minor,
    ).model_dump(mode="json")
