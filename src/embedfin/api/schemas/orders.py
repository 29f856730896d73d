"""Orders and checkouts: placing, paying, and the order as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, Strict

from embedfin.api.schemas.common import Amount, AmountOrZero, Currency, Model, Name, ObjectId, ts
from embedfin.api.schemas.risk import WithRiskContext
from embedfin.commerce.orders import GoodsKind, Order


class LineIn(Model):
    sku: Name
    quantity: Annotated[int, Strict(), Field(ge=1, le=10_000)]
    unit_price: AmountOrZero


class OrderCreate(Model):
    customer: ObjectId
    merchant: ObjectId
    currency: Currency
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=100)]
    goods_kind: GoodsKind = GoodsKind.PHYSICAL


class CheckoutCreate(OrderCreate, WithRiskContext):
    """Place an order and pay it in one call: from the wallet, by channel, or split."""

    payment_method: Literal["wallet", "channel", "split"] = "wallet"
    channel_kind: Literal["card", "bank_transfer", "e_wallet", "qr_code"] | None = None
    wallet_amount: Amount | None = None


class OrderPay(WithRiskContext):
    method: Literal["wallet", "channel", "split"] = "wallet"
    channel_kind: Literal["card", "bank_transfer", "e_wallet", "qr_code"] | None = None
    wallet_amount: Amount | None = None
    fx_quote: ObjectId | None = Field(
        None, description="pay from the wallet in another currency with this order's FX quote"
    )


class OrderFxQuoteCreate(Model):
    currency: Currency


class OrderOut(BaseModel):
    object: Literal["order"] = "order"
    id: str
    customer: str
    merchant: str
    currency: str
    amount_total: int
    amount_paid: int
    amount_refunded: int
    amount_released: int
    commission: int
    status: str
    goods_kind: str
    frozen: bool
    risk_hold: bool = Field(
        False, description="held for a fraud review: not shippable or releasable until decided"
    )
    tracking: str | None
    auto_confirm_at: datetime | None
    created: datetime | None
    paid_at: datetime | None
    shipped_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    payment_channel: str | None = None

    @classmethod
    def of(cls, order: Order, channel: str | None = None) -> OrderOut:
        return cls(
            id=order.order_id,
            customer=order.buyer_id,
            merchant=order.merchant_id,
            currency=order.currency,
            amount_total=order.total_minor,
            amount_paid=order.paid_minor,
            amount_refunded=order.refunded_minor,
            amount_released=order.released_minor,
            commission=order.commission_minor,
            status=str(order.status),
            goods_kind=str(order.goods_kind),
            frozen=order.frozen,
            risk_hold=order.risk_hold,
            tracking=order.tracking or None,
            auto_confirm_at=ts(order.auto_confirm_at) if not order.frozen else None,
            created=ts(order.placed_at),
            paid_at=ts(order.paid_at),
            shipped_at=ts(order.shipped_at),
            completed_at=ts(order.completed_at),
            closed_at=ts(order.closed_at),
            payment_channel=channel,
        )
