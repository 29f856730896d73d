"""All tables, grouped by the context that owns them (one module each), in one SQLAlchemy Core
metadata with Alembic's naming convention. A context writes only its own module's tables; others
read them through the owner's service or a named read model (docs/architecture.md).

Money columns are BIGINT minor units; timestamps of the ledger are BIGINT nanoseconds (UTC).
"""

from __future__ import annotations

from embedfin.db.tables.api import (
    api_keys,
    idempotency_keys,
    tenants,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)
from embedfin.db.tables.commerce import (
    customers,
    merchants,
    order_deliveries,
    order_lines,
    order_returns,
    orders,
    reviews,
)
from embedfin.db.tables.compliance import (
    aml_parties,
    aml_screening_hits,
    aml_watch_entries,
    aml_watchlists,
)
from embedfin.db.tables.credit import (
    credit_decisions,
    credit_feature_events,
    credit_models,
    credit_preapprovals,
)
from embedfin.db.tables.dashboard import dashboard_sessions
from embedfin.db.tables.ledger import (
    account_history,
    accounts,
    ledger_meta,
    pending_transfers,
    transfers,
)
from embedfin.db.tables.lending import (
    collection_contacts,
    complaints,
    credit_lines,
    loan_events,
    loan_installments,
    loans,
)
from embedfin.db.tables.metadata import metadata
from embedfin.db.tables.outbox import event_cursors, outbox_events, parked_events
from embedfin.db.tables.payments import (
    fx_quotes,
    invoices,
    merchant_bank_accounts,
    payment_accounts,
    payment_attempts,
    payouts,
    recon_breaks,
    refunds,
    reserve_holds,
    wallet_movements,
)
from embedfin.db.tables.risk import (
    risk_case_events,
    risk_cases,
    risk_challenges,
    risk_decisions,
    risk_links,
    risk_merchant_policies,
    risk_merchant_scores,
    risk_models,
    risk_observations,
    risk_rule_sets,
)
from embedfin.db.tables.security import audit_log

#: owner context → the tables it owns (the architecture test enforces it)
OWNERS: dict[str, tuple[str, ...]] = {
    "ledger": (
        "accounts",
        "transfers",
        "pending_transfers",
        "account_history",
        "ledger_meta",
    ),
    "outbox": (
        "outbox_events",
        "event_cursors",
        "parked_events",
    ),
    "payments": (
        "payment_accounts",
        "wallet_movements",
        "refunds",
        "payment_attempts",
        "merchant_bank_accounts",
        "payouts",
        "fx_quotes",
        "recon_breaks",
        "invoices",
        "reserve_holds",
    ),
    "commerce": (
        "merchants",
        "orders",
        "order_lines",
        "customers",
        "order_deliveries",
        "order_returns",
        "reviews",
    ),
    "api": (
        "tenants",
        "api_keys",
        "idempotency_keys",
        "webhook_endpoints",
        "webhook_deliveries",
        "webhook_attempts",
    ),
    "security": ("audit_log",),
    "lending": (
        "loans",
        "loan_installments",
        "loan_events",
        "credit_lines",
        "collection_contacts",
        "complaints",
    ),
    "credit": (
        "credit_models",
        "credit_decisions",
        "credit_feature_events",
        "credit_preapprovals",
    ),
    "dashboard": ("dashboard_sessions",),
    "risk": (
        "risk_rule_sets",
        "risk_decisions",
        "risk_observations",
        "risk_links",
        "risk_challenges",
        "risk_cases",
        "risk_case_events",
        "risk_models",
        "risk_merchant_scores",
        "risk_merchant_policies",
    ),
    "compliance": (
        "aml_watchlists",
        "aml_watch_entries",
        "aml_parties",
        "aml_screening_hits",
    ),
}

__all__ = [
    "OWNERS",
    "account_history",
    "accounts",
    "aml_parties",
    "aml_screening_hits",
    "aml_watch_entries",
    "aml_watchlists",
    "api_keys",
    "audit_log",
    "collection_contacts",
    "complaints",
    "credit_decisions",
    "credit_feature_events",
    "credit_lines",
    "credit_models",
    "credit_preapprovals",
    "customers",
    "dashboard_sessions",
    "event_cursors",
    "fx_quotes",
    "idempotency_keys",
    "invoices",
    "ledger_meta",
    "loan_events",
    "loan_installments",
    "loans",
    "merchant_bank_accounts",
    "merchants",
    "metadata",
    "order_deliveries",
    "order_lines",
    "order_returns",
    "orders",
    "outbox_events",
    "parked_events",
    "payment_accounts",
    "payment_attempts",
    "payouts",
    "pending_transfers",
    "recon_breaks",
    "refunds",
    "reserve_holds",
    "reviews",
    "risk_case_events",
    "risk_cases",
    "risk_challenges",
    "risk_decisions",
    "risk_links",
    "risk_merchant_policies",
    "risk_merchant_scores",
    "risk_models",
    "risk_observations",
    "risk_rule_sets",
    "tenants",
    "transfers",
    "wallet_movements",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
]
