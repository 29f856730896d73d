"""What the pure rules read and return: snapshots, pending states, outcomes, working balances."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from embedfin.ledger.types import (
    Account,
    AccountBalance,
    CreateTransferResult,
    PendingStatus,
    Transfer,
)


@dataclass(frozen=True, slots=True)
class PendingInfo:
    """A stored pending transfer and where it stands.

    Attributes:
        transfer: the pending transfer as stored.
        status: pending, posted, voided or expired.
        expires_at: nanosecond timestamp at which it expires, 0 for never.
    """

    transfer: Transfer
    status: PendingStatus
    expires_at: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the batch may read: the service loads it inside the batch's transaction.

    Attributes:
        accounts: every account the batch names (missing ones are "not found").
        transfers: stored transfers whose ids the batch reuses (for ``exists`` checks).
        pendings: stored pending transfers that the batch posts or voids.
    """

    accounts: Mapping[int, Account]
    transfers: Mapping[int, Transfer] = field(default_factory=dict)
    pendings: Mapping[int, PendingInfo] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A pending transfer reaching its final state.

    Attributes:
        pending_id: the pending transfer.
        status: posted, voided or expired.
        resolved_by: id of the post/void transfer (0 for expiry).
        resolved_at: nanosecond timestamp of the resolution.
    """

    pending_id: int
    status: PendingStatus
    resolved_by: int
    resolved_at: int


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    """What a transfer batch decided and what to persist.

    Attributes:
        results: one result code per submitted transfer, in order.
        created: the transfers to store, timestamps assigned and amounts resolved.
        accounts: final state of every account whose balances or flags changed.
        new_pendings: (pending transfer id, expires_at) for each new pending transfer.
        resolved: pending transfers posted, voided or expired by this batch.
        history: balance rows for ``HISTORY`` accounts.
        last_timestamp: the largest timestamp the batch assigned.
    """

    results: list[CreateTransferResult]
    created: list[Transfer]
    accounts: dict[int, Account]
    new_pendings: list[tuple[int, int]]
    resolved: list[PendingChange]
    history: list[AccountBalance]
    last_timestamp: int


class WorkingBalances:
    """Mutable balances of one account while a batch runs (never escapes the rules)."""

    __slots__ = ("account", "cp", "cpo", "dp", "dpo", "flags")

    def __init__(self, account: Account) -> None:
        self.account = account
        self.flags = int(account.flags)
        self.dp = account.debits_pending
        self.dpo = account.debits_posted
        self.cp = account.credits_pending
        self.cpo = account.credits_posted

    def freeze(self) -> Account:
        a = self.account
        return Account(
            a.id,
            a.ledger,
            a.code,
            self.flags,
            a.user_data_128,
            a.user_data_64,
            a.user_data_32,
            self.dp,
            self.dpo,
            self.cp,
            self.cpo,
            a.timestamp,
        )
