"""Deposits of lending funds by the platform's funder."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from embedfin.api.schemas.common import Amount, Currency, Model


class DepositIn(Model):
    amount: Amount
    currency: Currency


class LoanFundingOut(BaseModel):
    object: Literal["funder_deposit"] = "funder_deposit"
    id: str
    funder: str
    amount: int
    currency: str
