"""Risk: the optional context a money-moving request carries, and the risk objects."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict, StringConstraints

from embedfin.api.schemas.common import Model
from embedfin.risk.decision import (
    MAX_DEVICE_ID,
    MAX_IP_TEXT,
    MAX_SHIPPING_ADDRESS,
    MAX_USER_AGENT,
    RiskContext,
)


def _text(limit: int) -> Any:
    return Annotated[str, StringConstraints(min_length=1, max_length=limit)]


class RiskContextIn(Model):
    """Where the request comes from, as the client knows it; every field optional, none
    stored as sent (the counters keep keyed digests)."""

    device_id: _text(MAX_DEVICE_ID) | None = None  # type: ignore[valid-type]
    ip: _text(MAX_IP_TEXT) | None = None  # type: ignore[valid-type]
    user_agent: _text(MAX_USER_AGENT) | None = None  # type: ignore[valid-type]
    shipping_address: _text(MAX_SHIPPING_ADDRESS) | None = None  # type: ignore[valid-type]

    def checked(self) -> RiskContext | None:
        """The domain's context (an IP that is not one refused with ``invalid_input``)."""
        return RiskContext.from_mapping(self.model_dump())


class WithRiskContext(Model):
    """A body that may carry ``risk_context`` (checkouts, payments, top-ups, withdrawals)."""

    risk_context: RiskContextIn | None = Field(
        None, description="device, IP, user agent and shipping address, for the risk check"
    )

    def risk(self) -> RiskContext | None:
        return None if self.risk_context is None else self.risk_context.checked()


class ChallengeAnswer(Model):
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class ChallengeOut(BaseModel):
    object: Literal["risk_challenge"] = "risk_challenge"
    id: str
    decision: str
    reference: str = Field(description="what was challenged: the order id of a checkout")
    status: Literal["pending", "passed", "failed"]
    attempts: int


class SandboxCodeOut(BaseModel):
    object: Literal["sandbox_code"] = "sandbox_code"
    challenge: str
    code: str


class ReasonOut(BaseModel):
    code: str
    message: str
    features: dict[str, Any]


class DecisionOut(BaseModel):
    object: Literal["risk_decision"] = "risk_decision"
    id: str
    kind: str
    reference: str
    customer: str | None
    merchant: str | None
    amount: int
    currency: str
    payment_method: str
    action: str
    effective_action: str
    status: str
    label: str
    score: float | None
    reasons: list[ReasonOut]
    rules_fired: list[str]
    shadow_rules_fired: list[str]
    rule_set_version: int
    features: dict[str, Any]
    created: Any


class CaseOut(BaseModel):
    object: Literal["risk_case"] = "risk_case"
    id: str
    kind: str
    status: str
    order: str | None
    decision: str | None
    customer: str | None
    merchant: str | None
    amount: int
    currency: str
    summary: str
    assignee: str | None
    outcome: str | None
    outcome_reason: str | None
    opened: Any
    due: Any
    late: bool
    decided: Any
    decided_by: str | None


class CaseEventOut(BaseModel):
    seq: int
    kind: str
    actor: str
    body: dict[str, Any]
    at: Any


class CaseDetailOut(CaseOut):
    events: list[CaseEventOut]
    evidence: dict[str, Any]


class CaseAssign(Model):
    assignee: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class CaseNote(Model):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
    multiline_fields = frozenset({"text"})


class CaseDecide(Model):
    outcome: Literal["release", "refund", "reject"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


_BacktestCurrency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class RulePromotion(Model):
    currency: _BacktestCurrency = Field(
        "USD", description="the currency of the stored history the change is backtested on"
    )


class RuleIn(Model):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
    version: Annotated[int, Strict(), Field(ge=1, le=1_000_000)]
    owner: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    reason_code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    description: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    action: Literal["challenge", "review", "block"]
    expression: Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
    mode: Literal["live", "shadow"] = "shadow"
    currency: _BacktestCurrency = Field(
        "USD", description="the currency of the stored history the rule is backtested on"
    )


class RuleSetOut(BaseModel):
    object: Literal["risk_rule_set"] = "risk_rule_set"
    version: int
    rules: list[dict[str, Any]]
    history: list[dict[str, Any]]


class ReserveOut(BaseModel):
    reserve_bp: int = Field(description="basis points of each T+1 settlement held back")
    hold_days: int = Field(description="how long each hold is kept before it is released")


class MerchantRiskOut(BaseModel):
    object: Literal["merchant_risk"] = "merchant_risk"
    merchant: str
    rank: int = Field(description="1 = the riskiest merchant of the last scoring run")
    score: int = Field(description="0-100, from the merchant's last 30 days of fund flows")
    tier: Literal["low", "medium", "high"]
    reserve: ReserveOut = Field(description="the reserve the tier asks")
    reserve_in_force: ReserveOut = Field(description="the tier's, or a risk officer's policy")
    reasons: list[dict[str, Any]]
    signals: dict[str, int]
    scored: Any


class ReserveHoldOut(BaseModel):
    id: str
    currency: str
    amount: int
    drawn: int = Field(description="what refunds after release took of it")
    reserve_bp: int
    batch: str
    held: Any
    release_at: Any
    released: Any


class MerchantRiskDetailOut(MerchantRiskOut):
    history: list[dict[str, Any]] = Field(description="earlier scores, newest first")
    holds: list[ReserveHoldOut]
    policy: dict[str, Any] | None


class ReservePolicyIn(Model):
    """A risk officer's reserve for one merchant; both null: back to the tier's reserve."""

    reserve_bp: Annotated[int, Strict(), Field(ge=0, le=5_000)] | None
    hold_days: Annotated[int, Strict(), Field(ge=0, le=180)] | None
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class FraudModelOut(BaseModel):
    object: Literal["risk_model"] = "risk_model"
    id: str
    status: Literal["champion", "challenger"]
    metrics: dict[str, Any]
    created: Any


class ModelTrainIn(Model):
    champion: Annotated[bool, Strict()] = Field(
        False, description="promote it at once (else a challenger)"
    )
    seed: Annotated[int, Strict(), Field(ge=0, le=2**31 - 1)] = 7


class ModelDayOut(BaseModel):
    day: str
    decisions: int
    scored: int
    score_p50: float | None
    score_p90: float | None
    psi: float | None = Field(description="of the day's scores against the champion's holdout")
    model_flags: int
    model_precision: float | None = Field(description="fraud share of labelled model flags")
    rule_flags: int
    rule_precision: float | None
