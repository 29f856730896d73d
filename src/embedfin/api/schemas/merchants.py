"""Merchants and their bank accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from embedfin.api.schemas.common import Currency, Model


class MerchantCreate(Model):
    category: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    settlement_currency: Currency
    payout_preference: Literal["t0", "t1"] = "t1"
    kyc_status: Literal["verified", "pending", "rejected"] = "verified"


class MerchantOut(BaseModel):
    object: Literal["merchant"] = "merchant"
    id: str
    category: str
    country: str
    settlement_currency: str
    payout_preference: str
    kyc_status: str
    created: datetime | None


class BankAccountBind(Model):
    bank_token: Annotated[str, StringConstraints(pattern=r"^tok_[A-Za-z0-9]{8,60}$")]
    bank_last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]


class BankAccountOut(BaseModel):
    object: Literal["bank_account"] = "bank_account"
    merchant: str
    last4: str
