"""``/v1/loans`` and the ways a loan is made: financing an order, paying it by card."""

from __future__ import annotations

from typing import Any

from embedfin.api.commands import OrdersCommand, WalletsCommand
from embedfin.api.deps import PlatformDep
from embedfin.api.idempotency import Body
from embedfin.api.platform import Platform
from embedfin.api.routes.common import CustomerReader, v1_router, visible_order
from embedfin.api.schemas.loans import CardPayIn, FinanceIn, LoanOut, RepaymentIn
from embedfin.core.money import Money
from embedfin.lending.servicing import Loan

router = v1_router()


def loan_body(platform: Platform, tenant: str, loan: Loan) -> dict[str, Any]:
    lending = platform.tenant(tenant).lending
    with platform.ledger.current() as conn:
        dpd, bucket = lending.delinquency_of(conn, loan, lending.today())
    return LoanOut(
        id=loan.loan_id,
        order=loan.order_id,
        customer=loan.buyer_id,
        plan=loan.plan_code,
        currency=loan.currency,
        principal=loan.principal_minor,
        principal_outstanding=loan.principal_outstanding,
        interest_due=loan.interest_due,
        fees_due=loan.fees_due,
        repaid=loan.repaid_minor,
        status=str(loan.status),
        days_past_due=dpd,
        bucket=bucket,
    ).model_dump(mode="json")


@router.post("/orders/{order_id}/finance", status_code=201, response_model=LoanOut, tags=["credit"])
def finance_order(order_id: str, body: FinanceIn, cmd: OrdersCommand) -> Any:
    """Pay an order with a plan the credit decision offered (within its amount)."""
    loan_id = cmd.new_id("loan")

    def effect() -> tuple[int, Body]:
        visible_order(cmd.platform, cmd.principal, order_id)
        loan = cmd.platform.tenant(cmd.tenant).credit.finance(
            order_id, body.decision, body.plan, loan_id, body.risk()
        )
        return 201, loan_body(cmd.platform, cmd.tenant, loan)

    return cmd.run({"order": order_id, **body.model_dump()}, effect)


@router.post(
    "/orders/{order_id}/pay_with_card", status_code=201, response_model=LoanOut, tags=["credit"]
)
def pay_with_card(order_id: str, body: CardPayIn, cmd: OrdersCommand) -> Any:
    """Pay an order with the buyer's virtual card (a draw on the revolving line)."""
    loan_id = cmd.new_id("loan")

    def effect() -> tuple[int, Body]:
        visible_order(cmd.platform, cmd.principal, order_id)
        lines = cmd.platform.tenant(cmd.tenant).credit_lines
        loan = lines.pay_with_card(order_id, body.card_token, loan_id, body.risk())
        return 201, loan_body(cmd.platform, cmd.tenant, loan)

    return cmd.run({"order": order_id, **body.model_dump()}, effect)


@router.get("/loans/{loan_id}", response_model=LoanOut, tags=["credit"])
def get_loan(loan_id: str, platform: PlatformDep, principal: CustomerReader) -> Any:
    tenant = principal.tenant
    return loan_body(platform, tenant, platform.tenant(tenant).lending.get(loan_id))


@router.post("/loans/{loan_id}/repayments", response_model=LoanOut, tags=["credit"])
def repay_loan(loan_id: str, body: RepaymentIn, cmd: WalletsCommand) -> Any:
    """Repay from the buyer's wallet: fees, then interest, then principal."""
    request_id = cmd.new_id("rep")

    def effect() -> tuple[int, Body]:
        loan = cmd.platform.tenant(cmd.tenant).lending.repay(
            loan_id, Money(body.amount, body.currency), request_id
        )
        return 200, loan_body(cmd.platform, cmd.tenant, loan)

    return cmd.run({"loan": loan_id, **body.model_dump()}, effect)
