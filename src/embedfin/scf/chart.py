"""Supply-chain finance's block of the chart: receivable certificates as balances, the
funder's book of discounted certificates, advances on purchase orders, and loans on a
distributor's stock.

A certificate is a claim on a core enterprise, not customer money, so its accounts sit outside
the safeguarding equation (``payments/payouts/safeguarding.py``): they are memorandum balances
that make the certificates' arithmetic the ledger's. Issuing credits the core enterprise's
*payable* and debits the first *certificate*; a split, transfer or discount moves the whole
balance of a certificate onto new ones (each certificate has one holder for life, so a holder
change is a new account and the old one retires at zero). The certificates of one payable
therefore always sum to what the payable still owes, and no flag lets a part go negative or the
payable be paid twice. Only the money legs touch customer money, and each moves between two
liabilities of the safeguarding equation (a merchant's available balance, a funder's funds
held), so the equation holds through every step. Account codes 2000–2999:

=======================  ====  ======  =============================================
account                  code  normal  flags
=======================  ====  ======  =============================================
certificate payable      2100  credit  debits must not exceed credits (per payable:
                                       what the core enterprise still owes on it)
certificate held         2110  debit   credits must not exceed debits (per certificate)
discounted certificates  2200  debit   credits must not exceed debits (per funder: the
                                       price paid for certificates not yet settled)
discount income          2210  credit  — (per funder: face less price, and late interest)
order advance            2300  debit   credits must not exceed debits (per purchase order:
                                       what a funder advanced its supplier)
advance fee income       2310  credit  — (per funder: the fees of order advances)
inventory loan           2400  debit   credits must not exceed debits (per inventory
                                       facility: what its distributor has drawn)
inventory fee income     2410  credit  — (per funder: the fees of inventory draws)
=======================  ====  ======  =============================================

Transfer codes 6000–6999, each with the accounts it debits and credits:

=======================  ====  =====================================================
transfer                 code  debited → credited
=======================  ====  =====================================================
certificate issue        6001  certificate held (the first) → certificate payable
certificate split        6002  certificate held (a part) → certificate held (the parent)
certificate transfer     6003  certificate held (new holder) → certificate held (old)
certificate discount     6004  certificate held (the funder's) → certificate held (old)
discount payment         6005  lender funds held → merchant available (the price)
discount purchase        6006  discounted certificates → lender cash (the price)
certificate settle       6010  certificate payable → certificate held
settlement payment       6011  merchant available (core) → merchant available or lender
                               funds held (the holder's face, plus late interest)
settlement cost          6012  lender cash → discounted certificates (the price back)
settlement income        6013  lender cash → discount income (the funder's gain)
advance payment          6020  lender funds held → merchant available (the supplier)
advance booking          6021  order advance → lender cash
order repayment          6022  merchant available (the buyer) → lender funds held (the
                               advance and its fee, first out of the buyer's payment)
order remainder          6023  merchant available (the buyer) → merchant available (the
                               supplier: the rest of the order)
advance repaid           6024  lender cash → order advance
advance fee              6025  lender cash → advance fee income
inventory draw           6030  lender funds held → merchant available (the distributor:
                               the draw less its fee)
inventory booking        6031  inventory loan → lender cash (the whole draw)
inventory fee            6032  lender cash → inventory fee income
inventory repayment      6033  merchant available (the distributor) → lender funds held
inventory repaid         6034  lender cash → inventory loan
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

CONTEXT = "scf"


class ScfAccountCode(ChartAccountCode):
    """Supply-chain finance's account codes (the first table above)."""

    CERTIFICATE_PAYABLE = 2100
    CERTIFICATE_HELD = 2110
    DISCOUNTED_CERTIFICATES = 2200
    DISCOUNT_INCOME = 2210
    ORDER_ADVANCE = 2300
    ADVANCE_FEE_INCOME = 2310
    INVENTORY_LOAN = 2400
    INVENTORY_FEE_INCOME = 2410

    @property
    def account_type(self) -> AccountType:
        return _ACCOUNT_TYPES[self]


