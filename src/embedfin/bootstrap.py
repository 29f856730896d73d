"""The composition root: the one place where embedfin's contexts are put together.

Contexts declare their parts in their own modules and never find each other by import side
effects; this module combines them explicitly:

* ``build_chart`` — the chart of accounts and transfer codes, every context's block;
* ``TenantServices`` / ``Services`` — one tenant's services, each built once and wired to the
  others (checkout → channel payments → refunds with lending as the loan port, after-sales on the
  refunds, credit on lending, …);
* ``INVARIANTS`` and ``check_all`` — what ``embedfin check`` verifies, listed here;
* ``build_consumers`` — every outbox consumer, run by ``embedfin.consumers.Runner``.

The API, the CLI, the dashboard, the simulator and the benchmarks all get their wiring here.
Domain packages never import this module.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from embedfin.api.webhook_fanout import WebhookFanOut
from embedfin.commerce.aftersales import AfterSales
from embedfin.commerce.sales import CommerceSales
from embedfin.compliance.aml import check as aml_check
from embedfin.compliance.aml.consumer import MonitorConsumer
from embedfin.compliance.aml.kyb import MerchantReviews
from embedfin.compliance.aml.kyb import hold_reason as kyb_hold_reason
from embedfin.compliance.aml.monitor import Monitoring
from embedfin.compliance.aml.reports import Reports
from embedfin.compliance.aml.service import Screening
from embedfin.compliance.aml.stream import StreamTypologies
from embedfin.compliance.aml.verification import Verification
from embedfin.consumers.base import Consumer
from embedfin.core.errors import NotFound
from embedfin.fundpool import chart as fundpool_chart
from embedfin.fundpool import check as fundpool_check
from embedfin.fundpool.checkout import RedeemAndPay
from embedfin.fundpool.service import FundPool
from embedfin.ledger import check as ledger_check
from embedfin.ledger.chart import Chart
from embedfin.ledger.check import CheckReport, Invariant
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.lending import chart as lending_chart
from embedfin.lending import invariants as lending_invariants
from embedfin.lending.cards import CreditLines
from embedfin.lending.products import JURISDICTIONS, default_catalog
from embedfin.lending.servicing import Lending
from embedfin.payments import chart as payments_chart
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import default_channels
from embedfin.payments.channels.routing import Router
from embedfin.payments.cross_border import CrossBorderCheckout
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.fx import Fx
from embedfin.payments.invoices.issuer import InvoiceConsumer
from embedfin.payments.payouts import reserves, safeguarding
from embedfin.payments.payouts.batches import MerchantSettlement
from embedfin.payments.reconciliation.matching import Reconciliation
from embedfin.payments.refunds import check as refund_check
from embedfin.payments.refunds.service import Refunds
from embedfin.payments.wallets import Wallets
from embedfin.risk import check as risk_check
from embedfin.risk.case_feed import CaseFeed
from embedfin.risk.cases import Cases
from embedfin.risk.challenges import Challenges
from embedfin.risk.config import SANDBOX_SECRET, RiskSettings
from embedfin.risk.gate import NoReserve, NoRiskCheck, ReservePolicy, RiskGate
from embedfin.risk.labels import LabelConsumer
from embedfin.risk.merchants import MerchantRisk
from embedfin.risk.refund_signals import RefundSignals
from embedfin.risk.service import RiskService
from embedfin.scf import chart as scf_chart
from embedfin.scf import check as scf_check
from embedfin.scf.invoices import OrderDocuments
from embedfin.scf.orders import OrderFinancing
from embedfin.scf.service import Certificates
from embedfin.scf.stock import InventoryFinancing
from embedfin.security.crypto import FieldCipher
from embedfin.systemic.service import StressTests
from embedfin.transparency import check as log_check
from embedfin.transparency.service import LogSigner, TransparencyLog

if TYPE_CHECKING:  # credit loads the model stack (pandas, LightGBM): only those who use it pay
    from embedfin.credit.service import CreditService


def build_chart() -> Chart:
    """Every context's block in one chart; raises ``ChartConflict`` if two blocks collide."""
    return Chart([payments_chart.BLOCK, lending_chart.BLOCK, scf_chart.BLOCK, fundpool_chart.BLOCK])


