"""The fund pool's block of the chart: the fund's own books, and its liquidity facility.

The fund is not client money. Its accounts sit outside the safeguarding equation
(``payments/payouts/safeguarding.py``) and none of its codes is counted there: a subscription
debits the buyer's wallet and credits the client reserve (both sides of the equation fall by the
amount: the money leaves the reserve bank for the fund's custodian), and books the same amount
on the fund's side (fund cash against units). A redemption does the reverse, its money arriving
in the reserve as it reaches the wallet. Every transfer with a fund code moves either two
payments accounts of the equation against each other (wallet and reserve) or two accounts of
this block, never one of each. Units are a stable 1.00: the units outstanding, in minor units,
are the fund's liability to its holders; each holder's share is the ``fundpool_holdings`` row
(a sub-ledger whose sum the invariants check against the ledger), so a day's income for a
million holders is one transfer and one set-based update. Account codes 3000–3999:

=======================  ====  ======  =============================================
account                  code  normal  flags
=======================  ====  ======  =============================================
fund cash                3000  debit   credits must not exceed debits (the fund's cash
                                       at banks, with the custodian)
term deposit             3010  debit   credits must not exceed debits (per asset)
short bond               3020  debit   credits must not exceed debits (per asset)
reverse repo             3030  debit   credits must not exceed debits (per asset)
income receivable        3040  debit   — (interest accrued on the portfolio, at
                                       amortised cost, not yet received)
units outstanding        3100  credit  debits must not exceed credits (per fund: the
                                       holders' units at 1.00)
undistributed income     3110  credit  debits must not exceed credits (the day's income
                                       and fees not yet units: the carried fractions)
redemptions payable      3120  credit  debits must not exceed credits (per fund: to its
                                       holders at T+1, or to its facility for what it
                                       advanced)
facility cash            3300  debit   credits must not exceed debits (the liquidity
                                       facility's bank money: it must be funded)
facility capital         3310  credit  — (what the facility's bank put in)
facility advances        3320  debit   credits must not exceed debits (fast redemptions
                                       advanced, repaid by the fund at T+1)
=======================  ====  ======  =============================================

Transfer codes 7000–7999, each with the accounts it debits and credits:

=======================  ====  =====================================================
transfer                 code  debited → credited
=======================  ====  =====================================================
subscription payment     7001  buyer wallet → client reserve (to the fund's bank)
subscription units       7002  fund cash → units outstanding
redemption units         7010  units outstanding → redemptions payable (the holders'
                               for T+1, the facility's for T+0)
liquidity fee            7011  units outstanding → undistributed income (the fee stays
                               in the fund for the holders who stay)
fast advance             7012  facility advances → facility cash
fast payment             7013  client reserve → buyer wallet (the advance arrives)
redemption settlement    7014  redemptions payable → fund cash (the fund pays, T+1)
redemption payment       7015  client reserve → buyer wallet (T+1 money arrives)
facility repaid          7016  facility cash → facility advances
asset purchase           7020  term deposit, short bond or reverse repo → fund cash
asset maturity           7021  fund cash → the asset (its cost back)
interest received        7022  fund cash → income receivable
income accrual           7030  income receivable → undistributed income (a day's
                               amortised interest)
income distribution      7031  undistributed income → units outstanding (the whole
                               minor units credited to holders that day)
facility funding         7040  facility cash → facility capital
=======================  ====  =====================================================
"""

from __future__ import annotations

from embedfin.ledger.chart import (
    AccountType,
    Block,
    ChartAccountCode,
    CodeRange,
    NormalSide,
    TransferType,
    account_type,
)
from embedfin.ledger.types import AccountFlags

CONTEXT = "fundpool"


class FundAccountCode(ChartAccountCode):
    """The fund pool's account codes (the first table above)."""

    FUND_CASH = 3000
    TERM_DEPOSIT = 3010
    SHORT_BOND = 3020
    REVERSE_REPO = 3030
    INCOME_RECEIVABLE = 3040
    UNITS_OUTSTANDING = 3100
    UNDISTRIBUTED_INCOME = 3110
    REDEMPTIONS_PAYABLE = 3120
    FACILITY_CASH = 3300
    FACILITY_CAPITAL = 3310
    FACILITY_ADVANCES = 3320

    @property
    def account_type(self) -> AccountType:
        return _ACCOUNT_TYPES[self]


# Transfer codes (the second table above); each number is defined here and nowhere else.
CODE_SUBSCRIPTION_PAYMENT = 7001
CODE_SUBSCRIPTION_UNITS = 7002
CODE_REDEMPTION_UNITS = 7010
CODE_LIQUIDITY_FEE = 7011
CODE_FAST_ADVANCE = 7012
CODE_FAST_PAYMENT = 7013
CODE_REDEMPTION_SETTLEMENT = 7014
CODE_REDEMPTION_PAYMENT = 7015
CODE_FACILITY_REPAID = 7016
CODE_ASSET_PURCHASE = 7020
CODE_ASSET_MATURITY = 7021
CODE_INTEREST_RECEIVED = 7022
CODE_INCOME_ACCRUAL = 7030
CODE_INCOME_DISTRIBUTION = 7031
CODE_FACILITY_FUNDING = 7040

