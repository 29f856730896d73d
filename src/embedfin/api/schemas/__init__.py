"""Request and response bodies, one module per resource (``common`` holds what they share).

The names are re-exported here for importers that predate the split (the client, the dashboard);
new code imports from the resource's module.
"""

from embedfin.api.schemas.after_sales import (
    ReturnIn,
    ReviewIn,
)
from embedfin.api.schemas.audit import (
    AuditEntryOut,
)
from embedfin.api.schemas.common import (
    PROBLEM_RESPONSES,
    Amount,
    Currency,
    Limit,
    Model,
    Name,
    ObjectId,
    Page,
    Problem,
    Text200,
    ts,
)
from embedfin.api.schemas.credit_decisions import (
    CreditDecisionCreate,
    CreditDecisionOut,
    PlanOfferOut,
    ReasonOut,
)
from embedfin.api.schemas.credit_lines import (
    CreditLineCreate,
    CreditLineOut,
    LimitIn,
)
from embedfin.api.schemas.customers import (
    CustomerCreate,
    CustomerOut,
)
from embedfin.api.schemas.events import (
    EventOut,
)
from embedfin.api.schemas.funders import (
    DepositIn,
    LoanFundingOut,
)
from embedfin.api.schemas.fx import (
    FxQuoteCreate,
    FxQuoteOut,
)
from embedfin.api.schemas.keys import (
    ApiKeyCreate,
    ApiKeyOut,
)
from embedfin.api.schemas.loans import (
    CardPayIn,
    FinanceIn,
    LoanOut,
    RepaymentIn,
)
from embedfin.api.schemas.merchants import (
    BankAccountBind,
    BankAccountOut,
    MerchantCreate,
    MerchantOut,
)
from embedfin.api.schemas.meta import (
    PingOut,
)
from embedfin.api.schemas.order_actions import (
    DisputeIn,
    DisputeResolve,
    ExtendIn,
    RefundIn,
    ShipIn,
)
from embedfin.api.schemas.orders import (
    CheckoutCreate,
    LineIn,
    OrderCreate,
    OrderFxQuoteCreate,
    OrderOut,
    OrderPay,
)
from embedfin.api.schemas.reconciliation import (
    BreakOut,
    ReconBreakOut,
    ReconciliationCreate,
    ReconciliationOut,
    ResolveIn,
)
from embedfin.api.schemas.settlement import (
    PayoutOut,
    SettlementLineOut,
    SettlementRunCreate,
    SettlementRunOut,
)
from embedfin.api.schemas.wallets import (
    BalanceOut,
    TopUpCreate,
    WalletMovementOut,
    WithdrawalCreate,
)
from embedfin.api.schemas.webhooks import (
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointOut,
)

__all__ = [
    "Amount",
    "ApiKeyCreate",
    "ApiKeyOut",
    "AuditEntryOut",
    "BalanceOut",
    "BankAccountBind",
    "BankAccountOut",
    "BreakOut",
    "CardPayIn",
    "CheckoutCreate",
    "CreditDecisionCreate",
    "CreditDecisionOut",
    "CreditLineCreate",
    "CreditLineOut",
    "Currency",
    "CustomerCreate",
    "CustomerOut",
    "DepositIn",
    "DisputeIn",
    "DisputeResolve",
    "EventOut",
    "ExtendIn",
    "FinanceIn",
    "FxQuoteCreate",
    "FxQuoteOut",
    "Limit",
    "LimitIn",
    "LineIn",
    "LoanFundingOut",
    "LoanOut",
    "MerchantCreate",
    "MerchantOut",
    "Model",
    "Name",
    "ObjectId",
    "OrderCreate",
    "OrderFxQuoteCreate",
    "OrderOut",
    "OrderPay",
    "PROBLEM_RESPONSES",
    "Page",
    "PayoutOut",
    "PingOut",
    "PlanOfferOut",
    "Problem",
    "ReasonOut",
    "ReconBreakOut",
    "ReconciliationCreate",
    "ReconciliationOut",
    "RefundIn",
    "RepaymentIn",
    "ResolveIn",
    "ReturnIn",
    "ReviewIn",
    "SettlementLineOut",
    "SettlementRunCreate",
    "SettlementRunOut",
    "ShipIn",
    "Text200",
    "TopUpCreate",
    "WalletMovementOut",
    "WebhookDeliveryOut",
    "WebhookEndpointCreate",
    "WebhookEndpointOut",
    "WithdrawalCreate",
    "ts",
]
