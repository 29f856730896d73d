"""Python SDK for the embedfin API.

    from embedfin.client import Client

    with Client("efk_…", base_url="http://127.0.0.1:8000") as api:
        buyer = api.create_customer(name="Ada Lovelace")
        api.top_up(buyer.id, 10_000, "EUR")
        order = api.checkout(customer=buyer.id, merchant="mer_…", currency="EUR",
                             lines=[{"sku": "book", "quantity": 1, "unit_price": 2_500}])

Every POST carries an Idempotency-Key (a new UUID unless you pass ``idempotency_key``), so the
SDK's own retries — on network errors, 5xx and 429 (honouring Retry-After), with exponential
backoff — can never apply a command twice. Errors raise ``ApiError`` with the problem's ``code``.
``verify_webhook`` checks a delivery's ``Embedfin-Signature`` header.

Risk context: give the client the device's context once (``Client(…, risk_context={"device_id":
…, "ip": …})``) and it goes with every checkout, payment, top-up and withdrawal (a call's own
``risk_context`` wins). A ``challenge_required`` answer raises ``ApiError`` whose ``body`` holds
the ``challenge_id``: ``answer_challenge`` it, then retry the payment.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from embedfin.api.schemas import (
    ApiKeyOut,
    AuditEntryOut,
    BalanceOut,
    CreditDecisionOut,
    CustomerOut,
    EventOut,
    FxQuoteOut,
    LoanOut,
    MerchantOut,
    OrderOut,
    PingOut,
    ReconciliationOut,
    SettlementRunOut,
    WalletMovementOut,
    WebhookDeliveryOut,
    WebhookEndpointOut,
)
from embedfin.api.schemas.aml import (
    AlertOut,
    DiligencePackOut,
    HitOut,
    KybOut,
    MonitorOut,
    PartyOut,
    ReportOut,
    RulePackOut,
    StandingOut,
    WatchlistLoadOut,
)
from embedfin.api.schemas.risk import (
    CaseDetailOut,
    CaseOut,
    ChallengeOut,
    DecisionOut,
    FraudModelOut,
    MerchantRiskDetailOut,
    MerchantRiskOut,
    ModelDayOut,
    RuleSetOut,
    SandboxCodeOut,
)
from embedfin.client.signing import HEADER as SIGNATURE_HEADER
from embedfin.client.signing import SignatureError
from embedfin.client.signing import verify as verify_webhook

__all__ = ["SIGNATURE_HEADER", "ApiError", "Client", "SignatureError", "verify_webhook"]

M = TypeVar("M", bound=BaseModel)
RETRY_STATUS = {429, 500, 502, 503, 504}


class ApiError(Exception):
    """A problem answer: ``status``, machine ``code``, human ``detail``, the whole ``body``."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        self.status = status
        self.code = str(body.get("code", "http_error"))
        self.detail = str(body.get("detail", ""))
        self.body = dict(body)
        super().__init__(f"{status} {self.code}: {self.detail}")


