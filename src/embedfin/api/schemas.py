"""Request and response bodies. Amounts are integer minor units with an ISO 4217 currency;
timestamps are RFC 3339 UTC; every object names its type in ``object``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from embedfin.commerce.orders import GoodsKind, Order
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.money import MAX_AMOUNT_MINOR

T = TypeVar("T")

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[int, Field(gt=0, le=MAX_AMOUNT_MINOR, description="minor units")]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Text200 = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
ObjectId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Limit = Annotated[int, Field(ge=1, le=100)]


def ts(ns: int) -> datetime | None:
    """Nanoseconds since the epoch → aware UTC datetime (None for "not yet")."""
    if ns <= 0:
        return None
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details; ``code`` is stable, match on it."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str
    errors: list[dict[str, Any]] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
    }


#: Error answers every /v1 operation may give, documented once.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("the body is not valid JSON"),
    401: _problem("missing, unknown or revoked API key"),
    402: _problem("insufficient funds or payment declined"),
    403: _problem("the key's role lacks the scope"),
    404: _problem("no such object for this caller (also another tenant's ids)"),
    409: _problem("state conflict, or the Idempotency-Key is in flight"),
    422: _problem("invalid request, or the Idempotency-Key was used with other parameters"),
    429: _problem("rate limited; see Retry-After"),
    500: _problem("internal error"),
    503: _problem("a payment channel is unreachable; nothing moved, retry the same request"),
}


class Page(BaseModel, Generic[T]):
    object: Literal["list"] = "list"
    data: list[T]
    has_more: bool


# --- merchants -----------------------------------------------------------------------------------
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


class BalanceOut(BaseModel):
    object: Literal["balance"] = "balance"
    owner: str
    currency: str
    available: int
    held: int


# --- customers -----------------------------------------------------------------------------------
class CustomerCreate(Model):
    name: Text200
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{5,32}$")] | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}$")] | None = None


class CustomerOut(BaseModel):
    """Personal data is shown masked; it is stored encrypted."""

    object: Literal["customer"] = "customer"
    id: str
    name: str
    phone: str | None
    email: str | None
    created: datetime | None


class TopUpCreate(Model):
    amount: Amount
    currency: Currency
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,32}$")] = "card-acquirer"


class WithdrawalCreate(Model):
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


# --- orders --------------------------------------------------------------------------------------
class LineIn(Model):
    sku: Annotated[
        str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    ]
    quantity: Annotated[int, Field(ge=1, le=10_000)]
    unit_price: Annotated[int, Field(ge=0, le=MAX_AMOUNT_MINOR)]


class OrderCreate(Model):
    customer: ObjectId
    merchant: ObjectId
    currency: Currency
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=100)]
    goods_kind: GoodsKind = GoodsKind.PHYSICAL


class CheckoutCreate(OrderCreate):
    """Place an order and pay it in one call: from the wallet, by channel, or split."""

    payment_method: Literal["wallet", "channel", "split"] = "wallet"
    channel_kind: Literal["card", "bank_transfer", "e_wallet", "qr_code"] | None = None
    wallet_amount: Amount | None = None


class OrderPay(Model):
    method: Literal["wallet", "channel", "split"] = "wallet"
    channel_kind: Literal["card", "bank_transfer", "e_wallet", "qr_code"] | None = None
    wallet_amount: Amount | None = None
    fx_quote: ObjectId | None = Field(
        None, description="pay from the wallet in another currency with this order's FX quote"
    )


class OrderFxQuoteCreate(Model):
    currency: Currency


class ShipIn(Model):
    tracking: Annotated[
        str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    ]


class RefundIn(Model):
    amount: Amount
    currency: Currency


class DisputeIn(Model):
    reason: Text200


class DisputeResolve(Model):
    outcome: Literal["release", "refund"]


class ExtendIn(Model):
    days: Annotated[int, Field(ge=1, le=30)]


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
            tracking=order.tracking or None,
            auto_confirm_at=ts(order.auto_confirm_at) if not order.frozen else None,
            created=ts(order.placed_at),
            paid_at=ts(order.paid_at),
            shipped_at=ts(order.shipped_at),
            completed_at=ts(order.completed_at),
            closed_at=ts(order.closed_at),
            payment_channel=channel,
        )


# --- fx ------------------------------------------------------------------------------------------
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


# --- settlement ----------------------------------------------------------------------------------
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
    fee: Annotated[int, Field(ge=0, le=MAX_AMOUNT_MINOR)] | None = None


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


# --- reconciliation ------------------------------------------------------------------------------
class ReconciliationCreate(Model):
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,32}$")]
    format: Literal["csv", "camt053"]
    content: Annotated[str, StringConstraints(min_length=1, max_length=5_000_000)]


class BreakOut(BaseModel):
    kind: str
    reference: str
    expected: str
    actual: str


class ReconBreakOut(BreakOut):
    object: Literal["reconciliation_break"] = "reconciliation_break"
    id: str
    channel: str
    status: str


class ReconciliationOut(BaseModel):
    object: Literal["reconciliation"] = "reconciliation"
    id: str
    lines: int
    matched: int
    breaks: list[BreakOut]


class ResolveIn(Model):
    note: Text200


# --- keys, events, webhooks, audit ---------------------------------------------------------------
class ApiKeyCreate(Model):
    role: Literal["operator", "merchant", "risk", "regulator"]
    name: Text200
    merchant: ObjectId | None = None


class ApiKeyOut(BaseModel):
    object: Literal["api_key"] = "api_key"
    id: str
    role: str
    merchant: str | None
    name: str
    prefix: str
    created: datetime | None
    revoked: datetime | None
    secret: str | None = Field(None, description="shown once, in the response that creates it")


class EventOut(BaseModel):
    object: Literal["event"] = "event"
    id: str
    type: str
    aggregate: str
    aggregate_id: str
    data: dict[str, Any]
    created: datetime | None


class WebhookEndpointCreate(Model):
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")]
    event_types: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^([a-z_]{1,64}|\*)$")]],
        Field(min_length=1, max_length=50),
    ]


class WebhookEndpointOut(BaseModel):
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    id: str
    url: str
    event_types: list[str]
    status: str
    created: datetime | None
    secret: str | None = Field(None, description="shown once: at creation and on rotation")


class WebhookDeliveryOut(BaseModel):
    object: Literal["webhook_delivery"] = "webhook_delivery"
    id: str
    endpoint: str
    event: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None


class AuditEntryOut(BaseModel):
    object: Literal["audit_entry"] = "audit_entry"
    seq: int
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    at: datetime | None
    hash: str


class PingOut(BaseModel):
    object: Literal["ping"] = "ping"
    tenant: str
    role: str


# --- credit and lending --------------------------------------------------------------------------
class CreditDecisionCreate(Model):
    customer: ObjectId
    amount: Amount
    currency: Currency
    category: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]


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


class FinanceIn(Model):
    decision: ObjectId
    plan: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]


class CardPayIn(Model):
    card_token: Annotated[str, StringConstraints(pattern=r"^vc_[A-Za-z0-9_-]{8,64}$")]


class LoanOut(BaseModel):
    object: Literal["loan"] = "loan"
    id: str
    order: str
    customer: str
    plan: str
    currency: str
    principal: int
    principal_outstanding: int
    interest_due: int
    fees_due: int
    repaid: int
    status: str
    days_past_due: int
    bucket: str


class RepaymentIn(Model):
    amount: Amount
    currency: Currency


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


class DepositIn(Model):
    amount: Amount
    currency: Currency


class LoanFundingOut(BaseModel):
    object: Literal["funder_deposit"] = "funder_deposit"
    id: str
    funder: str
    amount: int
    currency: str


class ReturnIn(Model):
    reason: Text200


class ReviewIn(Model):
    rating: Annotated[int, Field(ge=1, le=5)]
    text: Annotated[str, StringConstraints(max_length=2_000)] = ""
