"""Credit decisions at checkout: the outcome, the plans offered and the reasons."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from embedfin.api.schemas.common import Amount, Currency, Model, ObjectId
from embedfin.api.schemas.merchants import Category


class CreditDecisionCreate(Model):
    customer: ObjectId
    amount: Amount
    currency: Currency
    category: Category


class PlanOfferOut(BaseModel):
    plan: str
    installments: int
    apr_percent: str
    total_cost: int
    first_due: str
    installment_amounts: list[int]


class ReasonOut(BaseModel):
    code: str
    text: str


class CreditDecisionOut(BaseModel):
    object: Literal["credit_decision"] = "credit_decision"
    id: str
    customer: str
    outcome: str
    amount: int
    limit: int
    currency: str
    plans: list[PlanOfferOut]
    reasons: list[ReasonOut]
    model: str
