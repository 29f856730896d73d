"""Revolving credit lines and their virtual cards."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from embedfin.api.schemas.common import Amount, Currency, Model, ObjectId, Text200
from embedfin.core.money import MAX_AMOUNT_MINOR


class CreditLineCreate(Model):
    customer: ObjectId
    limit: Amount
    currency: Currency


class CreditLineOut(BaseModel):
    object: Literal["credit_line"] = "credit_line"
    id: str
    customer: str
    currency: str
    limit: int
    available: int
    card_last4: str
    card_expiry: str
    status: str
    card_token: str | None = Field(None, description="shown once, when the card is issued")


class LimitIn(Model):
    limit: Annotated[int, Field(ge=0, le=MAX_AMOUNT_MINOR)]
    currency: Currency
    reason: Text200
