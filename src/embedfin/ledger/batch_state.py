"""What one transfer batch has done so far (pure, in memory), and how a linked chain undoes it.

The rules in ``engine`` and ``pending`` read and change this state; ``engine.create_transfers``
turns it into the ``TransferOutcome`` the service persists. A linked chain takes a savepoint
before its first event: from then on every working balance about to change is remembered in
``undo``, so a failing chain rolls back to exactly where it started.
"""

from __future__ import annotations

from embedfin.ledger.records import PendingChange, Snapshot, WorkingBalances
from embedfin.ledger.types import (
    Account,
    AccountBalance,
    AccountFlags,
    PendingStatus,
    Transfer,
)

_HISTORY = int(AccountFlags.HISTORY)

#: a working balance as it was before a chain changed it: (balances, flags, dp, dpo, cp, cpo)
Undo = tuple[WorkingBalances, int, int, int, int, int]


class BatchState:
    """The snapshot a batch reads and everything it has created, resolved and changed."""

    def __init__(self, snapshot: Snapshot, first_timestamp: int) -> None:
        self.accounts = snapshot.accounts
        self.stored = snapshot.transfers
        self.pendings = snapshot.pendings
        self.first_timestamp = first_timestamp
        self.working: dict[int, WorkingBalances] = {}
        self.created: list[Transfer] = []
        self.created_by_id: dict[int, Transfer] = {}
        self.new_pendings: list[tuple[int, int]] = []
        self.new_expiry: dict[int, int] = {}
        self.resolved: list[PendingChange] = []
        self.resolved_by_id: dict[int, PendingStatus] = {}
        self.history: list[AccountBalance] = []
        self.undo: list[Undo] | None = None

    # --- linked-chain savepoints -------------------------------------------------------------
    def savepoint(self) -> object:
        self.undo = []
        return (len(self.created), len(self.new_pendings), len(self.resolved), len(self.history))

    def rollback(self, mark: object) -> None:
        assert isinstance(mark, tuple)
        assert self.undo is not None
        n_created, n_pendings, n_resolved, n_history = mark
        for w, flags, dp, dpo, cp, cpo in reversed(self.undo):
            w.flags, w.dp, w.dpo, w.cp, w.cpo = flags, dp, dpo, cp, cpo
        for t in self.created[n_created:]:
            del self.created_by_id[t.id]
        del self.created[n_created:]
        for pid, _ in self.new_pendings[n_pendings:]:
            del self.new_expiry[pid]
        del self.new_pendings[n_pendings:]
        for change in self.resolved[n_resolved:]:
            del self.resolved_by_id[change.pending_id]
        del self.resolved[n_resolved:]
        del self.history[n_history:]

    def release(self) -> None:
        self.undo = None

    # --- reading and recording ----------------------------------------------------------------
    def work(self, account: Account) -> WorkingBalances:
        """The account's balances as the batch has left them, remembered for a rollback."""
        w = self.working.get(account.id)
        if w is None:
            w = self.working[account.id] = WorkingBalances(account)
        if self.undo is not None:
            self.undo.append((w, w.flags, w.dp, w.dpo, w.cp, w.cpo))
        return w

    def existing(self, transfer_id: int) -> Transfer | None:
        found = self.created_by_id.get(transfer_id)
        return found if found is not None else self.stored.get(transfer_id)

    def find_pending(self, pending_id: int) -> Transfer | None:
        """The transfer a post or void names: created earlier in the batch, or stored."""
        p = self.created_by_id.get(pending_id)
        if p is None:
            info = self.pendings.get(pending_id)
            p = info.transfer if info is not None else self.stored.get(pending_id)
        return p

    def pending_state(self, pid: int) -> tuple[PendingStatus, int]:
        resolved = self.resolved_by_id.get(pid)
        if pid in self.new_expiry:
            return resolved or PendingStatus.PENDING, self.new_expiry[pid]
        info = self.pendings.get(pid)
        if info is None:  # the service loads every referenced pending; treat a gap as final
            return PendingStatus.EXPIRED, 0
        return resolved or info.status, info.expires_at

    def record(self, t: Transfer, dr: WorkingBalances, cr: WorkingBalances, ts: int) -> None:
        self.created.append(t)
        self.created_by_id[t.id] = t
        self.record_history(dr, cr, ts)

    def record_history(self, dr: WorkingBalances, cr: WorkingBalances, ts: int) -> None:
        for w in (dr, cr):
            if w.flags & _HISTORY:
                self.history.append(AccountBalance(w.account.id, ts, w.dp, w.dpo, w.cp, w.cpo))

    def changed_accounts(self) -> dict[int, Account]:
        """Every account whose balances or flags the batch changed, in its final state."""
        return {
            account_id: w.freeze()
            for account_id, w in self.working.items()
            if (w.flags, w.dp, w.dpo, w.cp, w.cpo)
            != (
                w.account.flags,
                w.account.debits_pending,
                w.account.debits_posted,
                w.account.credits_pending,
                w.account.credits_posted,
            )
        }
