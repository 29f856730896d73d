"""Rules for creating accounts (pure): validation in TigerBeetle's order, linked chains."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from embedfin.ledger.chains import run_linked
from embedfin.ledger.types import (
    U16_MAX,
    U32_MAX,
    U128_MAX,
    Account,
    AccountFlags,
    CreateAccountResult,
)
from embedfin.ledger.validation import bad_u128, bad_user_data

AR = CreateAccountResult
_DMNEC = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CMNED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
_ACCOUNT_CREATE_FLAGS = int(
    AccountFlags.LINKED
    | AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
    | AccountFlags.HISTORY
)


@dataclass(frozen=True, slots=True)
class AccountOutcome:
    results: list[CreateAccountResult]
    created: list[Account]
    last_timestamp: int


class _AccountBatch:
    def __init__(self, stored: Mapping[int, Account], first_timestamp: int) -> None:
        self.stored = stored
        self.first_timestamp = first_timestamp
        self.created: list[Account] = []
        self.created_by_id: dict[int, Account] = {}

    def savepoint(self) -> object:
        return len(self.created)

    def rollback(self, mark: object) -> None:
        assert isinstance(mark, int)
        for a in self.created[mark:]:
            del self.created_by_id[a.id]
        del self.created[mark:]

    def execute(self, index: int, a: Account) -> CreateAccountResult:
        if a.timestamp != 0:
            return AR.TIMESTAMP_MUST_BE_ZERO
        if a.flags & ~_ACCOUNT_CREATE_FLAGS or a.flags < 0:
            return AR.RESERVED_FLAG
        if a.id == 0:
            return AR.ID_MUST_NOT_BE_ZERO
        if a.id == U128_MAX:
            return AR.ID_MUST_NOT_BE_INT_MAX
        if bad_u128(a.id):
            return AR.ID_OUT_OF_RANGE
        if a.flags & _DMNEC and a.flags & _CMNED:
            return AR.FLAGS_ARE_MUTUALLY_EXCLUSIVE
        if a.debits_pending:
            return AR.DEBITS_PENDING_MUST_BE_ZERO
        if a.debits_posted:
            return AR.DEBITS_POSTED_MUST_BE_ZERO
        if a.credits_pending:
            return AR.CREDITS_PENDING_MUST_BE_ZERO
        if a.credits_posted:
            return AR.CREDITS_POSTED_MUST_BE_ZERO
        if bad_user_data(a):
            return AR.USER_DATA_OUT_OF_RANGE
        if a.ledger == 0:
            return AR.LEDGER_MUST_NOT_BE_ZERO
        if not 0 < a.ledger <= U32_MAX:
            return AR.LEDGER_OUT_OF_RANGE
        if a.code == 0:
            return AR.CODE_MUST_NOT_BE_ZERO
        if not 0 < a.code <= U16_MAX:
            return AR.CODE_OUT_OF_RANGE
        found = self.created_by_id.get(a.id) or self.stored.get(a.id)
        if found is not None:
            return _compare_account(a, found)
        created = Account(
            a.id,
            a.ledger,
            a.code,
            int(a.flags) & ~int(AccountFlags.LINKED),
            a.user_data_128,
            a.user_data_64,
            a.user_data_32,
            timestamp=self.first_timestamp + index,
        )
        self.created.append(created)
        self.created_by_id[a.id] = created
        return AR.OK


def _compare_account(a: Account, e: Account) -> CreateAccountResult:
    if a.flags & ~int(AccountFlags.LINKED) != e.flags & ~int(AccountFlags.CLOSED):
        return AR.EXISTS_WITH_DIFFERENT_FLAGS
    if a.user_data_128 != e.user_data_128:
        return AR.EXISTS_WITH_DIFFERENT_USER_DATA_128
    if a.user_data_64 != e.user_data_64:
        return AR.EXISTS_WITH_DIFFERENT_USER_DATA_64
    if a.user_data_32 != e.user_data_32:
        return AR.EXISTS_WITH_DIFFERENT_USER_DATA_32
    if a.ledger != e.ledger:
        return AR.EXISTS_WITH_DIFFERENT_LEDGER
    if a.code != e.code:
        return AR.EXISTS_WITH_DIFFERENT_CODE
    return AR.EXISTS


def create_accounts(
    batch: Sequence[Account], stored: Mapping[int, Account], first_timestamp: int
) -> AccountOutcome:
    """Validate a batch of new accounts against the ``stored`` accounts with the same ids."""
    run = _AccountBatch(stored, first_timestamp)
    results = run_linked(
        batch,
        lambda a: bool(a.flags & int(AccountFlags.LINKED)),
        run.execute,
        run.savepoint,
        run.rollback,
        lambda: None,
        AR.OK,
        AR.LINKED_EVENT_FAILED,
        AR.LINKED_EVENT_CHAIN_OPEN,
    )
    return AccountOutcome(results, run.created, first_timestamp + max(len(batch) - 1, 0))
