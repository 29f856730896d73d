"""A deliberately simple in-memory ledger: the oracle for the property-based tests.

Written for obviousness, not speed: whole-state copies for linked-chain rollback, one
list of checks per event in TigerBeetle's order, dictionaries for everything.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from embedfin.ledger.types import (
    AMOUNT_MAX,
    U128_MAX,
    Account,
    AccountFlags,
    Transfer,
    TransferFlags,
)

I64 = (1 << 63) - 1
F = TransferFlags
NS = 1_000_000_000


@dataclass
class RefAccount:
    ledger: int
    code: int
    flags: int
    user_data: tuple[int, int, int]
    dp: int = 0
    dpo: int = 0
    cp: int = 0
    cpo: int = 0


@dataclass
class RefState:
    accounts: dict[int, RefAccount] = field(default_factory=dict)
    transfers: dict[int, Transfer] = field(default_factory=dict)
    status: dict[int, str] = field(default_factory=dict)  # pending id -> state
    expires: dict[int, int] = field(default_factory=dict)


class ReferenceLedger:
    def __init__(self) -> None:
        self.s = RefState()
        self.last_ts = 0

    # -- timestamps, expiry -------------------------------------------------------------------
    def _base(self, now: int, count: int) -> int:
        base = max(now, self.last_ts + 1)
        self.last_ts = base + max(count - 1, 0)
        return base

    def expire(self, now: int) -> None:
        for pid, state in list(self.s.status.items()):
            at = self.s.expires[pid]
            if state == "pending" and 0 < at <= now:
                p = self.s.transfers[pid]
                dr = self.s.accounts[p.debit_account_id]
                cr = self.s.accounts[p.credit_account_id]
                dr.dp -= p.amount
                cr.cp -= p.amount
                if p.flags & F.CLOSING_DEBIT:
                    dr.flags &= ~AccountFlags.CLOSED
                if p.flags & F.CLOSING_CREDIT:
                    cr.flags &= ~AccountFlags.CLOSED
                self.s.status[pid] = "expired"

    # -- chains -------------------------------------------------------------------------------
    def _run(self, events: list, linked_flag: int, one) -> list[str]:  # type: ignore[no-untyped-def,type-arg]
        results: list[str] = [""] * len(events)
        i = 0
        n = len(events)
        while i < n:
            # find the chain [i, j]
            j = i
            while j < n and events[j].flags & linked_flag:
                j += 1
            if j == n:  # chain open until the end
                for k in range(i, n - 1):
                    results[k] = "linked_event_failed"
                results[n - 1] = "linked_event_chain_open"
                break
            saved = copy.deepcopy(self.s)
            failed_at = None
            for k in range(i, j + 1):
                results[k] = one(k, events[k])
                if results[k] != "ok":
                    failed_at = k
                    break
            if failed_at is not None and j > i:
                self.s = saved
                for k in range(i, j + 1):
                    if k != failed_at:
                        results[k] = "linked_event_failed"
            i = j + 1
        return results

    # -- accounts -----------------------------------------------------------------------------
    def create_accounts(self, batch: list[Account], now: int) -> list[str]:
        self._base(now, len(batch))
        allowed = (
            AccountFlags.LINKED
            | AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
            | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
            | AccountFlags.HISTORY
        )

        def one(_i: int, a: Account) -> str:
            checks = [
                (a.flags & ~allowed, "reserved_flag"),
                (a.id == 0, "id_must_not_be_zero"),
                (a.id == U128_MAX, "id_must_not_be_int_max"),
                (
                    a.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
                    and a.flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS,
                    "flags_are_mutually_exclusive",
                ),
                (a.ledger == 0, "ledger_must_not_be_zero"),
                (a.code == 0, "code_must_not_be_zero"),
            ]
            for bad, code in checks:
                if bad:
                    return code
            if a.id in self.s.accounts:
                e = self.s.accounts[a.id]
                if a.flags & ~AccountFlags.LINKED != e.flags & ~AccountFlags.CLOSED:
                    return "exists_with_different_flags"
                if a.ledger != e.ledger:
                    return "exists_with_different_ledger"
                if a.code != e.code:
                    return "exists_with_different_code"
                return "exists"
            self.s.accounts[a.id] = RefAccount(
                a.ledger, a.code, a.flags & ~AccountFlags.LINKED, (0, 0, 0)
            )
            return "ok"

        return self._run(batch, AccountFlags.LINKED, one)

    # -- transfers ----------------------------------------------------------------------------
    def create_transfers(self, batch: list[Transfer], now: int) -> list[str]:
        self.expire(now)
        base = self._base(now, len(batch))
        return self._run(batch, F.LINKED, lambda i, t: self._transfer(t, base + i))

    def _transfer(self, t: Transfer, ts: int) -> str:
        if t.id == 0:
            return "id_must_not_be_zero"
        if t.id == U128_MAX:
            return "id_must_not_be_int_max"
        if t.flags & (F.POST_PENDING_TRANSFER | F.VOID_PENDING_TRANSFER):
            return self._post_or_void(t, ts)
        pending = bool(t.flags & F.PENDING)
        balancing = t.flags & (F.BALANCING_DEBIT | F.BALANCING_CREDIT)
        ordered = [
            (
                not pending and t.flags & (F.CLOSING_DEBIT | F.CLOSING_CREDIT),
                "closing_transfer_must_be_pending",
            ),
            (t.debit_account_id == 0, "debit_account_id_must_not_be_zero"),
            (t.credit_account_id == 0, "credit_account_id_must_not_be_zero"),
            (t.debit_account_id == t.credit_account_id, "accounts_must_be_different"),
            (t.pending_id != 0, "pending_id_must_be_zero"),
            (not pending and t.timeout != 0, "timeout_reserved_for_pending_transfer"),
            (t.amount < 0, "amount_must_not_be_negative"),
            (t.amount > AMOUNT_MAX, "amount_out_of_range"),
            (t.amount == 0 and not balancing, "amount_must_not_be_zero"),
            (t.ledger == 0, "ledger_must_not_be_zero"),
            (t.code == 0, "code_must_not_be_zero"),
        ]
        for bad, code in ordered:
            if bad:
                return code
        dr = self.s.accounts.get(t.debit_account_id)
        cr = self.s.accounts.get(t.credit_account_id)
        if dr is None:
            return "debit_account_not_found"
        if cr is None:
            return "credit_account_not_found"
        if dr.ledger != cr.ledger:
            return "accounts_must_have_the_same_ledger"
        if t.ledger != dr.ledger:
            return "transfer_must_have_the_same_ledger_as_accounts"
        if t.id in self.s.transfers:
            e = self.s.transfers[t.id]
            if t.flags != e.flags:
                return "exists_with_different_flags"
            if t.debit_account_id != e.debit_account_id:
                return "exists_with_different_debit_account_id"
            if t.credit_account_id != e.credit_account_id:
                return "exists_with_different_credit_account_id"
            if (t.amount < e.amount) if balancing else (t.amount != e.amount):
                return "exists_with_different_amount"
            if t.timeout != e.timeout:
                return "exists_with_different_timeout"
            if t.code != e.code:
                return "exists_with_different_code"
            return "exists"
        if dr.flags & AccountFlags.CLOSED:
            return "debit_account_already_closed"
        if cr.flags & AccountFlags.CLOSED:
            return "credit_account_already_closed"
        amount = t.amount
        if t.flags & F.BALANCING_DEBIT:
            amount = max(0, min(amount, dr.cpo - dr.dpo - dr.dp))
        if t.flags & F.BALANCING_CREDIT:
            amount = max(0, min(amount, cr.dpo - cr.cpo - cr.cp))
        if pending and dr.dp + amount > I64:
            return "overflows_debits_pending"
        if pending and cr.cp + amount > I64:
            return "overflows_credits_pending"
        if not pending and dr.dpo + amount > I64:
            return "overflows_debits_posted"
        if not pending and cr.cpo + amount > I64:
            return "overflows_credits_posted"
        if dr.dp + dr.dpo + amount > I64:
            return "overflows_debits"
        if cr.cp + cr.cpo + amount > I64:
            return "overflows_credits"
        if (
            dr.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
            and dr.dp + dr.dpo + amount > dr.cpo
        ):
            return "exceeds_credits"
        if (
            cr.flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
            and cr.cp + cr.cpo + amount > cr.dpo
        ):
            return "exceeds_debits"
        if pending:
            dr.dp += amount
            cr.cp += amount
            if t.flags & F.CLOSING_DEBIT:
                dr.flags |= AccountFlags.CLOSED
            if t.flags & F.CLOSING_CREDIT:
                cr.flags |= AccountFlags.CLOSED
            self.s.status[t.id] = "pending"
            self.s.expires[t.id] = ts + t.timeout * NS if t.timeout else 0
        else:
            dr.dpo += amount
            cr.cpo += amount
        self.s.transfers[t.id] = t._replace(amount=amount, timestamp=ts)
        return "ok"

    def _post_or_void(self, t: Transfer, ts: int) -> str:
        post = bool(t.flags & F.POST_PENDING_TRANSFER)
        if (post and t.flags & F.VOID_PENDING_TRANSFER) or t.flags & (
            F.PENDING | F.BALANCING_DEBIT | F.BALANCING_CREDIT | F.CLOSING_DEBIT | F.CLOSING_CREDIT
        ):
            return "flags_are_mutually_exclusive"
        if t.pending_id == 0:
            return "pending_id_must_not_be_zero"
        if t.pending_id == t.id:
            return "pending_id_must_be_different"
        if t.timeout != 0:
            return "timeout_reserved_for_pending_transfer"
        if t.amount < 0:
            return "amount_must_not_be_negative"
        if t.amount > AMOUNT_MAX:
            return "amount_out_of_range"
        if post and t.amount == 0:
            return "amount_must_not_be_zero"
        p = self.s.transfers.get(t.pending_id)
        if p is None:
            return "pending_transfer_not_found"
        if not p.flags & F.PENDING:
            return "pending_transfer_not_pending"
        if t.debit_account_id and t.debit_account_id != p.debit_account_id:
            return "pending_transfer_has_different_debit_account_id"
        if t.credit_account_id and t.credit_account_id != p.credit_account_id:
            return "pending_transfer_has_different_credit_account_id"
        if t.ledger and t.ledger != p.ledger:
            return "pending_transfer_has_different_ledger"
        if t.code and t.code != p.code:
            return "pending_transfer_has_different_code"
        if post:
            amount = p.amount if t.amount == AMOUNT_MAX else t.amount
            if amount > p.amount:
                return "exceeds_pending_transfer_amount"
        else:
            if t.amount not in (0, p.amount, AMOUNT_MAX):
                return "pending_transfer_has_different_amount"
            amount = p.amount
        if t.id in self.s.transfers:
            e = self.s.transfers[t.id]
            if t.flags != e.flags:
                return "exists_with_different_flags"
            if t.pending_id != e.pending_id:
                return "exists_with_different_pending_id"
            if post and t.amount not in (e.amount, AMOUNT_MAX):
                return "exists_with_different_amount"
            return "exists"
        state = self.s.status[p.id]
        if state == "posted":
            return "pending_transfer_already_posted"
        if state == "voided":
            return "pending_transfer_already_voided"
        expires = self.s.expires[p.id]
        if state == "expired" or (expires and ts >= expires):
            return "pending_transfer_expired"
        dr = self.s.accounts[p.debit_account_id]
        cr = self.s.accounts[p.credit_account_id]
        dr.dp -= p.amount
        cr.cp -= p.amount
        if post:
            dr.dpo += amount
            cr.cpo += amount
        else:
            if p.flags & F.CLOSING_DEBIT:
                dr.flags &= ~AccountFlags.CLOSED
            if p.flags & F.CLOSING_CREDIT:
                cr.flags &= ~AccountFlags.CLOSED
        self.s.status[p.id] = "posted" if post else "voided"
        self.s.transfers[t.id] = t._replace(
            debit_account_id=p.debit_account_id,
            credit_account_id=p.credit_account_id,
            amount=amount,
            ledger=p.ledger,
            code=p.code,
            timestamp=ts,
        )
        return "ok"