# Transfer codes (the second table above); each number is defined here and nowhere else.
CODE_ISSUE = 6001
CODE_SPLIT = 6002
CODE_TRANSFER = 6003
CODE_DISCOUNT = 6004
CODE_DISCOUNT_PAYMENT = 6005
CODE_DISCOUNT_PURCHASE = 6006
CODE_SETTLE = 6010
CODE_SETTLEMENT_PAYMENT = 6011
CODE_SETTLEMENT_COST = 6012
CODE_SETTLEMENT_INCOME = 6013
CODE_ADVANCE_PAYMENT = 6020
CODE_ADVANCE_BOOKING = 6021
CODE_ORDER_REPAYMENT = 6022
CODE_ORDER_REMAINDER = 6023
CODE_ADVANCE_REPAID = 6024
CODE_ADVANCE_FEE = 6025
CODE_INVENTORY_DRAW = 6030
CODE_INVENTORY_BOOKING = 6031
CODE_INVENTORY_FEE = 6032
CODE_INVENTORY_REPAYMENT = 6033
CODE_INVENTORY_REPAID = 6034

_D, _C = NormalSide.DEBIT, NormalSide.CREDIT
S = ScfAccountCode
BLOCK = Block(
    CONTEXT,
    account_codes=CodeRange(2000, 2999),
    transfer_codes=CodeRange(6000, 6999),
    accounts=(
        account_type(
            S.CERTIFICATE_PAYABLE,
            _C,
            "what a core enterprise still owes on a certified payable",
            owner=CONTEXT,
            flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        ),
        account_type(
            S.CERTIFICATE_HELD,
            _D,
            "one receivable certificate's face, held by one party",
            owner=CONTEXT,
            flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS,
        ),
        account_type(
            S.DISCOUNTED_CERTIFICATES,
            _D,
            "a funder's price paid for certificates not yet settled",
            owner=CONTEXT,
            flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS,
        ),
        account_type(
            S.DISCOUNT_INCOME, _C, "a funder's gain on discounted certificates", owner=CONTEXT
        ),
        account_type(
            S.ORDER_ADVANCE,
            _D,
            "what a funder advanced a supplier on a purchase order",
            owner=CONTEXT,
            flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS,
        ),
        account_type(S.ADVANCE_FEE_INCOME, _C, "a funder's fees on order advances", owner=CONTEXT),
        account_type(
            S.INVENTORY_LOAN,
            _D,
            "what a distributor has drawn on its inventory facility",
            owner=CONTEXT,
            flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS,
        ),
        account_type(
            S.INVENTORY_FEE_INCOME, _C, "a funder's fees on inventory draws", owner=CONTEXT
        ),
    ),
    transfers=tuple(
        TransferType(code, name, text, CONTEXT)
        for code, name, text in (
            (CODE_ISSUE, "certificate_issue", "a core enterprise certifies a payable"),
            (CODE_SPLIT, "certificate_split", "a certificate is split into parts"),
            (CODE_TRANSFER, "certificate_transfer", "a certificate passes to a supplier"),
            (CODE_DISCOUNT, "certificate_discount", "a certificate is sold to a funder"),
            (CODE_DISCOUNT_PAYMENT, "discount_payment", "a funder pays a discount's price"),
            (CODE_DISCOUNT_PURCHASE, "discount_purchase", "the discount on the funder's books"),
            (CODE_SETTLE, "certificate_settle", "a certificate is paid at maturity"),
            (CODE_SETTLEMENT_PAYMENT, "settlement_payment", "a core enterprise pays a holder"),
            (CODE_SETTLEMENT_COST, "settlement_cost", "a funder's price comes back"),
            (CODE_SETTLEMENT_INCOME, "settlement_income", "a funder's gain on a certificate"),
            (CODE_ADVANCE_PAYMENT, "advance_payment", "a funder advances a supplier on an order"),
            (CODE_ADVANCE_BOOKING, "advance_booking", "the advance on the funder's books"),
            (CODE_ORDER_REPAYMENT, "order_repayment", "the buyer's payment repays the funder"),
            (CODE_ORDER_REMAINDER, "order_remainder", "the rest of the payment to the supplier"),
            (CODE_ADVANCE_REPAID, "advance_repaid", "the advance off the funder's books"),
            (CODE_ADVANCE_FEE, "advance_fee", "the advance's fee earned"),
            (CODE_INVENTORY_DRAW, "inventory_draw", "a distributor draws on its stock"),
            (CODE_INVENTORY_BOOKING, "inventory_booking", "the draw on the funder's books"),
            (CODE_INVENTORY_FEE, "inventory_fee", "the draw's fee earned"),
            (CODE_INVENTORY_REPAYMENT, "inventory_repayment", "a distributor repays its draws"),
            (CODE_INVENTORY_REPAID, "inventory_repaid", "the repayment off the funder's books"),
        )
    ),
)
del S
_ACCOUNT_TYPES = {ScfAccountCode(t.code): t for t in BLOCK.accounts}