#: Every invariant ``embedfin check`` runs after the ledger's own, in order, by context.
INVARIANTS: Sequence[tuple[str, Invariant]] = (
    ("customer_money_safeguarded", safeguarding.customer_money_is_safeguarded),
    ("refunds_match_orders", refund_check.refunds_match_orders),
    ("refunds_within_sources", refund_check.refunds_within_sources),
    ("wallet_refunds_match_ledger", refund_check.wallet_refunds_match_ledger),
    ("loans_match_ledger", lending_invariants.loans_match_ledger),
    ("lender_books_mirror_custody", lending_invariants.lender_books_mirror_custody),
    ("financed_refunds_reduce_loans", lending_invariants.financed_refunds_reduce_loans),
    ("held_orders_have_open_cases", risk_check.held_orders_have_open_cases),
    ("challenges_match_decisions", risk_check.challenges_match_decisions),
    ("reserves_match_ledger", reserves.reserves_match_ledger),
    ("screening_hits_match_cases", aml_check.screening_hits_match_cases),
    ("monitoring_alerts_match_cases", aml_check.monitoring_alerts_match_cases),
    ("filed_reports_are_whole", aml_check.filed_reports_are_whole),
    ("kyb_reviews_match_merchants", aml_check.kyb_reviews_match_merchants),
    ("one_active_watchlist", aml_check.one_active_watchlist),
    ("log_trees_whole", log_check.log_trees_whole),
    ("log_checkpoints_match_trees", log_check.log_checkpoints_match_trees),
    ("certificates_match_ledger", scf_check.certificates_match_ledger),
    ("certificate_events_in_log", scf_check.certificate_events_in_log),
    ("advances_match_ledger", scf_check.advances_match_ledger),
    ("inventory_loans_match_ledger", scf_check.inventory_loans_match_ledger),
    ("fund_units_match_holdings", fundpool_check.fund_units_match_holdings),
    ("fund_net_assets_match_units", fundpool_check.fund_net_assets_match_units),
    ("fund_income_distributed_or_carried", fundpool_check.fund_income_distributed_or_carried),
    ("fund_money_outside_safeguarding", fundpool_check.fund_money_outside_safeguarding),
)


def check_all(conn: Connection) -> CheckReport:
    """The ledger's invariants and every context's (``embedfin check``)."""
    return ledger_check.check(conn, INVARIANTS)


@dataclass(frozen=True, slots=True)
class Wiring:
    """What every tenant's services share.

    Attributes:
        router: the payment channels and their live routing state (one per process).
        cipher: the field-encryption key ring (personal data, bank tokens).
        jurisdiction: consumer-credit caps (``lending/products.py`` ``JURISDICTIONS``).
        funder_id: who funds the loans credit decisions grant.
        risk: risk control's switch, counter store and challenge key.
        log_signer: the transparency logs' signing key (loaded from the environment or the
            data directory on first use when not given).
    """

    router: Router
    cipher: FieldCipher | None = None
    jurisdiction: str = "CN"
    funder_id: str = "platform"
    risk: RiskSettings = RiskSettings()
    log_signer: LogSigner | None = None


@functools.cache
def _log_signer() -> LogSigner:
    return LogSigner.load()


