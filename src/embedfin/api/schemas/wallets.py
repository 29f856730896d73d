"""Wallet balances and movements: top-ups and withdrawals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from embedfin.api.schemas.common import Amount, Currency
from embedfin.api.schemas.risk import WithRiskContext


class BalanceOut(BaseModel):
    object: Literal["balance"] = "balance"
    owner: str
    currency: str
    available: int
    held: int


class TopUpCreate(WithRiskContext):
    amount: Amount
    currency: Currency
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,32}$")] = "card-acquirer"


class WithdrawalCreate(WithRiskContext):
    amount: Amount
    currency: Currency
    bank_token: Annotated[str, StringConstraints(pattern=r"^tok_[A-Za-z0-9]{8,60}$")]
    bank_last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]


class WalletMovementOut(BaseModel):
    object: Literal["wallet_movement"] = "wallet_movement"
    id: str
    kind: str
    owner: str
    amount: int
    currency: str
    channel: str | None
    bank_last4: str | None
    created: datetime | None
