"""/v1 routes of credit and lending: decisions at checkout, financing, loans, cards, funders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from embedfin.api.auth import Principal, Scope
from embedfin.api.deps import IdempotencyKey, PlatformDep, require, respond
from embedfin.api.platform import Platform
from embedfin.api.routes_commerce import derived_id, visible_order
from embedfin.api.schemas import (
    PROBLEM_RESPONSES,
    CardPayIn,
    CreditDecisionCreate,
    CreditDecisionOut,
    CreditLineCreate,
    CreditLineOut,
    DepositIn,
    FinanceIn,
    LimitIn,
    LoanFundingOut,
    LoanOut,
    PlanOfferOut,
    ReasonOut,
    RepaymentIn,
)
from embedfin.commerce import customers as customer_store
from embedfin.core.errors import NotFound
from embedfin.core.money import Money, currency
from embedfin.credit.decisions import Decision
from embedfin.lending.apr import apr_percent
from embedfin.lending.cards import CreditLine
from embedfin.lending.servicing import Loan

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)

Writer = Annotated[Principal, Depends(require(Scope.ORDERS_WRITE))]
Reader = Annotated[Principal, Depends(require(Scope.CUSTOMERS_READ))]


def _decision_out(
    platform: Platform,
    principal: Principal,
    decision_id: str,
    customer: str,
    d: Decision,
    currency_code: str,
) -> dict[str, Any]:
    lending = platform.lending(principal.tenant)
    exponent = currency(currency_code).exponent
    plans = []
    for code in d.plans:
        plan = lending.catalog.plans[code]
        schedule = plan.schedule(d.amount_minor, lending.today())
        plans.append(
            PlanOfferOut(
                plan=code,
                installments=len(schedule.installments),
                apr_percent=str(apr_percent(schedule.apr(exponent, plan.unit))),
                total_cost=schedule.interest_minor + schedule.fee_minor,
                first_due=schedule.installments[0].due.isoformat(),
                installment_amounts=[i.total_minor for i in schedule.installments],
            )
        )
    return CreditDecisionOut(
        id=decision_id,
        customer=customer,
        outcome=str(d.outcome),
        amount=d.amount_minor,
        limit=d.limit_minor,
        currency=currency_code,
        plans=plans,
        reasons=[ReasonOut(code=r.code, text=r.text) for r in d.reasons],
        model=d.model_version,
    ).model_dump(mode="json")


def _loan_out(platform: Platform, principal: Principal, loan: Loan) -> dict[str, Any]:
    lending = platform.lending(principal.tenant)
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


def _line_out(
    platform: Platform, principal: Principal, line: CreditLine, token: str | None = None
) -> dict[str, Any]:
    available = platform.credit_lines(principal.tenant).available(line.line_id)
    return CreditLineOut(
        id=line.line_id,
        customer=line.buyer_id,
        currency=line.currency,
        limit=line.limit_minor,
        available=available,
        card_last4=line.card_last4,
        card_expiry=line.card_expiry,
        status=line.status,
        card_token=token,
    ).model_dump(mode="json")


def _customer(platform: Platform, principal: Principal, customer_id: str) -> None:
    with platform.read() as conn:
        if not customer_store.customer_exists(conn, principal.tenant, customer_id):
            raise NotFound(f"no customer {customer_id}")


@router.post(
    "/credit_decisions", status_code=201, response_model=CreditDecisionOut, tags=["credit"]
)
def create_credit_decision(
    body: CreditDecisionCreate,
    platform: PlatformDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Decide credit for a purchase in real time: approve, counter-offer (smaller amount) or
    decline, with the plans (and their APRs) the buyer may choose and up to four reasons."""
    decision_id = derived_id("dec", principal, idempotency_key)

    def effect() -> tuple[int, dict[str, Any]]:
        _customer(platform, principal, body.customer)
        decision = platform.credit(principal.tenant).decide(
            decision_id, body.customer, Money(body.amount, body.currency), body.category
        )
        return 201, _decision_out(
            platform, principal, decision_id, body.customer, decision, body.currency
        )

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            body.model_dump(),
            effect,
            instance="/v1/credit_decisions",
            atomic=False,
        )
    )


@router.post("/orders/{order_id}/finance", status_code=201, response_model=LoanOut, tags=["credit"])
def finance_order(
    order_id: str,
    body: FinanceIn,
    platform: PlatformDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Pay an order with a plan the credit decision offered (within its amount)."""
    loan_id = derived_id("loan", principal, idempotency_key)

    def effect() -> tuple[int, dict[str, Any]]:
        visible_order(platform, principal, order_id)
        loan = platform.credit(principal.tenant).finance(
            order_id, body.decision, body.plan, loan_id
        )
        return 201, _loan_out(platform, principal, loan)

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"order": order_id, **body.model_dump()},
            effect,
            instance=f"/v1/orders/{order_id}/finance",
        )
    )


@router.post(
    "/orders/{order_id}/pay_with_card", status_code=201, response_model=LoanOut, tags=["credit"]
)
def pay_with_card(
    order_id: str,
    body: CardPayIn,
    platform: PlatformDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Pay an order with the buyer's virtual card (a draw on the revolving line)."""
    loan_id = derived_id("loan", principal, idempotency_key)

    def effect() -> tuple[int, dict[str, Any]]:
        visible_order(platform, principal, order_id)
        loan = platform.credit_lines(principal.tenant).pay_with_card(
            order_id, body.card_token, loan_id
        )
        return 201, _loan_out(platform, principal, loan)

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"order": order_id, **body.model_dump()},
            effect,
            instance=f"/v1/orders/{order_id}/pay_with_card",
        )
    )