class TenantServices:
    """One tenant's services, each built on first use and wired to the others."""

    def __init__(self, ledger: Ledger, tenant: str, wiring: Wiring) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.wiring = wiring

    @cached_property
    def cases(self) -> Cases:
        return Cases(
            self.ledger,
            self.tenant,
            _HeldOrders(self),
            after_sales=_AfterSales(self),
            compliance=_ComplianceCases(self),
        )

    @cached_property
    def log(self) -> TransparencyLog:
        """The tenant's verifiable logs (RFC 9162): certificates' events, audit checkpoints."""
        return TransparencyLog(self.ledger, self.tenant, self.wiring.log_signer or _log_signer())

    @cached_property
    def scf(self) -> Certificates:
        """Receivable certificates, every event appended to the tenant's ``scf`` log."""
        return Certificates(self.ledger, self.tenant, self.log)

    @cached_property
    def scf_orders(self) -> OrderFinancing:
        """Purchase orders and funders' advances on them, in the same ``scf`` log."""
        return OrderFinancing(self.scf)

    @cached_property
    def stress(self) -> StressTests:
        """Stress tests on the tenant's exposure network as its books stand (read-only)."""
        return StressTests(self.ledger, self.tenant, self.lending, self.scf, self.scf_orders,
                           self.scf_inventory, self.fundpool)  # fmt: skip

    @cached_property
    def scf_documents(self) -> OrderDocuments:
        """Purchase orders' lines, goods receipts and invoices; a matched invoice certified."""
        return OrderDocuments(self.scf_orders)

    @cached_property
    def scf_inventory(self) -> InventoryFinancing:
        """Distributors' inventory facilities: limits from stock and commerce's sales."""
        return InventoryFinancing(self.scf, CommerceSales())

    @cached_property
    def fundpool(self) -> FundPool:
        """The money-market fund pool: subscriptions from wallets, redemptions, income."""
        return FundPool(self.ledger, self.tenant, holds=self.holds)

    @cached_property
    def redeem_and_pay(self) -> RedeemAndPay:
        """Checkout paid from fund units: a fast redemption and the wallet payment together."""
        return RedeemAndPay(self.fundpool, self.checkout)

    @cached_property
    def screening(self) -> Screening:
        """Sanctions and PEP screening; payments asks it who is held."""
        return Screening(self.ledger, self.tenant, self.cases, cipher=self.wiring.cipher)

    @cached_property
    def kyb(self) -> MerchantReviews:
        """Merchants' business identity reviewed before they are paid out."""
        return MerchantReviews(
            self.ledger, self.tenant, self.cases, self.screening, self.checkout, self.wiring.cipher
        )

    @cached_property
    def holds(self) -> _Holds:
        """What payments asks before money leaves: screening's holds, then a merchant's KYB."""
        return _Holds(self)

    @cached_property
    def verification(self) -> Verification:
        """Customers' verification levels: how much each may pay from its balance."""
        return Verification(self.ledger, self.tenant)

    @cached_property
    def reports(self) -> Reports:
        """Large-value and suspicious-transaction reports, their subjects named by screening."""
        return Reports(self.ledger, self.tenant, self.wiring.cipher, identity=self._identity)

    @cached_property
    def monitoring(self) -> Monitoring:
        """Transaction monitoring: the journal, same-day totals, typology alerts."""
        return Monitoring(self.ledger, self.tenant, self.cases, self.reports)

    def _identity(
        self, party_kind: str, party_id: str
    ) -> tuple[str, str | None, str | None] | None:
        try:
            party, _ = self.screening.party(party_kind, party_id)
        except NotFound:
            return None
        return party.name, party.birth_date, party.country

    @cached_property
    def risk(self) -> RiskService:
        settings = self.wiring.risk
        secret = settings.secret
        if secret is None:
            cipher = self.wiring.cipher
            secret = cipher.derive("risk-challenge-codes") if cipher else SANDBOX_SECRET
        challenges = Challenges(self.tenant, secret)
        return RiskService(self.ledger, self.tenant, settings.counters, self.cases, challenges)

    @cached_property
    def risk_gate(self) -> RiskGate:
        """What money-moving services call: the risk service, or nothing when it is off."""
        return self.risk if self.wiring.risk.enabled else NoRiskCheck()

    @cached_property
    def checkout(self) -> Checkout:
        return Checkout(self.ledger, self.tenant, risk=self.risk_gate, limits=self.verification)

    @cached_property
    def channel_payments(self) -> ChannelPayments:
        return ChannelPayments(self.checkout, self.wiring.router)

    @cached_property
    def lending(self) -> Lending:
        catalog = default_catalog(JURISDICTIONS[self.wiring.jurisdiction])
        return Lending(self.checkout, catalog)

    @cached_property
    def refunds(self) -> Refunds:
        return Refunds(self.channel_payments, financing=self.lending)

    @cached_property
    def aftersales(self) -> AfterSales:
        return AfterSales(self.refunds)

    @cached_property
    def wallets(self) -> Wallets:
        return Wallets(
            self.ledger,
            self.tenant,
            cipher=self.wiring.cipher,
            risk=self.risk_gate,
            holds=self.holds,
            balance_limits=self.verification,
        )

    @cached_property
    def settlement(self) -> MerchantSettlement:
        return MerchantSettlement(
            self.ledger,
            self.tenant,
            self.wiring.cipher,
            risk=self.risk_gate,
            reserves=self.reserve_policy,
            holds=self.holds,
        )

    @cached_property
    def merchant_risk(self) -> MerchantRisk:
        return MerchantRisk(self.ledger, self.tenant, self.cases)

    @cached_property
    def reserve_policy(self) -> ReservePolicy:
        """What T+1 settlements ask: the merchant's rolling reserve, or none when risk is off."""
        return self.merchant_risk if self.wiring.risk.enabled else NoReserve()

    @cached_property
    def fx(self) -> Fx:
        return Fx(self.ledger, self.tenant)

    @cached_property
    def cross_border(self) -> CrossBorderCheckout:
        return CrossBorderCheckout(self.checkout, self.fx)

    @cached_property
    def reconciliation(self) -> Reconciliation:
        return Reconciliation(self.ledger, self.tenant)

    @cached_property
    def credit(self) -> CreditService:
        from embedfin.credit.service import CreditService, ensure_champion

        ensure_champion(self.ledger)  # a fresh database gets a fitted bootstrap scorecard
        return CreditService(self.lending, default_funder=self.wiring.funder_id)

    @cached_property
    def credit_lines(self) -> CreditLines:
        return CreditLines(self.lending)


