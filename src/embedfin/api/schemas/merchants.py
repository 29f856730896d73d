"""Merchants and their bank accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from embedfin.api.schemas.common import Currency, Model
from embedfin.commerce.categories import MERCHANT_CATEGORIES, is_merchant_category


def _catalogued(category: str) -> str:
    if not is_merchant_category(category):
        raise ValueError(f"not a merchant category; one of {', '.join(MERCHANT_CATEGORIES)}")
    return category


#: A category of the catalogue (``commerce.categories``).
Category = Annotated[
    str,
    Field(json_schema_extra={"enum": list(MERCHANT_CATEGORIES)}),
    AfterValidator(_catalogued),
]


class MerchantCreate(Model):
    """``kyc_status`` is ``pending`` unless the operator states ``verified``: registering a
    merchant is not verifying it, and only a verified merchant may sell. The operator's
    statement is kept in the audit log with the key that made it."""

    category: Category
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    settlement_currency: Currency
    payout_preference: Literal["t0", "t1"] = "t1"
    kyc_status: Literal["verified", "pending", "rejected"] = "pending"


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
