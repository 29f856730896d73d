"""The fund pool on the ledger: the account keys of a fund, its assets, its holders' wallets and
its facility, and the legs each command posts (``fundpool/chart.py`` has the table). Each runs
inside the caller's unit of work."""

from __future__ import annotations

from embedfin.core.errors import InsufficientFunds, LedgerRejected
from embedfin.fundpool.chart import FundAccountCode
from embedfin.ledger.chart import ChartAccountCode
from embedfin.ledger.service import LedgerTransaction
from embedfin.ledger.types import CreateTransferResult as R
from embedfin.ledger.types import Transfer, TransferFlags
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import AccountCode, AccountKey, platform_account
from embedfin.payments.moves import leg
from embedfin.payments.wallets import wallet_key

#: Transfer ids of fund legs derive from ``fundpool:<request id>``: no other context's request
#: id can collide with one here.
PREFIX = "fundpool:"
F = FundAccountCode


class FundBook:
    """The legs of one command on one fund, posted as one linked chain."""

    def __init__(self, tenant: str, fund_id: str, currency: str) -> None:
        self.tenant = tenant
        self.fund_id = fund_id
        self.currency = currency
        self.legs: list[Transfer] = []
        self.keys: list[AccountKey] = []

    # --- keys --------------------------------------------------------------------------------
    def fund(self, code: FundAccountCode) -> AccountKey:
        return self._key("fund", self.fund_id, code)

    def asset(self, asset_id: str, code: FundAccountCode) -> AccountKey:
        return self._key("fund_asset", asset_id, code)

    def holders_payable(self) -> AccountKey:
        """What the fund owes its holders on T+1 redemptions (each one's claim is its
        ``fundpool_redemptions`` row)."""
        return self.fund(F.REDEMPTIONS_PAYABLE)

    def facility_payable(self) -> AccountKey:
        """What the fund owes its facility for the fast redemptions it advanced."""
        return self.facility(F.REDEMPTIONS_PAYABLE)

    def facility(self, code: FundAccountCode) -> AccountKey:
        return self._key("fund_facility", self.fund_id, code)

    def wallet(self, holder_id: str) -> AccountKey:
        return wallet_key(self.tenant, "buyer", holder_id, self.currency)

    def reserve(self) -> AccountKey:
        return platform_account(self.tenant, self.currency, AccountCode.CLIENT_RESERVE)

    def _key(self, kind: str, owner: str, code: ChartAccountCode) -> AccountKey:
        return AccountKey(self.tenant, kind, owner, self.currency, code)

    # --- legs --------------------------------------------------------------------------------
    def add(
        self, request_id: str, step: str, debit: AccountKey, credit: AccountKey, amount: int,
        code: int,
    ) -> None:  # fmt: skip
        if amount:
            self.keys += [debit, credit]
            self.legs.append(leg(self.tenant, PREFIX + request_id, step, debit, credit, amount,
                                 code))  # fmt: skip

    def post(self, tx: LedgerTransaction, insufficient: str) -> None:
        """Open every account the legs name and post them as one linked chain; an account of
        either side that would go past its limit is ``InsufficientFunds``."""
        if not self.legs:
            return
        open_accounts(tx, self.keys)
        chain = [t._replace(flags=int(t.flags) | TransferFlags.LINKED) for t in self.legs[:-1]]
        results = tx.create_transfers([*chain, self.legs[-1]])
        self.legs, self.keys = [], []
        if all(r is R.OK for r in results):
            return
        failing = next(r for r in results if r not in (R.OK, R.LINKED_EVENT_FAILED))
        if failing in (R.EXCEEDS_CREDITS, R.EXCEEDS_DEBITS):  # a liability or an asset short
            raise InsufficientFunds(insufficient)
        raise LedgerRejected(f"ledger refused the movement: {failing}")


def balance_of(tx: LedgerTransaction, key: AccountKey) -> int:
    """An account's posted balance on its normal side (0 if it was never opened)."""
    found = tx.lookup_accounts([key.account_id])
    if not found:
        return 0
    account = found[0]
    if key.code.account_type.normal == "debit":
        return int(account.debits_posted) - int(account.credits_posted)
    return int(account.credits_posted) - int(account.debits_posted)