class _HeldOrders:
    """Cases' port to payments: lift a risk hold, refund a held order in full (built lazily:
    the refund path is wired after the risk gate it depends on)."""

    def __init__(self, services: TenantServices) -> None:
        self._services = services

    def is_held(self, order_id: str) -> bool:
        order = self._services.checkout.find_order(order_id)
        return order is not None and order.risk_hold

    def lift_risk_hold(self, order_id: str) -> None:
        self._services.checkout.lift_risk_hold(order_id)

    def refund_held(self, order_id: str) -> None:
        if self.is_held(order_id):  # a second refund of the same case does nothing
            self._services.refunds.cancel(order_id)


class _Holds:
    """Payments' ``ComplianceHolds`` port: a party held by screening, or a merchant not (or no
    longer) KYB-verified."""

    def __init__(self, services: TenantServices) -> None:
        self._services = services

    def catch_up(self, party_kind: str | None = None, party_id: str | None = None) -> int:
        return self._services.screening.catch_up(party_kind, party_id)

    def hold_of(self, tx: LedgerTransaction, party_kind: str, party_id: str) -> str | None:
        held = self._services.screening.hold_of(tx, party_kind, party_id)
        if held is not None or party_kind != "merchant":
            return held
        try:
            status = self._services.checkout.kyc_status_of(tx, party_id)
        except NotFound:
            return None  # a payout of an account no merchant row names (the platform's own)
        return kyb_hold_reason(status, party_id)


class _ComplianceCases:
    """Compliance cases' port: a sanctions hit's decision reaches the screening's hits, a
    monitoring alert's its alert (built lazily: both open their cases in the queue)."""

    def __init__(self, services: TenantServices) -> None:
        self._services = services

    def decided(self, tx: LedgerTransaction, kind: str, case_id: str, outcome: str) -> None:
        if kind == "sanctions_hit":
            self._services.screening.decided(tx, case_id, outcome)
        elif kind == "kyb_review":
            self._services.kyb.decided(tx, case_id, outcome)
        else:
            self._services.monitoring.decided(tx, case_id, outcome)


class _AfterSales:
    """Dispute and return cases' port: settle them through the after-sales services."""

    def __init__(self, services: TenantServices) -> None:
        self._services = services

    def resolve_dispute(self, order_id: str, outcome: str) -> None:
        self._services.refunds.resolve_dispute(order_id, outcome)

    def settle_return(self, order_id: str, accept: bool) -> None:
        if accept:
            self._services.aftersales.receive_return(order_id)
        else:
            self._services.aftersales.reject_return(order_id)


class Services:
    """Every tenant's services on one ledger, built once per tenant (thread-safe)."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        router: Router | None = None,
        cipher: FieldCipher | None = None,
        jurisdiction: str = "CN",
        funder_id: str = "platform",
        risk: RiskSettings | None = None,
    ) -> None:
        self.ledger = ledger
        self.wiring = Wiring(
            router or Router(default_channels()),
            cipher,
            jurisdiction,
            funder_id,
            risk or RiskSettings.from_env(),
        )
        self._tenants: dict[str, TenantServices] = {}
        self._lock = threading.Lock()

    def tenant(self, tenant: str) -> TenantServices:
        found = self._tenants.get(tenant)
        if found is None:
            with self._lock:
                found = self._tenants.setdefault(
                    tenant, TenantServices(self.ledger, tenant, self.wiring)
                )
        return found


def build_consumers(ledger: Ledger, risk: RiskSettings) -> list[Consumer]:
    """Every outbox consumer, in the order a pass of the runner takes them: credit features
    (decisions read them), invoices, risk's consumers (:func:`risk_consumers`), then the webhook
    fan-out (which also tells endpoints of the ``invoice_issued`` events the invoices just
    emitted). ``risk`` is the platform's risk settings: refunds go into its counter store."""
    from embedfin.credit.pipeline import FeatureConsumer  # the model stack, on first use only

    typologies = StreamTypologies()  # the stream's state, kept between batches
    return [
        FeatureConsumer(),
        InvoiceConsumer(),
        *risk_consumers(ledger, risk),
        MonitorConsumer(lambda tenant: _stream_monitoring(ledger, tenant, typologies)),
        WebhookFanOut(ledger.clock),
    ]


def _stream_monitoring(ledger: Ledger, tenant: str, typologies: StreamTypologies) -> Monitoring:
    """What the streaming monitor needs: the journal, the totals and the reports they make due
    (no cipher: a due report holds no personal data), the streaming typologies and the cases
    their alerts open."""
    return Monitoring(
        ledger, tenant, Cases(ledger, tenant, None), Reports(ledger, tenant),
        typologies=typologies,
    )  # fmt: skip


def risk_consumers(ledger: Ledger, risk: RiskSettings) -> list[Consumer]:
    """Risk control's outbox consumers: training labels, disputes and returns into the case
    queue, refunds into the buyers' online signals."""
    return [
        LabelConsumer(),
        CaseFeed(lambda tenant: Cases(ledger, tenant, None)),
        RefundSignals(risk.counters),
    ]
