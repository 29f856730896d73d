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
merchant reserve        220  credit  debits must not exceed credits (the rolling reserve held
                                     back from a risky merchant's settlements)
escrow                  300  credit  debits must not exceed credits
commission in reserve   400  credit  debits must not exceed credits
commission revenue      410  credit  —
lender funds held       420  credit  debits must not exceed credits (a funder's cash in the
                                     reserve: counted with the liabilities)
channel fee expense     500  debit   —
platform equity         900  credit  —
=====================  ====  ======  =============================================

Codes 1–999 are payments' block (``BLOCK``); lending's accounts are in ``lending/chart.py``.
Payments' transfer codes (1000–4999), each with the accounts it debits and credits:

=========================  ====  ===================================================
transfer                   code  debited → credited
=========================  ====  ===================================================
top up                     1001  channel clearing → buyer wallet
withdrawal                 1002  wallet → client reserve (paid out to the bank)
channel settlement         1003  client reserve → channel clearing (the net amount)
channel fee                1004  channel fee expense → channel clearing
fee funding                1005  client reserve → platform operating
order payment              2001  buyer wallet → escrow
release                    2002  escrow → merchant balance
commission                 2003  escrow → commission in reserve
refund                     2004  escrow → where the buyer paid from
refund after release       2005  merchant balance → where the buyer paid from
refund commission          2006  commission in reserve (or revenue, once swept) → where the
                                 buyer paid from
refund commission funding  2007  client reserve → platform operating (cash for swept
                                 commission given back)
channel payment            2010  channel clearing → escrow
channel overpayment        2011  channel clearing → buyer wallet
wallet hold                2012  buyer wallet → escrow (pending, for a split tender)
t1 settlement              3001  merchant pending → merchant available
payout                     3002  merchant available → client reserve (to the bank)
sweep cash                 3003  platform operating → client reserve
sweep revenue              3004  commission in reserve → commission revenue
reserve hold               3005  merchant pending → merchant reserve (a share of a settlement)
reserve release            3006  merchant reserve → merchant available (the hold period over)
fx sell                    4001  wallet → FX position of the sold currency
fx buy                     4002  FX position of the bought currency → wallet
=========================  ====  ===================================================
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from embedfin.core.ids import U128_MAX
from embedfin.core.money import currency
from embedfin.ledger.chart import (
    AccountType,
    Block,
    ChartAccountCode,
    CodeRange,
    NormalSide,
    TransferType,
    account_type,
)
from embedfin.ledger.types import Account, AccountFlags

CONTEXT = "payments"


class AccountCode(ChartAccountCode):
    """Payments' account codes (the table above)."""

    CLIENT_RESERVE = 1
    CHANNEL_CLEARING = 2
    PLATFORM_OPERATING = 10
    FX_POSITION = 20
    BUYER_WALLET = 100
    MERCHANT_PENDING = 200
    MERCHANT_AVAILABLE = 210
    MERCHANT_RESERVE = 220
    ESCROW = 300
    COMMISSION_IN_RESERVE = 400
    COMMISSION_REVENUE = 410
    LENDER_FUNDS_HELD = 420
    CHANNEL_FEE_EXPENSE = 500
    PLATFORM_EQUITY = 900

    @property
    def account_type(self) -> AccountType:
        return _ACCOUNT_TYPES[self]


# Transfer codes (the second table above). Module constants rather than an enum so the modules
# that move money name them as before; each number is defined here and nowhere else.
CODE_TOP_UP = 1001
CODE_WITHDRAWAL = 1002
CODE_CHANNEL_SETTLEMENT = 1003
CODE_CHANNEL_FEE = 1004
CODE_FEE_FUNDING = 1005
CODE_ORDER_PAYMENT = 2001
CODE_RELEASE = 2002
CODE_COMMISSION = 2003
CODE_REFUND = 2004
CODE_REFUND_AFTER_RELEASE = 2005
CODE_REFUND_COMMISSION = 2006
CODE_REFUND_COMMISSION_FUNDING = 2007
CODE_CHANNEL_PAYMENT = 2010
CODE_CHANNEL_OVERPAYMENT = 2011
CODE_WALLET_HOLD = 2012
CODE_T1_SETTLEMENT = 3001
CODE_PAYOUT = 3002
CODE_SWEEP_CASH = 3003
CODE_SWEEP_REVENUE = 3004
CODE_RESERVE_HOLD = 3005
CODE_RESERVE_RELEASE = 3006
CODE_FX_SELL = 4001
CODE_FX_BUY = 4002

SAFEGUARDED_ASSETS = frozenset(
    {AccountCode.CLIENT_RESERVE, AccountCode.CHANNEL_CLEARING, AccountCode.FX_POSITION}
)
CUSTOMER_LIABILITIES = frozenset(
    {
        AccountCode.BUYER_WALLET,
        AccountCode.MERCHANT_PENDING,
        AccountCode.MERCHANT_AVAILABLE,
        AccountCode.MERCHANT_RESERVE,
        AccountCode.ESCROW,
    }
)
#: Platform money that still sits in the client reserve (counted with the liabilities).
UNSWEPT_PLATFORM_FUNDS = frozenset(
    {AccountCode.COMMISSION_IN_RESERVE, AccountCode.LENDER_FUNDS_HELD}
)
PLATFORM = "platform"

_D, _C = NormalSide.DEBIT, NormalSide.CREDIT
_NO_OVERDRAFT = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS  # never pay out more than is there
_NO_NEGATIVE = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
# Statements of customer money need the balance after each movement.
_CUSTOMER = _NO_NEGATIVE | AccountFlags.HISTORY


def _account(
    code: AccountCode, normal: NormalSide, text: str, flags: AccountFlags = AccountFlags.NONE
) -> AccountType:
    return account_type(code, normal, text, owner=CONTEXT, flags=flags)


def _transfer(code: int, name: str, text: str) -> TransferType:
    return TransferType(code, name, text, CONTEXT)


A = AccountCode
BLOCK = Block(
    CONTEXT,
    account_codes=CodeRange(1, 999),
    transfer_codes=CodeRange(1000, 4999),
    accounts=(
        _account(A.CLIENT_RESERVE, _D, "the safeguarded bank account", _NO_OVERDRAFT),
        _account(A.CHANNEL_CLEARING, _D, "money a channel owes us (in transit)", _NO_OVERDRAFT),
        _account(A.PLATFORM_OPERATING, _D, "the platform's own cash"),
        _account(A.FX_POSITION, _D, "currency bought or sold, until treasury rebalances"),
        _account(A.BUYER_WALLET, _C, "a buyer's stored value", _CUSTOMER),
        _account(A.MERCHANT_PENDING, _C, "released to a merchant, not yet settled", _CUSTOMER),
        _account(A.MERCHANT_AVAILABLE, _C, "a merchant's balance, ready to pay out", _CUSTOMER),
        _account(A.MERCHANT_RESERVE, _C, "a merchant's rolling reserve, held back", _CUSTOMER),
        _account(A.ESCROW, _C, "paid orders held until receipt is confirmed", _CUSTOMER),
        _account(A.COMMISSION_IN_RESERVE, _C, "commission not yet swept out", _NO_NEGATIVE),
        _account(A.COMMISSION_REVENUE, _C, "commission earned and swept"),
        _account(A.LENDER_FUNDS_HELD, _C, "a funder's cash in the reserve", _NO_NEGATIVE),
        _account(A.CHANNEL_FEE_EXPENSE, _D, "what channels charge the platform"),
        _account(A.PLATFORM_EQUITY, _C, "the platform's equity"),
    ),
    transfers=(
        _transfer(CODE_TOP_UP, "top_up", "a buyer tops up the wallet through a channel"),
        _transfer(CODE_WITHDRAWAL, "withdrawal", "a wallet is paid out to a bank account"),
        _transfer(CODE_CHANNEL_SETTLEMENT, "channel_settlement", "a channel pays the reserve"),
        _transfer(CODE_CHANNEL_FEE, "channel_fee", "the fee a channel kept from a settlement"),
        _transfer(CODE_FEE_FUNDING, "fee_funding", "operating cash makes up a channel fee"),
        _transfer(CODE_ORDER_PAYMENT, "order_payment", "a wallet pays an order into escrow"),
        _transfer(CODE_RELEASE, "release", "escrow is released to the merchant"),
        _transfer(CODE_COMMISSION, "commission", "the platform's commission on a release"),
        _transfer(CODE_REFUND, "refund", "a refund out of escrow"),
        _transfer(
            CODE_REFUND_AFTER_RELEASE, "refund_after_release", "a refund out of the merchant"
        ),
        _transfer(
            CODE_REFUND_COMMISSION,
            "refund_commission",
            "the commission on a refunded share, given back after release",
        ),
        _transfer(
            CODE_REFUND_COMMISSION_FUNDING,
            "refund_commission_funding",
            "operating cash back into the reserve for swept commission given back",
        ),
        _transfer(CODE_CHANNEL_PAYMENT, "channel_payment", "a channel pays an order into escrow"),
        _transfer(
            CODE_CHANNEL_OVERPAYMENT, "channel_overpayment", "what a channel paid beyond the order"
        ),
        _transfer(CODE_WALLET_HOLD, "wallet_hold", "the wallet part of a split tender (pending)"),
        _transfer(CODE_T1_SETTLEMENT, "t1_settlement", "a merchant's pending balance settles"),
        _transfer(CODE_PAYOUT, "payout", "a merchant's balance is paid to the bank"),
        _transfer(CODE_SWEEP_CASH, "sweep_cash", "commission cash leaves the reserve"),
        _transfer(CODE_SWEEP_REVENUE, "sweep_revenue", "swept commission becomes revenue"),
        _transfer(
            CODE_RESERVE_HOLD, "reserve_hold", "a share of a settlement held in the rolling reserve"
        ),
        _transfer(
            CODE_RESERVE_RELEASE,
            "reserve_release",
            "a rolling-reserve hold released after its term",
        ),
        _transfer(CODE_FX_SELL, "fx_sell", "a conversion takes the sold currency"),
        _transfer(CODE_FX_BUY, "fx_buy", "a conversion gives the bought currency"),
    ),
)
del A
_ACCOUNT_TYPES = {AccountCode(t.code): t for t in BLOCK.accounts}


@dataclass(frozen=True, slots=True)
class AccountKey:
    """Who an account belongs to, in which currency, for what.

    Attributes:
        tenant: the marketplace running embedfin.
        owner_kind: ``platform``, ``buyer``, ``merchant`` or ``channel``.
        owner_id: the owner's id within the tenant (``platform`` for platform accounts).
        currency: ISO 4217 code.
        code: the chart position: a member of payments' ``AccountCode`` or of another
            context's account-code enum (lending's, for funder and loan accounts).
    """

    tenant: str
    owner_kind: str
    owner_id: str
    currency: str
    code: ChartAccountCode

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
def _flags(code: ChartAccountCode) -> int:
    """The ledger flags of an account at this chart position (cached: new accounts come by
    the thousand)."""
    return int(code.account_type.flags)


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
