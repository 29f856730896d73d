"""One hierarchy of typed domain errors, each with a stable machine code.

Business failures inside a ledger batch are *results*, not exceptions; these errors are for
invalid requests that must change nothing (bad money strings, unknown currencies, bad config).
"""

from __future__ import annotations


class EmbedfinError(Exception):
    """Base of every error embedfin raises on purpose.

    Attributes:
        code: stable, machine-readable identifier (snake_case), mapped once to HTTP at the edge.
    """

    code = "embedfin_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(EmbedfinError):
    code = "invalid_input"


class UnknownCurrency(InvalidInput):
    code = "unknown_currency"


class CurrencyMismatch(InvalidInput):
    code = "currency_mismatch"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"


class AmountOutOfRange(InvalidAmount):
    code = "amount_out_of_range"


class ConfigurationError(EmbedfinError):
    code = "configuration_error"


class ChartConflict(ConfigurationError):
    """Two contexts' chart blocks disagree: overlapping ranges, a code outside its block's
    range, or a code or name declared twice."""

    code = "chart_conflict"


class NotFound(EmbedfinError):
    """An id that does not exist, or that belongs to another tenant (indistinguishable)."""

    code = "not_found"


class InsufficientFunds(EmbedfinError):
    code = "insufficient_funds"


class LimitExceeded(EmbedfinError):
    code = "limit_exceeded"


class IdempotencyMismatch(EmbedfinError):
    """A request id reused with different parameters."""

    code = "idempotency_key_reused"


class InvalidStateTransition(EmbedfinError):
    code = "invalid_state_transition"


class LedgerRejected(EmbedfinError):
    """The ledger refused a movement for a reason the caller could not have prevented."""

    code = "ledger_rejected"


class PaymentDeclined(EmbedfinError):
    code = "payment_declined"