#: The codes whose transfers move a wallet against the client reserve (money crossing between
#: the reserve's bank and the fund's or the facility's): the rest stay inside this block.
RESERVE_CODES = frozenset({CODE_SUBSCRIPTION_PAYMENT, CODE_FAST_PAYMENT, CODE_REDEMPTION_PAYMENT})

_D, _C = NormalSide.DEBIT, NormalSide.CREDIT
_NO_OVERDRAFT = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
_NO_OVERDRAWN_LIABILITY = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
F = FundAccountCode
BLOCK = Block(
    CONTEXT,
    account_codes=CodeRange(3000, 3999),
    transfer_codes=CodeRange(7000, 7999),
    accounts=(
        account_type(
            F.FUND_CASH, _D, "the fund's cash at banks", owner=CONTEXT, flags=_NO_OVERDRAFT
        ),
        account_type(
            F.TERM_DEPOSIT, _D, "a term deposit the fund holds", owner=CONTEXT, flags=_NO_OVERDRAFT
        ),
        account_type(
            F.SHORT_BOND, _D, "a short bond the fund holds", owner=CONTEXT, flags=_NO_OVERDRAFT
        ),
        account_type(
            F.REVERSE_REPO,
            _D,
            "a reverse repo the fund lent on",
            owner=CONTEXT,
            flags=_NO_OVERDRAFT,
        ),
        account_type(
            F.INCOME_RECEIVABLE,
            _D,
            "interest accrued on the portfolio, not yet paid",
            owner=CONTEXT,
        ),
        account_type(
            F.UNITS_OUTSTANDING,
            _C,
            "the holders' units at a stable 1.00",
            owner=CONTEXT,
            flags=_NO_OVERDRAWN_LIABILITY,
        ),
        account_type(
            F.UNDISTRIBUTED_INCOME,
            _C,
            "income and fees not yet credited as units",
            owner=CONTEXT,
            flags=_NO_OVERDRAWN_LIABILITY,
        ),
        account_type(
            F.REDEMPTIONS_PAYABLE,
            _C,
            "redemptions the fund pays at T+1",
            owner=CONTEXT,
            flags=_NO_OVERDRAWN_LIABILITY,
        ),
        account_type(
            F.FACILITY_CASH, _D, "the liquidity facility's cash", owner=CONTEXT, flags=_NO_OVERDRAFT
        ),
        account_type(F.FACILITY_CAPITAL, _C, "what the facility's bank put in", owner=CONTEXT),
        account_type(
            F.FACILITY_ADVANCES,
            _D,
            "fast redemptions advanced, due from the fund",
            owner=CONTEXT,
            flags=_NO_OVERDRAFT,
        ),
    ),  # fmt: skip
    transfers=tuple(
        TransferType(code, name, text, CONTEXT)
        for code, name, text in (
            (CODE_SUBSCRIPTION_PAYMENT, "subscription_payment", "a wallet pays into the fund"),
            (CODE_SUBSCRIPTION_UNITS, "subscription_units", "units issued at 1.00"),
            (CODE_REDEMPTION_UNITS, "redemption_units", "units redeemed"),
            (CODE_LIQUIDITY_FEE, "liquidity_fee", "a redemption's liquidity fee"),
            (CODE_FAST_ADVANCE, "fast_advance", "the facility advances a fast redemption"),
            (CODE_FAST_PAYMENT, "fast_payment", "a fast redemption reaches the wallet"),
            (CODE_REDEMPTION_SETTLEMENT, "redemption_settlement", "the fund pays a redemption"),
            (CODE_REDEMPTION_PAYMENT, "redemption_payment", "a T+1 redemption reaches the wallet"),
            (CODE_FACILITY_REPAID, "facility_repaid", "the fund repays the facility"),
            (CODE_ASSET_PURCHASE, "asset_purchase", "the fund buys a deposit, bond or repo"),
            (CODE_ASSET_MATURITY, "asset_maturity", "an asset's cost comes back at maturity"),
            (CODE_INTEREST_RECEIVED, "interest_received", "an asset's interest is paid"),
            (CODE_INCOME_ACCRUAL, "income_accrual", "a day's amortised interest"),
            (CODE_INCOME_DISTRIBUTION, "income_distribution", "a day's income as units"),
            (CODE_FACILITY_FUNDING, "facility_funding", "a bank funds the liquidity facility"),
        )
    ),
)
del F
_ACCOUNT_TYPES = {FundAccountCode(t.code): t for t in BLOCK.accounts}
