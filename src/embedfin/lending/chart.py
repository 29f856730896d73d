"""Lending's block of the chart: the lender's own books and the codes of loan money.

Lending keeps the lender's books beside the custodial ones (``payments/chart.py``): per funder
its cash at the custodian (the mirror of payments' "lender funds held"), income and provisions;
per loan its principal, interest and fees receivable. Account codes 1000–1999:

=====================  ====  ======  =============================================
account                code  normal  flags
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

Transfer codes 5000–5999, each with the accounts it debits and credits:

=========================  ====  ===================================================
transfer                   code  debited → credited
=========================  ====  ===================================================
fund                       5001  client reserve → lender funds held
fund capital               5002  lender cash → lender capital
disburse                   5010  lender funds held → escrow (the order is paid)
disburse lender            5011  loan principal → lender cash
loan fee                   5020  loan fees due → fee income
interest accrual           5021  loan interest due → interest income
repay                      5030  buyer wallet → lender funds held
repay fees                 5031  lender cash → loan fees due
repay interest             5032  lender cash → loan interest due
repay principal            5033  lender cash → loan principal
refund principal           5041  lender cash → loan principal (a refund pays it down)
late fee                   5050  loan fees due → fee income
write off                  5060  credit loss expense → loan principal, interest, fees
provision                  5070  credit loss expense ⇄ loss allowance (either way)
platform fee               5080  lender funds held → commission in reserve
platform fee lender        5081  platform fee expense → lender cash
=========================  ====  ===================================================
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

CONTEXT = "lending"


class LendingAccountCode(ChartAccountCode):
    """Lending's account codes (the first table above)."""

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

    @property
    def account_type(self) -> AccountType:
        return _ACCOUNT_TYPES[self]


# Transfer codes (the second table above); each number is defined here and nowhere else.
CODE_FUND = 5001
CODE_FUND_CAPITAL = 5002
CODE_DISBURSE = 5010
CODE_DISBURSE_LENDER = 5011
CODE_FEE = 5020
CODE_INTEREST = 5021
CODE_REPAY = 5030
CODE_REPAY_FEES = 5031
CODE_REPAY_INTEREST = 5032
CODE_REPAY_PRINCIPAL = 5033
CODE_REFUND_PRINCIPAL = 5041
CODE_LATE_FEE = 5050
CODE_WRITE_OFF = 5060
CODE_PROVISION = 5070
CODE_PLATFORM_FEE = 5080
CODE_PLATFORM_FEE_LENDER = 5081

_D, _C = NormalSide.DEBIT, NormalSide.CREDIT
#: The lender's assets can never go below zero.
_ASSET = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS


def _account(
    code: LendingAccountCode,
    normal: NormalSide,
    text: str,
    flags: AccountFlags = AccountFlags.NONE,
) -> AccountType:
    return account_type(code, normal, text, owner=CONTEXT, flags=flags)


def _transfer(code: int, name: str, text: str) -> TransferType:
    return TransferType(code, name, text, CONTEXT)


L = LendingAccountCode
BLOCK = Block(
    CONTEXT,
    account_codes=CodeRange(1000, 1999),
    transfer_codes=CodeRange(5000, 5999),
    accounts=(
        _account(L.LENDER_CASH, _D, "a funder's cash at the custodian", _ASSET),
        _account(L.LOAN_PRINCIPAL, _D, "a loan's principal outstanding", _ASSET),
        _account(L.LOAN_INTEREST_DUE, _D, "a loan's accrued interest not yet paid", _ASSET),
        _account(L.LOAN_FEES_DUE, _D, "a loan's fees not yet paid", _ASSET),
        _account(L.LOSS_ALLOWANCE, _C, "a funder's allowance for expected credit losses"),
        _account(L.INTEREST_INCOME, _C, "a funder's interest earned"),
        _account(L.FEE_INCOME, _C, "a funder's fees earned"),
        _account(L.CREDIT_LOSS_EXPENSE, _D, "a funder's write-offs and provisions"),
        _account(L.PLATFORM_FEE_EXPENSE, _D, "what a funder pays the platform per loan"),
        _account(L.LENDER_CAPITAL, _C, "what a funder put in"),
    ),
    transfers=(
        _transfer(CODE_FUND, "fund", "a funder deposits lending cash in the reserve"),
        _transfer(CODE_FUND_CAPITAL, "fund_capital", "the deposit on the funder's own books"),
        _transfer(CODE_DISBURSE, "disburse", "a loan pays its order into escrow"),
        _transfer(CODE_DISBURSE_LENDER, "disburse_lender", "the loan on the funder's books"),
        _transfer(CODE_FEE, "loan_fee", "a plan's fee is charged when the loan starts"),
        _transfer(CODE_INTEREST, "interest_accrual", "a day's interest accrues"),
        _transfer(CODE_REPAY, "repay", "a buyer's wallet repays a loan"),
        _transfer(CODE_REPAY_FEES, "repay_fees", "the part of a repayment that pays fees"),
        _transfer(CODE_REPAY_INTEREST, "repay_interest", "the part that pays interest"),
        _transfer(CODE_REPAY_PRINCIPAL, "repay_principal", "the part that pays principal"),
        _transfer(CODE_REFUND_PRINCIPAL, "refund_principal", "a refund pays the loan down"),
        _transfer(CODE_LATE_FEE, "late_fee", "a late fee is charged"),
        _transfer(CODE_WRITE_OFF, "write_off", "a charged-off loan leaves the books"),
        _transfer(CODE_PROVISION, "provision", "the loss allowance is trued up or down"),
        _transfer(CODE_PLATFORM_FEE, "platform_fee", "the platform's origination fee"),
        _transfer(CODE_PLATFORM_FEE_LENDER, "platform_fee_lender", "the fee on the funder's books"),
    ),
)
del L
_ACCOUNT_TYPES = {LendingAccountCode(t.code): t for t in BLOCK.accounts}
