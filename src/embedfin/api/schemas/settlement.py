"""Settlement runs and the payouts they make."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from embedfin.api.schemas.common import Amount, AmountOrZero, Currency, Model


class SettlementRunCreate(Model):
    """``channel_settlement`` books money a channel paid into the client reserve (``channel``,
    ``amount`` gross, ``fee``, ``currency``); ``t1`` moves pending → available as of ``cutoff``;
    ``payouts`` pays available balances to bank accounts; ``commission_sweep`` moves commission
    out of the reserve (``currency``)."""

    kind: Literal["channel_settlement", "t1", "payouts", "commission_sweep"]
    cutoff: datetime | None = None
    currency: Currency | None = None
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,32}$")] | None = None
    amount: Amount | None = None
    fee: AmountOrZero | None = None


class SettlementLineOut(BaseModel):
    merchant: str
    amount: int
    currency: str


class SettlementRunOut(BaseModel):
    object: Literal["settlement_run"] = "settlement_run"
    id: str
    kind: str
    lines: list[SettlementLineOut]


class PayoutOut(BaseModel):
    object: Literal["payout"] = "payout"
    batch: str
    merchant: str
    amount: int
    currency: str
    bank_last4: str
    created: datetime | None
