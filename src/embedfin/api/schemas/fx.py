"""FX quotes: a locked rate to convert at or to pay an order in another currency."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from embedfin.api.schemas.common import Amount, Currency, Model, ObjectId


class FxQuoteCreate(Model):
    customer: ObjectId
    sell_amount: Amount
    sell_currency: Currency
    buy_currency: Currency


class FxQuoteOut(BaseModel):
    object: Literal["fx_quote"] = "fx_quote"
    id: str
    customer: str
    sell_amount: int
    sell_currency: str
    buy_amount: int
    buy_currency: str
    rate: str
    mid_rate: str
    spread_bp: int
    reference_date: str
    expires_at: datetime | None
