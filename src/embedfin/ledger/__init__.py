"""The double-entry ledger: the only writer of money in embedfin.

Owns the ``accounts``, ``transfers``, ``pending_transfers``, ``account_history`` and
``ledger_meta`` tables. Every other package moves funds by submitting transfer batches here and
must never touch these tables itself. Modelled on TigerBeetle's data model: accounts hold four
balances, transfers are immutable, ids are the idempotency keys, business failures are result
codes per event, never exceptions. What each account and transfer code means is in the chart
(``ledger/chart.py``); each context declares its block in its own ``chart`` module, within the
ranges reserved there.

Sign rules (as in every double-entry book)::

    transfer of A from D to C:   D.debits_posted += A     C.credits_posted += A
    pending transfer:            D.debits_pending += A    C.credits_pending += A
    post (amount P <= A):        pending -= A on both; posted += P on both
    void / expiry:               pending -= A on both

Per ledger (one ledger per currency, numbered by its ISO 4217 numeric code) the sum of all debits
equals the sum of all credits, pending and posted alike.
"""

from embedfin.ledger.types import (
    AMOUNT_MAX,
    Account,
    AccountBalance,
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    Transfer,
    TransferFlags,
)

__all__ = [
    "AMOUNT_MAX",
    "Account",
    "AccountBalance",
    "AccountFlags",
    "CreateAccountResult",
    "CreateTransferResult",
    "Transfer",
    "TransferFlags",
]
