"""The chart of accounts: every ledger account the payments package uses, in one place.

One ledger per currency (its ISO 4217 numeric code). Asset accounts are debit-normal, the rest
credit-normal. Customer money is safeguarded: at every commit

    Σ customer liabilities (wallets, merchant balances, escrow)
      + commission earned but still in the reserve (swept out daily)
        = Σ safeguarded assets (client-reserve bank account + money in transit from channels)

A channel fee is the platform's cost, so the platform moves the same amount from its operating
cash into the reserve in the same linked chain as the settlement; commission leaves the reserve
only by a sweep that moves cash to operating and the commission to revenue together. The
equation never breaks (PBoC 2018: 100% of client reserve funds deposited centrally; reserve
money only flows to designated accounts).

A conversion moves the customer's money through the FX position accounts of both currencies
(linked transfers, one per ledger): the sold currency's position goes down by what the reserve
no longer owes, the bought currency's goes up by what the reserve must receive. Positions count
with the safeguarded assets until treasury rebalances the reserves and brings them back to zero.

=====================  ====  ======  =============================================
account                code  normal  flags
=====================  ====  ======  =============================================
client reserve            1  debit   credits must not exceed debits (no overdraft)
channel clearing          2  debit   credits must not exceed debits (in transit)
platform operating       10  debit   —
FX position              20  debit   — (per currency; see below)
buyer wallet            100  credit  debits must not exceed credits
merchant pending        200  credit  debits must not exceed credits
merchant available      210  credit  debits must not exceed credits
escrow                  300  credit  debits must not exceed credits
commission in reserve   400  credit  debits must not exceed credits
commission revenue      410  credit  —
lender funds held       420  credit  debits must not exceed credits (a funder's cash in the
                                     reserve: counted with the liabilities)
channel fee expense     500  debit   —
platform equity         900  credit  —
=====================  ====  ======  =============================================

Lending keeps the lender's own books beside the custodial ones (``lending/servicing.py``): per
funder its cash at the custodian (the mirror of "lender funds held"), income and provisions; per
loan its principal, interest and fees receivable.

=====================  ====  ======  =============================================
lender cash            1100  debit   credits must not exceed debits
loan principal         1200  debit   credits must not exceed debits (per loan)
loan interest due      1210  debit   credits must not exceed debits (per loan)
loan fees due          1220  debit   credits must not exceed debits (per loan)
loss allowance         1250  credit  — (expected credit losses, per funder)
interest income        1400  credit  —
fee income             1410  credit  —
credit loss expense    1500  debit   —
platform fee expense   1510  debit   — (the funder's cost of the platform's origination fee)
lender capital         1900  credit  —
=====================  ====  ======  =============================================
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from embedfin.core.ids import U128_MAX
from embedfin.core.money import currency
from embedfin.ledger.types import Account, AccountFlags


class AccountCode(IntEnum):
    CLIENT_RESERVE = 1
    CHANNEL_CLEARING = 2
    PLATFORM_OPERATING = 10
    FX_POSITION = 20
    BUYER_WALLET = 100
    MERCHANT_PENDING = 200
    MERCHANT_AVAILABLE = 210
    ESCROW = 300
    COMMISSION_IN_RESERVE = 400
    COMMISSION_REVENUE = 410
    LENDER_FUNDS_HELD = 420
    CHANNEL_FEE_EXPENSE = 500
    PLATFORM_EQUITY = 900
    LENDER_CASH = 1100
    LOAN_PRINCIPAL = 1200
    LOAN_INTEREST_DUE = 1210
    LOAN_FEES_DUE = 1220
    LOSS_ALLOWANCE = 1250
    INTEREST_INCOME = 1400
    FEE_INCOME = 1410
    CREDIT_LOSS_EXPENSE = 1500
    PLATFORM_FEE_EXPENSE = 1510
    LENDER_CAPITAL = 1900


SAFEGUARDED_ASSETS = frozenset(
    {AccountCode.CLIENT_RESERVE, AccountCode.CHANNEL_CLEARING, AccountCode.FX_POSITION}
)
CUSTOMER_LIABILITIES = frozenset(
    {
        AccountCode.BUYER_WALLET,
        AccountCode.MERCHANT_PENDING,
        AccountCode.MERCHANT_AVAILABLE,
        AccountCode.ESCROW,
    }
)
#: Platform money that still sits in the client reserve (counted with the liabilities).
UNSWEPT_PLATFORM_FUNDS = frozenset(
    {AccountCode.COMMISSION_IN_RESERVE, AccountCode.LENDER_FUNDS_HELD}
)
#: The lender's assets that can never go below zero.
_LENDER_ASSETS = frozenset(
    {
        AccountCode.LENDER_CASH,
        AccountCode.LOAN_PRINCIPAL,
        AccountCode.LOAN_INTEREST_DUE,
        AccountCode.LOAN_FEES_DUE,
    }
)
#: Accounts whose balance is debits − credits (assets and expenses); the rest are credit-normal.
DEBIT_NORMAL = frozenset(
    {
        *SAFEGUARDED_ASSETS,
        AccountCode.PLATFORM_OPERATING,
        AccountCode.CHANNEL_FEE_EXPENSE,
        *_LENDER_ASSETS,
        AccountCode.CREDIT_LOSS_EXPENSE,
        AccountCode.PLATFORM_FEE_EXPENSE,
    }
)
_DEBIT_LIMITED = frozenset(CUSTOMER_LIABILITIES | UNSWEPT_PLATFORM_FUNDS)
_NEVER_NEGATIVE_ASSETS = (SAFEGUARDED_ASSETS - {AccountCode.FX_POSITION}) | _LENDER_ASSETS
PLATFORM = "platform"


@dataclass(frozen=True, slots=True)
class AccountKey:
    """Who an account belongs to, in which currency, for what.

    Attributes:
        tenant: the marketplace running embedfin.
        owner_kind: ``platform``, ``buyer``, ``merchant`` or ``channel``.
        owner_id: the owner's id within the tenant (``platform`` for platform accounts).
        currency: ISO 4217 code.
        code: the chart position.
    """

    tenant: str
    owner_kind: str
    owner_id: str
    currency: str
    code: AccountCode

    @property
    def account_id(self) -> int:
        """A stable u128 derived from the key: the same key always names the same account."""
        return _account_id(self.tenant, self.owner_kind, self.owner_id, self.currency, self.code)

    @property
    def ledger(self) -> int:
        return currency(self.currency).numeric

    def account(self) -> Account:
        return Account(self.account_id, self.ledger, int(self.code), _flags(self.code))


@lru_cache(maxsize=64)
def _flags(code: AccountCode) -> int:
    """The ledger flags of an account at this chart position (cached: composing ``Flag``
    values costs microseconds each, and new accounts come by the thousand)."""
    flags = AccountFlags.NONE
    if code in _DEBIT_LIMITED:
        flags = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    elif code in _NEVER_NEGATIVE_ASSETS:  # never pay out more than is there
        flags = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
    if code in CUSTOMER_LIABILITIES:
        flags |= AccountFlags.HISTORY  # statements need balance after each movement
    return int(flags)


@lru_cache(maxsize=200_000)
def _account_id(tenant: str, kind: str, owner: str, currency_code: str, code: int) -> int:
    text = f"{tenant}\x1f{kind}\x1f{owner}\x1f{currency_code}\x1f{int(code)}"
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big")
    return value if 0 < value < U128_MAX else 1


def platform_account(tenant: str, currency_code: str, code: AccountCode) -> AccountKey:
    return AccountKey(tenant, PLATFORM, PLATFORM, currency(currency_code).code, code)


def channel_clearing(tenant: str, channel: str, currency_code: str) -> AccountKey:
    return AccountKey(
        tenant, "channel", channel, currency(currency_code).code, AccountCode.CHANNEL_CLEARING
    )
