"""Loans: financing an order, paying by card, repaying."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from embedfin.api.schemas.common import Amount, Currency, Model, ObjectId
from embedfin.api.schemas.risk import WithRiskContext


class FinanceIn(WithRiskContext):
    decision: ObjectId
    plan: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]


class CardPayIn(WithRiskContext):
    card_token: Annotated[str, StringConstraints(pattern=r"^vc_[A-Za-z0-9_-]{8,64}$")]


class LoanOut(BaseModel):
    object: Literal["loan"] = "loan"
    id: str
    order: str
    customer: str
    plan: str
    currency: str
    principal: int
    principal_outstanding: int
    interest_due: int
    fees_due: int
    repaid: int
    status: str
    days_past_due: int
    bucket: str


class RepaymentIn(Model):
    amount: Amount
    currency: Currency
