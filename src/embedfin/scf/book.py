"""Certificates on the ledger: the account keys of payables, certificates and funders, and the
legs of each step (``scf/chart.py`` has the table). Each runs inside the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence

from embedfin.ledger.chart import ChartAccountCode
from embedfin.ledger.service import LedgerTransaction
from embedfin.ledger.types import Transfer
from embedfin.lending.chart import LendingAccountCode
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import AccountCode, AccountKey
from embedfin.payments.moves import leg, move
from embedfin.payments.wallets import wallet_key
from embedfin.scf.chart import (
    CODE_DISCOUNT_PAYMENT,
    CODE_DISCOUNT_PURCHASE,
    CODE_ISSUE,
    CODE_SETTLE,
    CODE_SETTLEMENT_COST,
    CODE_SETTLEMENT_INCOME,
    CODE_SETTLEMENT_PAYMENT,
    ScfAccountCode,
)
from embedfin.scf.store import Certificate, Role

#: Transfer ids of scf legs are derived from ``scf:<request id>``, so a request id another
#: context used cannot collide with one here.
PREFIX = "scf:"


class CertificateBook:
    def __init__(self, tenant: str, currency: str) -> None:
        self.tenant = tenant
        self.currency = currency
        self.legs: list[Transfer] = []
        self.keys: list[AccountKey] = []

    # --- keys --------------------------------------------------------------------------------
    def payable(self, payable_id: str) -> AccountKey:
        return self._key("scf_payable", payable_id, ScfAccountCode.CERTIFICATE_PAYABLE)

    def held(self, certificate_id: str) -> AccountKey:
        return self._key("certificate", certificate_id, ScfAccountCode.CERTIFICATE_HELD)

    def order_advance(self, po_id: str) -> AccountKey:
        return self._key("scf_order", po_id, ScfAccountCode.ORDER_ADVANCE)

    def funder(self, funder_id: str, code: ChartAccountCode) -> AccountKey:
        return self._key("funder", funder_id, code)

    def cash_of(self, party_id: str, role: Role) -> AccountKey:
        """Where a party's money is: a funder's funds held, anyone else's merchant balance."""
        if role is Role.FUNDER:
            return self.funder(party_id, AccountCode.LENDER_FUNDS_HELD)
        return wallet_key(self.tenant, "merchant", party_id, self.currency)

    def _key(self, kind: str, owner: str, code: ChartAccountCode) -> AccountKey:
        return AccountKey(self.tenant, kind, owner, self.currency, code)

    # --- legs --------------------------------------------------------------------------------
    def add(
        self,
        request_id: str,
        step: str,
        debit: AccountKey,
        credit: AccountKey,
        amount: int,
        code: int,
    ) -> None:
        if amount:
            self.keys += [debit, credit]
            self.legs.append(leg(self.tenant, PREFIX + request_id, step, debit, credit, amount,
                                 code))  # fmt: skip

    def issue(self, request_id: str, first: Certificate) -> None:
        """The payable's face onto its first certificate."""
        self.add(request_id, "issue", self.held(first.certificate_id),
                 self.payable(first.payable_id), first.face_minor, CODE_ISSUE)  # fmt: skip

    def move_certificate(
        self,
        request_id: str,
        parent: Certificate,
        made: Sequence[Certificate],
        codes: Sequence[int],
    ) -> None:
        """The parent's whole balance onto the certificates made from it, one code each."""
        for child, code in zip(made, codes, strict=True):
            self.add(request_id, child.certificate_id, self.held(child.certificate_id),
                     self.held(parent.certificate_id), child.face_minor, code)  # fmt: skip

    def discount(
        self, request_id: str, funder_id: str, seller: Certificate, price_minor: int
    ) -> None:
        """The funder pays the price into the seller's balance, and books the purchase."""
        self.add(request_id, "price", self.funder(funder_id, AccountCode.LENDER_FUNDS_HELD),
                 self.cash_of(seller.holder_id, seller.holder_role), price_minor,
                 CODE_DISCOUNT_PAYMENT)  # fmt: skip
        self.add(request_id, "purchase",
                 self.funder(funder_id, ScfAccountCode.DISCOUNTED_CERTIFICATES),
                 self.funder(funder_id, LendingAccountCode.LENDER_CASH), price_minor,
                 CODE_DISCOUNT_PURCHASE)  # fmt: skip

    def settle(self, request_id: str, core_id: str, held: Certificate, paid_minor: int) -> None:
        """Close the certificate against its payable and pay its holder ``paid_minor`` (the
        face and any late interest) from the core enterprise's balance; a funder books its
        price back and the rest as income."""
        step = held.certificate_id
        self.add(request_id, f"{step}:settle", self.payable(held.payable_id),
                 self.held(step), held.face_minor, CODE_SETTLE)  # fmt: skip
        self.add(request_id, f"{step}:pay", self.cash_of(core_id, Role.CORE),
                 self.cash_of(held.holder_id, held.holder_role), paid_minor,
                 CODE_SETTLEMENT_PAYMENT)  # fmt: skip
        if held.holder_role is Role.FUNDER and held.price_minor is not None:
            cash = self.funder(held.holder_id, LendingAccountCode.LENDER_CASH)
            self.add(request_id, f"{step}:cost", cash,
                     self.funder(held.holder_id, ScfAccountCode.DISCOUNTED_CERTIFICATES),
                     held.price_minor, CODE_SETTLEMENT_COST)  # fmt: skip
            self.add(request_id, f"{step}:income", cash,
                     self.funder(held.holder_id, ScfAccountCode.DISCOUNT_INCOME),
                     paid_minor - held.price_minor, CODE_SETTLEMENT_INCOME)  # fmt: skip

    def post(self, tx: LedgerTransaction, insufficient: str) -> None:
        """Open every account the legs name and post them as one linked chain."""
        if not self.legs:
            return
        open_accounts(tx, self.keys)
        move(tx, self.legs, insufficient=insufficient)