class Client:
    def __init__(
        self,
        api_key: str | None,
        base_url: str = "http://127.0.0.1:8000",
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff_s: float = 0.25,
        transport: httpx.BaseTransport | None = None,
        risk_context: Mapping[str, str] | None = None,
    ) -> None:
        self.risk_context = dict(risk_context) if risk_context else None
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "embedfin-python"}
            | ({} if api_key is None else {"Authorization": f"Bearer {api_key}"}),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- transport -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {}
        if method in ("POST", "PUT"):
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        query = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self._http.request(
                    method, path, json=json, params=query, headers=headers
                )
            except httpx.TransportError:
                if last:
                    raise
                self._sleep(attempt, None)
                continue
            if response.status_code in RETRY_STATUS and not last:
                self._sleep(attempt, response.headers.get("Retry-After"))
                continue
            if response.status_code >= 400:
                try:
                    body = response.json()
                except ValueError:
                    body = {"code": "http_error", "detail": response.text[:500]}
                raise ApiError(response.status_code, body)
            return response.json()
        raise RuntimeError("unreachable")

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        wait = self.backoff_s * 2**attempt * (0.5 + random.random())
        if retry_after is not None and retry_after.isdigit():
            wait = max(wait, float(retry_after))
        time.sleep(min(wait, 30.0))

    def _with_context(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``body`` with the client's risk context, unless it carries its own."""
        if self.risk_context is None or "risk_context" in body:
            return dict(body)
        return {**body, "risk_context": self.risk_context}

    def _post(self, model: type[M], path: str, body: Mapping[str, Any], key: str | None) -> M:
        return model.model_validate(self.request("POST", path, json=body, idempotency_key=key))

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        return model.model_validate(self.request("GET", path, params=params))

    def _pages(self, model: type[M], path: str, **params: Any) -> Iterator[M]:
        """Every object of a list, following ``starting_after`` page by page."""
        after = None
        while True:
            page = self.request("GET", path, params={**params, "starting_after": after})
            items = [model.model_validate(item) for item in page["data"]]
            yield from items
            if not page["has_more"] or not items:
                return
            after = page["data"][-1]["id"]

    # --- meta ----------------------------------------------------------------------------------
    def ping(self) -> PingOut:
        return self._get(PingOut, "/v1/ping")

    # --- merchants -----------------------------------------------------------------------------
    def create_merchant(
        self,
        *,
        category: str,
        country: str,
        settlement_currency: str,
        payout_preference: str = "t1",
        kyc_status: str = "pending",
        idempotency_key: str | None = None,
    ) -> MerchantOut:
        """Register a merchant: ``pending`` (it may not sell) unless you state ``verified``."""
        body = {
            "category": category,
            "country": country,
            "settlement_currency": settlement_currency,
            "payout_preference": payout_preference,
            "kyc_status": kyc_status,
        }
        return self._post(MerchantOut, "/v1/merchants", body, idempotency_key)

    def get_merchant(self, merchant_id: str) -> MerchantOut:
        return self._get(MerchantOut, f"/v1/merchants/{merchant_id}")

    def list_merchants(self) -> Iterator[MerchantOut]:
        return self._pages(MerchantOut, "/v1/merchants", limit=100)

    def merchant_balance(self, merchant_id: str, currency: str | None = None) -> BalanceOut:
        return self._get(BalanceOut, f"/v1/merchants/{merchant_id}/balance", currency=currency)

    # --- customers and wallets -----------------------------------------------------------------
    def create_customer(
        self,
        *,
        name: str,
        phone: str | None = None,
        email: str | None = None,
        idempotency_key: str | None = None,
    ) -> CustomerOut:
        body = {"name": name, "phone": phone, "email": email}
        return self._post(CustomerOut, "/v1/customers", body, idempotency_key)

    def get_customer(self, customer_id: str) -> CustomerOut:
        return self._get(CustomerOut, f"/v1/customers/{customer_id}")

    def list_customers(self) -> Iterator[CustomerOut]:
        return self._pages(CustomerOut, "/v1/customers", limit=100)

    def customer_balance(self, customer_id: str, currency: str) -> BalanceOut:
        return self._get(BalanceOut, f"/v1/customers/{customer_id}/balance", currency=currency)

    def top_up(
        self,
        customer_id: str,
        amount: int,
        currency: str,
        channel: str = "card-acquirer",
        *,
        idempotency_key: str | None = None,
    ) -> WalletMovementOut:
        body = self._with_context({"amount": amount, "currency": currency, "channel": channel})
        path = f"/v1/customers/{customer_id}/top_ups"
        return self._post(WalletMovementOut, path, body, idempotency_key)

    def withdraw(
        self,
        customer_id: str,
        amount: int,
        currency: str,
        bank_token: str,
        bank_last4: str,
        *,
        idempotency_key: str | None = None,
    ) -> WalletMovementOut:
        body = self._with_context(
            {
                "amount": amount,
                "currency": currency,
                "bank_token": bank_token,
                "bank_last4": bank_last4,
            }
        )
        path = f"/v1/customers/{customer_id}/withdrawals"
        return self._post(WalletMovementOut, path, body, idempotency_key)

    # --- orders --------------------------------------------------------------------------------
    def create_order(self, *, idempotency_key: str | None = None, **body: Any) -> OrderOut:
        return self._post(OrderOut, "/v1/orders", body, idempotency_key)

    def checkout(self, *, idempotency_key: str | None = None, **body: Any) -> OrderOut:
        """Place and pay an order in one call (``payment_method``: wallet, channel, split)."""
        return self._post(OrderOut, "/v1/checkouts", self._with_context(body), idempotency_key)

    def get_order(self, order_id: str) -> OrderOut:
        return self._get(OrderOut, f"/v1/orders/{order_id}")

    def list_orders(self, **filters: Any) -> Iterator[OrderOut]:
        return self._pages(OrderOut, "/v1/orders", limit=100, **filters)

    def order_action(
        self,
        order_id: str,
        action: str,
        body: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> OrderOut:
        """``pay``, ``ship``, ``confirm``, ``cancel``, ``refunds``, ``extend``, ``disputes``,
        ``disputes/resolve``."""
        path = f"/v1/orders/{order_id}/{action}"
        sent = self._with_context(body or {}) if action == "pay" else dict(body or {})
        return self._post(OrderOut, path, sent, idempotency_key)

    def ship(self, order_id: str, tracking: str) -> OrderOut:
        return self.order_action(order_id, "ship", {"tracking": tracking})

    def confirm(self, order_id: str) -> OrderOut:
        return self.order_action(order_id, "confirm")

    def refund(self, order_id: str, amount: int, currency: str) -> OrderOut:
        return self.order_action(order_id, "refunds", {"amount": amount, "currency": currency})

    # --- fx, settlement, reconciliation ----------------------------------------------------------
    def fx_quote(
        self, customer: str, sell_amount: int, sell_currency: str, buy_currency: str
    ) -> FxQuoteOut:
        body = {
            "customer": customer,
            "sell_amount": sell_amount,
            "sell_currency": sell_currency,
            "buy_currency": buy_currency,
        }
        return self._post(FxQuoteOut, "/v1/fx_quotes", body, None)

    def fx_convert(self, quote_id: str) -> FxQuoteOut:
        return self._post(FxQuoteOut, f"/v1/fx_quotes/{quote_id}/convert", {}, None)

    def settlement_run(self, kind: str, **body: Any) -> SettlementRunOut:
        return self._post(SettlementRunOut, "/v1/settlement_runs", {"kind": kind, **body}, None)

    def reconcile(self, channel: str, fmt: str, content: str) -> ReconciliationOut:
        body = {"channel": channel, "format": fmt, "content": content}
        return self._post(ReconciliationOut, "/v1/reconciliations", body, None)

    # --- keys, events, webhooks, audit ---------------------------------------------------------
    def create_api_key(self, role: str, name: str, merchant: str | None = None) -> ApiKeyOut:
        body = {"role": role, "name": name, "merchant": merchant}
        return self._post(ApiKeyOut, "/v1/api_keys", body, None)

    def revoke_api_key(self, key_id: str) -> ApiKeyOut:
        return self._post(ApiKeyOut, f"/v1/api_keys/{key_id}/revoke", {}, None)

    def events(self, type: str | None = None) -> Iterator[EventOut]:
        return self._pages(EventOut, "/v1/events", limit=100, type=type)

    def create_webhook_endpoint(self, url: str, event_types: list[str]) -> WebhookEndpointOut:
        body = {"url": url, "event_types": event_types}
        return self._post(WebhookEndpointOut, "/v1/webhook_endpoints", body, None)

    def rotate_webhook_secret(self, endpoint_id: str) -> WebhookEndpointOut:
        path = f"/v1/webhook_endpoints/{endpoint_id}/rotate_secret"
        return self._post(WebhookEndpointOut, path, {}, None)

    def webhook_deliveries(self, endpoint_id: str) -> Iterator[WebhookDeliveryOut]:
        path = f"/v1/webhook_endpoints/{endpoint_id}/deliveries"
        return self._pages(WebhookDeliveryOut, path, limit=100)

    def replay_webhook_delivery(self, delivery_id: str) -> WebhookDeliveryOut:
        path = f"/v1/webhook_deliveries/{delivery_id}/replay"
        return self._post(WebhookDeliveryOut, path, {}, None)

    # --- credit --------------------------------------------------------------------------------
    def credit_decision(
        self,
        customer_id: str,
        amount: int,
        currency: str,
        category: str,
        *,
        idempotency_key: str | None = None,
    ) -> CreditDecisionOut:
        """Approve, counter-offer or decline credit for a purchase, with the plans offered."""
        body = {"customer": customer_id, "amount": amount, "currency": currency}
        path = "/v1/credit_decisions"
        return self._post(CreditDecisionOut, path, {**body, "category": category}, idempotency_key)

    def finance(
        self,
        order_id: str,
        decision_id: str,
        plan: str,
        *,
        idempotency_key: str | None = None,
        risk_context: Mapping[str, str] | None = None,
    ) -> LoanOut:
        """Pay an order with a plan of a credit decision (a loan from the platform's funder)."""
        given = {"risk_context": dict(risk_context)} if risk_context else {}
        body = self._with_context({"decision": decision_id, "plan": plan, **given})
        return self._post(LoanOut, f"/v1/orders/{order_id}/finance", body, idempotency_key)

    # --- risk ----------------------------------------------------------------------------------
    def answer_challenge(self, challenge_id: str, code: str) -> ChallengeOut:
        path = f"/v1/risk/challenges/{challenge_id}/answers"
        return self._post(ChallengeOut, path, {"code": code}, None)

    def sandbox_code(self, challenge_id: str) -> str:
        """The code the sandbox would have sent the buyer (operator keys only)."""
        path = f"/v1/risk/challenges/{challenge_id}/sandbox_code"
        return self._get(SandboxCodeOut, path).code

    def risk_decision(self, decision_id: str) -> DecisionOut:
        return self._get(DecisionOut, f"/v1/risk/decisions/{decision_id}")

    def risk_cases(self, status: str | None = None, limit: int = 100) -> list[CaseOut]:
        """The queue's first ``limit`` cases, most urgent first."""
        params: dict[str, Any] = {"limit": limit} | ({"status": status} if status else {})
        page = self.request("GET", "/v1/risk/cases", params=params)
        return [CaseOut.model_validate(item) for item in page["data"]]

    def risk_case(self, case_id: str) -> CaseDetailOut:
        return self._get(CaseDetailOut, f"/v1/risk/cases/{case_id}")

    def assign_case(self, case_id: str, assignee: str) -> CaseOut:
        path = f"/v1/risk/cases/{case_id}/assignment"
        return self._post(CaseOut, path, {"assignee": assignee}, None)

    def note_case(self, case_id: str, text: str) -> CaseOut:
        return self._post(CaseOut, f"/v1/risk/cases/{case_id}/notes", {"text": text}, None)

    def decide_case(
        self, case_id: str, outcome: str, reason: str, *, idempotency_key: str | None = None
    ) -> CaseOut:
        """``release``, ``refund`` (a held order) or ``reject`` (a refused withdrawal)."""
        body = {"outcome": outcome, "reason": reason}
        return self._post(CaseOut, f"/v1/risk/cases/{case_id}/decision", body, idempotency_key)

    def risk_rules(self) -> RuleSetOut:
        return self._get(RuleSetOut, "/v1/risk/rules")

    def publish_rule(self, **rule: Any) -> RuleSetOut:
        return self._post(RuleSetOut, "/v1/risk/rules", rule, None)

    def fraud_models(self) -> list[FraudModelOut]:
        page = self.request("GET", "/v1/risk/models")
        return [FraudModelOut.model_validate(item) for item in page["data"]]

    def train_fraud_model(
        self, *, champion: bool = False, seed: int = 7, idempotency_key: str | None = None
    ) -> FraudModelOut:
        """Train on the labelled decisions; a challenger unless ``champion``."""
        body = {"champion": champion, "seed": seed}
        return self._post(FraudModelOut, "/v1/risk/models", body, idempotency_key)

    def promote_fraud_model(self, model_id: str) -> FraudModelOut:
        return self._post(FraudModelOut, f"/v1/risk/models/{model_id}/promotion", {}, None)

    def model_monitoring(self, days: int = 30) -> list[ModelDayOut]:
        found = self.request("GET", "/v1/risk/monitoring", params={"days": days})
        return [ModelDayOut.model_validate(item) for item in found]

    def merchant_ranking(self, limit: int = 20) -> list[MerchantRiskOut]:
        """The merchants of the last scoring run, riskiest first."""
        page = self.request("GET", "/v1/risk/merchants", params={"limit": limit})
        return [MerchantRiskOut.model_validate(item) for item in page["data"]]

    def score_merchants(self, *, idempotency_key: str | None = None) -> list[MerchantRiskOut]:
        """Score every merchant now; the ranking's first 20."""
        page = self.request(
            "POST", "/v1/risk/merchants/scoring", json={}, idempotency_key=idempotency_key
        )
        return [MerchantRiskOut.model_validate(item) for item in page["data"]]

    def merchant_risk(self, merchant_id: str) -> MerchantRiskDetailOut:
        return self._get(MerchantRiskDetailOut, f"/v1/risk/merchants/{merchant_id}")

    def set_merchant_reserve(
        self,
        merchant_id: str,
        reserve_bp: int | None,
        hold_days: int | None,
        reason: str,
        *,
        idempotency_key: str | None = None,
    ) -> MerchantRiskDetailOut:
        """A rolling reserve for the merchant over its tier's; ``None`` twice: the tier's."""
        body = {"reserve_bp": reserve_bp, "hold_days": hold_days, "reason": reason}
        path = f"/v1/risk/merchants/{merchant_id}/reserve"
        return self._post(MerchantRiskDetailOut, path, body, idempotency_key)

    # --- compliance ------------------------------------------------------------------------
    def load_watchlist(
        self, name: str, ftm: str, *, idempotency_key: str | None = None
    ) -> WatchlistLoadOut:
        """Make a FollowTheMoney list (one JSON entity per line) the active one; every known
        party is screened against it."""
        body = {"name": name, "ftm": ftm}
        return self._post(WatchlistLoadOut, "/v1/aml/watchlists", body, idempotency_key)

    def record_party(
        self,
        party_kind: str,
        party_id: str,
        *,
        name: str,
        kind: str,
        birth_date: str | None = None,
        country: str | None = None,
        idempotency_key: str | None = None,
    ) -> PartyOut:
        """A buyer's or merchant's due-diligence details, screened at once; ``held`` says why
        its payouts and withdrawals wait, if they do."""
        body = {
            "party_kind": party_kind,
            "party_id": party_id,
            "name": name,
            "kind": kind,
            "birth_date": birth_date,
            "country": country,
        }
        return self._post(PartyOut, "/v1/aml/parties", body, idempotency_key)

    def party(self, party_kind: str, party_id: str) -> PartyOut:
        return self._get(PartyOut, f"/v1/aml/parties/{party_kind}/{party_id}")

    def screening_hits(self, status: str | None = None, limit: int = 100) -> list[HitOut]:
        params: dict[str, Any] = {"limit": limit} | ({"status": status} if status else {})
        page = self.request("GET", "/v1/aml/hits", params=params)
        return [HitOut.model_validate(item) for item in page["data"]]

    def rule_pack(self) -> RulePackOut:
        """The tenant's threshold rule pack (large-value or CTR lines, deadlines)."""
        return self._get(RulePackOut, "/v1/aml/rulepack")

    def set_rule_pack(
        self,
        shipped: str | None = None,
        pack: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RulePackOut:
        """A shipped pack (``prc``, ``us``) or a whole pack of one's own, validated first."""
        body = {"shipped": shipped, "pack": dict(pack) if pack is not None else None}
        return RulePackOut.model_validate(
            self.request("PUT", "/v1/aml/rulepack", json=body, idempotency_key=idempotency_key)
        )

    def set_diligence_pack(
        self,
        shipped: str | None = None,
        pack: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> DiligencePackOut:
        """Verification levels and balance limits: ``prc`` (PBoC 2015 No. 43), ``none``, or own."""
        body = {"shipped": shipped, "pack": dict(pack) if pack is not None else None}
        return DiligencePackOut.model_validate(
            self.request("PUT", "/v1/aml/diligence", json=body, idempotency_key=idempotency_key)
        )

    def verify_buyer(
        self,
        buyer_id: str,
        channels: list[str],
        face_to_face: bool = False,
        *,
        idempotency_key: str | None = None,
    ) -> StandingOut:
        """Record how a buyer's identity was verified; its level and what is left follow."""
        body = {"buyer_id": buyer_id, "channels": channels, "face_to_face": face_to_face}
        return self._post(StandingOut, "/v1/aml/verifications", body, idempotency_key)

    def submit_kyb(
        self,
        merchant_id: str,
        *,
        legal_name: str,
        registration_number: str,
        country: str,
        owners: list[Mapping[str, Any]] | None = None,
        idempotency_key: str | None = None,
    ) -> KybOut:
        """A merchant's legal identity and beneficial owners, for review (a kyb_review case)."""
        body = {"legal_name": legal_name, "registration_number": registration_number,
                "country": country, "owners": [dict(o) for o in owners or []]}  # fmt: skip
        return self._post(KybOut, f"/v1/aml/merchants/{merchant_id}/kyb", body, idempotency_key)

    def kyb(self, merchant_id: str) -> KybOut:
        return self._get(KybOut, f"/v1/aml/merchants/{merchant_id}/kyb")

    def verification(self, buyer_id: str) -> StandingOut:
        return self._get(StandingOut, f"/v1/aml/verifications/{buyer_id}")

    def run_monitor(self, days: int = 30, *, idempotency_key: str | None = None) -> MonitorOut:
        """Every typology over the journal's last ``days``; new alerts open cases."""
        return self._post(MonitorOut, "/v1/aml/monitor", {"days": days}, idempotency_key)

    def aml_alerts(self, typology: str | None = None, limit: int = 100) -> list[AlertOut]:
        params: dict[str, Any] = {"limit": limit, "typology": typology}
        page = self.request("GET", "/v1/aml/alerts", params=params)
        return [AlertOut.model_validate(item) for item in page["data"]]

    def aml_reports(
        self, status: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[ReportOut]:
        """Reports to the FIU, due ones first by deadline."""
        params: dict[str, Any] = {"limit": limit, "status": status, "kind": kind}
        page = self.request("GET", "/v1/aml/reports", params=params)
        return [ReportOut.model_validate(item) for item in page["data"]]

    def aml_report(self, report_id: str) -> ReportOut:
        return self._get(ReportOut, f"/v1/aml/reports/{report_id}")

    def aml_report_document(self, report_id: str) -> dict[str, Any]:
        """A filed report's document (``embedfin.aml-report/1``), digest checked."""
        found: dict[str, Any] = self.request("GET", f"/v1/aml/reports/{report_id}/document")
        return found

    def file_report(
        self, report_id: str, narrative: str, *, idempotency_key: str | None = None
    ) -> ReportOut:
        """File a due report; it never changes afterwards."""
        path = f"/v1/aml/reports/{report_id}/file"
        return self._post(ReportOut, path, {"narrative": narrative}, idempotency_key)

    def correct_report(
        self, report_id: str, narrative: str, reason: str, *, idempotency_key: str | None = None
    ) -> ReportOut:
        """File a correction: a new report naming ``report_id``."""
        path = f"/v1/aml/reports/{report_id}/corrections"
        body = {"narrative": narrative, "reason": reason}
        return self._post(ReportOut, path, body, idempotency_key)

    def audit_log(self, limit: int = 100) -> list[AuditEntryOut]:
        page = self.request("GET", "/v1/audit_log", params={"limit": limit})
        return [AuditEntryOut.model_validate(e) for e in page["data"]]