@router.get("/loans/{loan_id}", response_model=LoanOut, tags=["credit"])
def get_loan(loan_id: str, platform: PlatformDep, principal: Reader) -> Any:
    return _loan_out(platform, principal, platform.lending(principal.tenant).get(loan_id))


@router.post("/loans/{loan_id}/repayments", response_model=LoanOut, tags=["credit"])
def repay_loan(
    loan_id: str,
    body: RepaymentIn,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.WALLETS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Repay from the buyer's wallet: fees, then interest, then principal."""
    request_id = derived_id("rep", principal, idempotency_key)

    def effect() -> tuple[int, dict[str, Any]]:
        loan = platform.lending(principal.tenant).repay(
            loan_id, Money(body.amount, body.currency), request_id
        )
        return 200, _loan_out(platform, principal, loan)

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"loan": loan_id, **body.model_dump()},
            effect,
            instance=f"/v1/loans/{loan_id}/repayments",
        )
    )


@router.post("/credit_lines", status_code=201, response_model=CreditLineOut, tags=["credit"])
def open_credit_line(
    body: CreditLineCreate,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.SETTLEMENT))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Open a revolving line and issue its virtual card (the token is in this response only)."""
    line_id = derived_id("cl", principal, idempotency_key)

    def effect() -> tuple[int, dict[str, Any]]:
        _customer(platform, principal, body.customer)
        line = platform.credit_lines(principal.tenant).open_line(
            line_id, body.customer, Money(body.limit, body.currency), platform.funder_id
        )
        platform.audit(principal, "credit_line.open", line_id, {"limit": body.limit})
        return 201, _line_out(platform, principal, line, line.card_token)

    return respond(
        *platform.command(
            principal, idempotency_key, body.model_dump(), effect, instance="/v1/credit_lines"
        )
    )


@router.get("/credit_lines/{line_id}", response_model=CreditLineOut, tags=["credit"])
def get_credit_line(line_id: str, platform: PlatformDep, principal: Reader) -> Any:
    lines = platform.credit_lines(principal.tenant)
    return _line_out(platform, principal, lines.get(line_id))


def _line_action(
    platform: Platform,
    principal: Principal,
    line_id: str,
    action: str,
    params: dict[str, Any],
    key: str | None,
    run: Any,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        line = run()
        platform.audit(principal, f"credit_line.{action}", line_id, params)
        return 200, _line_out(platform, principal, line)

    return respond(
        *platform.command(
            principal,
            key,
            {"line": line_id, "action": action, **params},
            effect,
            instance=f"/v1/credit_lines/{line_id}/{action}",
        )
    )


@router.post("/credit_lines/{line_id}/freeze", response_model=CreditLineOut, tags=["credit"])
def freeze_card(
    line_id: str, platform: PlatformDep, principal: Writer, idempotency_key: IdempotencyKey = None
) -> Any:
    lines = platform.credit_lines(principal.tenant)
    return _line_action(
        platform,
        principal,
        line_id,
        "freeze",
        {},
        idempotency_key,
        lambda: lines.freeze(line_id, True),
    )


@router.post("/credit_lines/{line_id}/unfreeze", response_model=CreditLineOut, tags=["credit"])
def unfreeze_card(
    line_id: str, platform: PlatformDep, principal: Writer, idempotency_key: IdempotencyKey = None
) -> Any:
    lines = platform.credit_lines(principal.tenant)
    return _line_action(
        platform,
        principal,
        line_id,
        "unfreeze",
        {},
        idempotency_key,
        lambda: lines.freeze(line_id, False),
    )


@router.post("/credit_lines/{line_id}/limit", response_model=CreditLineOut, tags=["credit"])
def set_credit_limit(
    line_id: str,
    body: LimitIn,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.SETTLEMENT))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Raise or lower the limit, with the reason shown to the buyer."""
    lines = platform.credit_lines(principal.tenant)
    return _line_action(
        platform,
        principal,
        line_id,
        "limit",
        body.model_dump(),
        idempotency_key,
        lambda: lines.set_limit(line_id, Money(body.limit, body.currency), body.reason),
    )


@router.post("/funder_deposits", status_code=201, response_model=LoanFundingOut, tags=["credit"])
def deposit_lending_funds(
    body: DepositIn,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.SETTLEMENT))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """The platform's funder deposits lending cash into the client reserve."""
    request_id = derived_id("dep", principal, idempotency_key)

    def effect() -> tuple[int, dict[str, Any]]:
        platform.lending(principal.tenant).fund(
            platform.funder_id, Money(body.amount, body.currency), request_id
        )
        platform.audit(principal, "funder.deposit", platform.funder_id, body.model_dump())
        out = LoanFundingOut(
            id=request_id, funder=platform.funder_id, amount=body.amount, currency=body.currency
        )
        return 201, out.model_dump(mode="json")

    return respond(
        *platform.command(
            principal, idempotency_key, body.model_dump(), effect, instance="/v1/funder_deposits"
        )
    )
