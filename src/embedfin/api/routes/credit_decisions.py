"""``/v1/credit_decisions``: decide credit for a purchase at checkout, in real time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from embedfin.api.commands import Command, OrdersCommand
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import require_customer, v1_router
from embedfin.api.schemas.credit_decisions import (
    CreditDecisionCreate,
    CreditDecisionOut,
    PlanOfferOut,
    ReasonOut,
)
from embedfin.core.money import Money, currency
from embedfin.lending.apr import apr_percent

if TYPE_CHECKING:  # the credit stack (LightGBM, scikit-learn) loads when a decision is made
    from embedfin.credit.decisions import Decision

router = v1_router()


def _plan_offers(cmd: Command, d: Decision, currency_code: str) -> list[PlanOfferOut]:
    """Each plan the decision allows, as the buyer would repay it from today."""
    lending = cmd.platform.tenant(cmd.tenant).lending
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
    return plans


def decision_body(
    cmd: Command, decision_id: str, customer: str, d: Decision, currency_code: str
) -> dict[str, Any]:
    return CreditDecisionOut(
        id=decision_id,
        customer=customer,
        outcome=str(d.outcome),
        amount=d.amount_minor,
        limit=d.limit_minor,
        currency=currency_code,
        plans=_plan_offers(cmd, d, currency_code),
        reasons=[ReasonOut(code=r.code, text=r.text) for r in d.reasons],
        model=d.model_version,
    ).model_dump(mode="json")


@router.post(
    "/credit_decisions", status_code=201, response_model=CreditDecisionOut, tags=["credit"]
)
def create_credit_decision(body: CreditDecisionCreate, cmd: OrdersCommand) -> Any:
    """Decide credit for a purchase in real time: approve, counter-offer (smaller amount) or
    decline, with the plans (and their APRs) the buyer may choose and up to four reasons."""
    decision_id = cmd.new_id("dec")

    def effect() -> tuple[int, Body]:
        require_customer(cmd.platform, cmd.principal, body.customer)
        decision = cmd.platform.tenant(cmd.tenant).credit.decide(
            decision_id, body.customer, Money(body.amount, body.currency), body.category
        )
        return 201, decision_body(cmd, decision_id, body.customer, decision, body.currency)

    return cmd.run(body.model_dump(), effect, atomic=False)
