"""Revolving credit lines and their virtual cards."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from embedfin.api.schemas.common import Amount, AmountOrZero, Currency, Model, ObjectId, Text200


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
    limit: AmountOrZero
    currency: Currency
    reason: Text200
