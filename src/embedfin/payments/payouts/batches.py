"""Merchant settlement (T+1 batches), payouts to merchants' banks, and the commission sweep.

* T+1: funds released to a ``t1`` merchant sit in its *pending* balance; the daily batch moves
  what the merchant held there at the cut-off (read from the account's balance history) to
  *available*. ``t0`` merchants are released straight to available.
* Rolling reserve: a risky merchant's settlement leaves a share in its *reserve* for a term
  (``payouts/reserves.py``); the first batch after the term releases it to available.
* Payouts: each batch pays every merchant's available balance to its bound bank account
  (money leaves the client reserve).
* Commission sweep: the platform's commission leaves the client reserve for its operating
  account, and the commission moves from "in reserve" to revenue, as one linked chain.

Every step's transfer ids derive from the batch, so re-running a batch moves nothing twice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import insert, select

from embedfin.commerce.store import load_merchant
from embedfin.core.errors import (
    ComplianceHold,
    EmbedfinError,
    InsufficientFunds,
    InvalidInput,
    LedgerRejected,
    NotFound,
)
from embedfin.core.events import Event
from embedfin.core.money import Money, currency
from embedfin.db.outbox import append_events
from embedfin.db.tables import merchant_bank_accounts, payouts
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.ledger.types import CreateTransferResult, Transfer, TransferFlags
from embedfin.payments.accounts import open_accounts, owned_accounts
from embedfin.payments.chart import (
    CODE_PAYOUT,
    CODE_RESERVE_HOLD,
    CODE_RESERVE_RELEASE,
    CODE_SWEEP_CASH,
    CODE_SWEEP_REVENUE,
    CODE_T1_SETTLEMENT,
    AccountCode,
    AccountKey,
    platform_account,
)
from embedfin.payments.holds import ComplianceHolds, NoHolds
from embedfin.payments.moves import move
from embedfin.payments.payouts import reserves
from embedfin.payments.requests import check_bank_account, check_name, transfer_id
from embedfin.risk.decision import RiskSubject, SubjectKind
from embedfin.risk.gate import NoReserve, NoRiskCheck, ReservePolicy, RiskGate
from embedfin.security.crypto import FieldCipher, load_cipher

R = CreateTransferResult
_DAY_NS = 86_400 * 1_000_000_000
_PlannedPayout = tuple[AccountKey, int, Transfer]  # account, amount, leg


@dataclass(frozen=True, slots=True)
class BatchLine:
    merchant_id: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Payout:
    """A payout made: what a batch paid a merchant's bank account.

    Attributes:
        batch_id: the payout run.
        merchant_id: who was paid.
        amount_minor: how much, in minor units of ``currency``.
        currency: ISO 4217 code.
        bank_last4: the last four digits of the account paid.
        created_at_ns: when the batch paid it.
    """

    batch_id: str
    merchant_id: str
    amount_minor: int
    currency: str
    bank_last4: str
    created_at_ns: int


class MerchantSettlement:
    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        cipher: FieldCipher | None = None,
        risk: RiskGate | None = None,
        reserves: ReservePolicy | None = None,
        holds: ComplianceHolds | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant = check_name("tenant", tenant)
        self.cipher = cipher
        self.risk: RiskGate = risk or NoRiskCheck()
        self.reserves: ReservePolicy = reserves or NoReserve()
        self.holds: ComplianceHolds = holds or NoHolds()

    def bind_bank_account(self, merchant_id: str, bank_token: str, bank_last4: str) -> None:
        check_bank_account(bank_token, bank_last4)
        table = merchant_bank_accounts
        with self.ledger.transaction() as tx:
            if load_merchant(tx.conn, self.tenant, merchant_id) is None:
                raise NotFound(f"no merchant {merchant_id}")
            tx.conn.execute(
                table.delete().where(
                    table.c.tenant == self.tenant, table.c.merchant_id == merchant_id
                )
            )
            tx.conn.execute(
                insert(table).values(
                    tenant=self.tenant,
                    merchant_id=merchant_id,
                    bank_token=self._cipher().encrypt(
                        bank_token, bank_token_context(self.tenant, merchant_id)
                    ),
                    bank_last4=bank_last4,
                )
            )

    def _cipher(self) -> FieldCipher:
        if self.cipher is None:
            self.cipher = load_cipher()
        return self.cipher

    def run_t1(self, batch_id: str, cutoff_ns: int) -> list[BatchLine]:
        """Move every T+1 merchant's pending balance as of ``cutoff_ns`` to available.

        First every rolling-reserve hold whose term ended by the cut-off is released to its
        merchant's available balance; then each merchant's settlement, less the share its
        reserve holds back (risk's ``ReservePolicy``: its tier's, or a risk officer's), moves
        to available, the share to the merchant's reserve account, as one linked chain with
        the hold recorded beside it."""
        check_name("batch_id", batch_id)
        if cutoff_ns > self.ledger.clock.now_ns():  # would release reserves before their term
            raise InvalidInput("a T+1 cut-off cannot be in the future")
        if cutoff_ns < 0:  # the books start at the Unix epoch (and a store's 64-bit time)
            raise InvalidInput("a T+1 cut-off cannot be before 1970-01-01")
        self.release_reserves(batch_id, cutoff_ns)
        lines: list[BatchLine] = []
        for key in self._merchant_accounts(AccountCode.MERCHANT_PENDING):
            history = self.ledger.get_account_balances(
                key.account_id, limit=1, before_timestamp=cutoff_ns + 1
            )
            if not history:
                continue
            at_cutoff = history[0].credits_posted - history[0].debits_posted
            with self.ledger.transaction() as tx:
                (now,) = tx.lookup_accounts([key.account_id])
                amount = min(at_cutoff, now.credits_posted - now.debits_posted - now.debits_pending)
                if amount <= 0:
                    continue
                if self._settle_one(tx, batch_id, key, amount):
                    lines.append(BatchLine(key.owner_id, Money(amount, key.currency)))
        return lines

    def _settle_one(
        self, tx: LedgerTransaction, batch_id: str, key: AccountKey, amount: int
    ) -> bool:
        """One merchant's settlement of ``amount`` (its reserve's share held back); False when
        this batch settled it already."""
        merchant, code = key.owner_id, key.currency
        available = AccountKey(
            self.tenant, "merchant", merchant, code, AccountCode.MERCHANT_AVAILABLE
        )
        reserve = self.reserves.reserve_of(tx, merchant)
        held = reserve.held_of(amount)
        legs = [
            Transfer(
                transfer_id(self.tenant, f"t1:{batch_id}", merchant + code),
                key.account_id,
                available.account_id,
                amount - held,
                key.ledger,
                CODE_T1_SETTLEMENT,
            )
        ]
        accounts = [available]
        if held:
            in_reserve = AccountKey(
                self.tenant, "merchant", merchant, code, AccountCode.MERCHANT_RESERVE
            )
            accounts.append(in_reserve)
            legs = [
                legs[0]._replace(flags=TransferFlags.LINKED),
                Transfer(
                    transfer_id(self.tenant, f"t1_reserve:{batch_id}", merchant + code),
                    key.account_id,
                    in_reserve.account_id,
                    held,
                    key.ledger,
                    CODE_RESERVE_HOLD,
                ),
            ]
        open_accounts(tx, accounts)
        results = tx.create_transfers(legs)
        if results[0] is R.EXISTS:
            return False
        for result in results:
            move_ok(result)
        now = self.ledger.clock.now_ns()
        self._event(tx, "merchant_settled", merchant, amount - held, code, batch_id)
        if held:
            hold = reserves.ReserveHold(
                reserves.hold_id_of(self.tenant, batch_id, merchant, code), merchant, code,
                held, 0, reserve.bp, batch_id, now, now + reserve.hold_days * _DAY_NS, None,
            )  # fmt: skip
            reserves.record_hold(tx.conn, self.tenant, hold)
            event = self._event_of("reserve_held", merchant, held, code, batch_id)
            payload = {**event.payload, "hold_id": hold.hold_id, "reserve_bp": reserve.bp,
                       "release_at": hold.release_at}  # fmt: skip
            append_events(tx.conn, [dataclasses.replace(event, payload=payload)])
        return True

    def release_reserves(self, batch_id: str, as_of: int) -> list[BatchLine]:
        """Release every reserve hold whose term ended by ``as_of`` to its merchant's available
        balance (what refunds did not draw of it), one unit of work; a re-run releases nothing
        twice."""
        check_name("batch_id", batch_id)
        lines: list[BatchLine] = []
        with self.ledger.transaction() as tx:
            for hold in reserves.due_holds(tx.conn, self.tenant, as_of):
                reserves.mark_released(
                    tx.conn, self.tenant, hold.hold_id, self.ledger.clock.now_ns()
                )
                left = hold.open_minor
                if left <= 0:
                    continue
                owner = ("merchant", hold.merchant_id, hold.currency)
                in_reserve = AccountKey(self.tenant, *owner, AccountCode.MERCHANT_RESERVE)
                available = AccountKey(self.tenant, *owner, AccountCode.MERCHANT_AVAILABLE)
                open_accounts(tx, [available])
                leg = Transfer(
                    transfer_id(self.tenant, f"reserve_release:{hold.hold_id}", ""),
                    in_reserve.account_id,
                    available.account_id,
                    left,
                    in_reserve.ledger,
                    CODE_RESERVE_RELEASE,
                )
                (result,) = tx.create_transfers([leg])
                move_ok(result)
                lines.append(BatchLine(hold.merchant_id, Money(left, hold.currency)))
                event = self._event_of(
                    "reserve_released", hold.merchant_id, left, hold.currency, batch_id
                )
                payload = {**event.payload, "hold_id": hold.hold_id}
                append_events(tx.conn, [dataclasses.replace(event, payload=payload)])
        return lines

    def run_payouts(self, batch_id: str) -> list[BatchLine]:
        """Pay every merchant with a bound bank account its whole available balance.

        One unit of work (one commit) and one ledger batch for the whole payout run: the ledger
        answers each merchant's transfer on its own, so a merchant whose payout it refuses is
        left out, the others are paid, and the refusal is raised once the rest has committed
        (re-running the batch id pays only what is left).

        A merchant compliance holds (a sanctions hit under review or confirmed) is left out
        with a ``payout_held`` event. Each payout then passes the risk check: one held for
        review (a case opens) or refused is left out of this run with a ``payout_held`` event;
        once its case is released, a re-run of the same batch pays it (and a later batch paying
        the same amount is not held again).

        Steps: find the merchants due (bank bound, not yet paid in this batch), plan each one's
        payout of its available balance, check each with risk, post the payouts as one ledger
        batch, record the paid ones and their ``payout_sent`` events, raise for the refused.
        """
        check_name("batch_id", batch_id)
        self.holds.catch_up("merchant")  # merchants screened against the active list first
        with self.ledger.transaction() as tx:
            banks = self._bank_accounts(tx)
            due = self._due_accounts(tx, batch_id, banks)
            planned, reserves = self._plan_payouts(tx, batch_id, due)
            planned = self._risk_checked(tx, batch_id, self._not_held(tx, batch_id, planned))
            open_accounts(tx, list(reserves.values()))
            lines, refused = self._post_payouts(tx, batch_id, planned, banks)
        if refused:
            names = ", ".join(f"{merchant} ({error})" for merchant, error in refused)
            raise LedgerRejected(f"payouts refused for {names}; the others were paid")
        return lines

    def _not_held(
        self, tx: LedgerTransaction, batch_id: str, planned: list[_PlannedPayout]
    ) -> list[_PlannedPayout]:
        """The planned payouts of merchants compliance does not hold; the others wait with a
        ``payout_held`` event (their balance stays, and is paid once the case is cleared)."""
        passed: list[_PlannedPayout] = []
        for key, amount, leg in planned:
            hold = self.holds.hold_of(tx, "merchant", key.owner_id)
            if hold is None:
                passed.append((key, amount, leg))
                continue
            held = self._event_of("payout_held", key.owner_id, amount, key.currency, batch_id)
            payload = {**held.payload, "reason": ComplianceHold.code, "detail": hold}
            append_events(tx.conn, [dataclasses.replace(held, payload=payload)])
        return passed

    def _risk_checked(
        self, tx: LedgerTransaction, batch_id: str, planned: list[_PlannedPayout]
    ) -> list[_PlannedPayout]:
        """The planned payouts risk lets through; the others are held with an event."""
        if isinstance(self.risk, NoRiskCheck) or not planned:
            return planned
        tokens = self._bank_tokens(tx)
        passed: list[_PlannedPayout] = []
        for key, amount, leg in planned:
            # the amount is part of what was checked: a re-run paying another balance is checked
            # again, the same payout once released is paid
            reference = f"{batch_id}:{key.owner_id}:{amount}{key.currency}"
            subject = RiskSubject(
                SubjectKind.PAYOUT,
                self.tenant,
                amount,
                key.currency,
                "bank_transfer",
                merchant_id=key.owner_id,
                reference=reference,
            )
            answer = self.risk.check(tx, subject, payout_account=tokens.get(key.owner_id))
            if answer.refusal is None:
                self.risk.settle(tx, SubjectKind.PAYOUT, reference, succeeded=True)
                passed.append((key, amount, leg))
                continue
            held = self._event_of("payout_held", key.owner_id, amount, key.currency, batch_id)
            payload = {
                **held.payload,
                "decision_id": answer.decision_id,
                "reason": answer.refusal.code,
            }
            append_events(tx.conn, [dataclasses.replace(held, payload=payload)])
        return passed

    def _bank_tokens(self, tx: LedgerTransaction) -> dict[str, str]:
        """Each merchant's bound bank token, decrypted (the risk check links accounts by it)."""
        rows = tx.conn.execute(
            select(merchant_bank_accounts.c.merchant_id, merchant_bank_accounts.c.bank_token).where(
                merchant_bank_accounts.c.tenant == self.tenant
            )
        ).all()
        cipher = self._cipher()
        return {
            merchant: cipher.decrypt(token, bank_token_context(self.tenant, merchant))
            for merchant, token in rows
        }

    def _bank_accounts(self, tx: LedgerTransaction) -> dict[str, str]:
        """The last four digits of each merchant's bound bank account, by merchant id."""
        return {
            row.merchant_id: row.bank_last4
            for row in tx.conn.execute(
                select(merchant_bank_accounts).where(merchant_bank_accounts.c.tenant == self.tenant)
            ).all()
        }

    def _due_accounts(
        self, tx: LedgerTransaction, batch_id: str, banks: dict[str, str]
    ) -> list[AccountKey]:
        """Available balances of merchants with a bank account not yet paid in this batch."""
        done = {
            (row.merchant_id, row.currency)
            for row in tx.conn.execute(
                select(payouts.c.merchant_id, payouts.c.currency).where(
                    payouts.c.tenant == self.tenant, payouts.c.batch_id == batch_id
                )
            ).all()
        }
        return [
            key
            for key in self._merchant_accounts(AccountCode.MERCHANT_AVAILABLE)
            if key.owner_id in banks and (key.owner_id, key.currency) not in done
        ]

    def _plan_payouts(
        self, tx: LedgerTransaction, batch_id: str, due: list[AccountKey]
    ) -> tuple[list[_PlannedPayout], dict[str, AccountKey]]:
        """Each due account's payout of its whole available balance, and the reserves used."""
        balances = {a.id: a for a in tx.lookup_accounts([k.account_id for k in due])}
        planned: list[_PlannedPayout] = []
        reserves: dict[str, AccountKey] = {}
        for key in due:
            account = balances.get(key.account_id)
            if account is None:
                continue
            amount = account.credits_posted - account.debits_posted - account.debits_pending
            if amount <= 0:
                continue
            reserve = reserves.setdefault(
                key.currency,
                platform_account(self.tenant, key.currency, AccountCode.CLIENT_RESERVE),
            )
            tid = transfer_id(self.tenant, f"payout:{batch_id}", key.owner_id + key.currency)
            leg = Transfer(tid, key.account_id, reserve.account_id, amount, key.ledger, CODE_PAYOUT)
            planned.append((key, amount, leg))
        return planned, reserves

    def _post_payouts(
        self,
        tx: LedgerTransaction,
        batch_id: str,
        planned: list[_PlannedPayout],
        banks: dict[str, str],
    ) -> tuple[list[BatchLine], list[tuple[str, EmbedfinError]]]:
        """Post the planned payouts in one batch; record the paid, return them and the refused."""
        lines: list[BatchLine] = []
        refused: list[tuple[str, EmbedfinError]] = []
        rows: list[dict[str, object]] = []
        events: list[Event] = []
        now = self.ledger.clock.now_ns()
        results = tx.create_transfers([leg for _, _, leg in planned])
        for (key, amount, leg), result in zip(planned, results, strict=True):
            if result is R.EXCEEDS_CREDITS:
                refused.append((key.owner_id, InsufficientFunds("the balance changed")))
                continue
            if result is not R.OK:
                refused.append((key.owner_id, LedgerRejected(f"ledger refused: {result}")))
                continue
            rows.append(
                {
                    "tenant": self.tenant,
                    "batch_id": batch_id,
                    "merchant_id": key.owner_id,
                    "currency": key.currency,
                    "amount_minor": amount,
                    "transfer_id": leg.id,
                    "bank_last4": banks[key.owner_id],
                    "created_at": now,
                }
            )
            events.append(
                self._event_of("payout_sent", key.owner_id, amount, key.currency, batch_id)
            )
            lines.append(BatchLine(key.owner_id, Money(amount, key.currency)))
        if rows:
            tx.conn.execute(insert(payouts), rows)
            append_events(tx.conn, events)
        return lines, refused

    def list_payouts(
        self, limit: int, offset: int = 0, merchant_id: str | None = None
    ) -> tuple[list[Payout], bool]:
        """Payouts made, newest first (all merchants, or one); and whether there are more."""
        p = payouts.c
        query = select(payouts).where(p.tenant == self.tenant)
        if merchant_id is not None:
            query = query.where(p.merchant_id == merchant_id)
        query = query.order_by(p.created_at.desc(), p.batch_id, p.merchant_id)
        with self.ledger.reader() as conn:
            rows = conn.execute(query.offset(offset).limit(limit + 1)).all()
        found = [
            Payout(
                r.batch_id, r.merchant_id, r.amount_minor, r.currency, r.bank_last4, r.created_at
            )
            for r in rows[:limit]
        ]
        return found, len(rows) > limit

    def sweep_commission(self, currency_code: str, batch_id: str) -> Money:
        """Move all commission still in the client reserve to the platform (one linked chain)."""
        code = currency(currency_code).code
        held = platform_account(self.tenant, code, AccountCode.COMMISSION_IN_RESERVE)
        revenue = platform_account(self.tenant, code, AccountCode.COMMISSION_REVENUE)
        reserve = platform_account(self.tenant, code, AccountCode.CLIENT_RESERVE)
        operating = platform_account(self.tenant, code, AccountCode.PLATFORM_OPERATING)
        with self.ledger.transaction() as tx:
            open_accounts(tx, [held, revenue, reserve, operating])
            (account,) = tx.lookup_accounts([held.account_id])
            amount = account.credits_posted - account.debits_posted
            if amount <= 0:
                return Money(0, code)
            prefix = f"sweep:{batch_id}:{code}"
            move(
                tx,
                [
                    Transfer(
                        transfer_id(self.tenant, prefix, "cash"),
                        operating.account_id,
                        reserve.account_id,
                        amount,
                        reserve.ledger,
                        CODE_SWEEP_CASH,
                    ),
                    Transfer(
                        transfer_id(self.tenant, prefix, "revenue"),
                        held.account_id,
                        revenue.account_id,
                        amount,
                        reserve.ledger,
                        CODE_SWEEP_REVENUE,
                    ),
                ],
                insufficient="the client reserve has not received the commission yet",
            )
            self._event(tx, "commission_swept", "platform", amount, code, batch_id)
            return Money(amount, code)

    # --- internals ----------------------------------------------------------------------------
    def _merchant_accounts(self, code: AccountCode) -> list[AccountKey]:
        with self.ledger.current() as conn:
            return owned_accounts(conn, self.tenant, "merchant", code)

    def _event(
        self, tx: LedgerTransaction, kind: str, owner: str, amount: int, code: str, batch_id: str
    ) -> None:
        append_events(tx.conn, [self._event_of(kind, owner, amount, code, batch_id)])

    def _event_of(self, kind: str, owner: str, amount: int, code: str, batch_id: str) -> Event:
        return Event(
            kind,
            "merchant" if owner != "platform" else "platform",
            owner,
            {"amount_minor": amount, "currency": code, "batch_id": batch_id},
            self.ledger.clock.now_ns(),
            self.tenant,
        )


def move_ok(result: CreateTransferResult) -> None:
    if result is not R.OK:
        raise LedgerRejected(f"ledger refused the settlement: {result}")


def bank_token_context(tenant: str, merchant_id: str) -> str:
    """Associated data binding an encrypted bank token to its merchant."""
    return f"merchant_bank_accounts.bank_token:{tenant}:{merchant_id}"
