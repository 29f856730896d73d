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


class InvalidNetwork(InvalidInput):
    """A contagion model's network that cannot be cleared as given: a negative, NaN or infinite
    amount, a matrix of the wrong shape, an unknown node, a rate or shock outside [0, 1]."""

    code = "invalid_network"


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


class VerificationLimit(LimitExceeded):
    """A payment from the wallet balance past what the customer's verification level allows
    (``compliance/aml/diligence.py``); nothing moved."""

    code = "verification_limit"


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


class RiskRefused(EmbedfinError):
    """The risk check refused a money-moving operation; nothing moved.

    Attributes:
        decision_id: the risk decision that refused it (its reasons, features and rule set).
        reasons: the decision's reason codes, most severe first.
    """

    code = "risk_refused"

    def __init__(self, message: str, decision_id: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.decision_id = decision_id
        self.reasons = reasons

    def details(self) -> dict[str, object]:
        """What a client needs to go on (the API adds it to the problem body)."""
        return {"decision_id": self.decision_id, "reasons": list(self.reasons)}


class ChallengeRequired(RiskRefused):
    """Step-up first: the buyer answers the challenge, then the operation is retried."""

    code = "challenge_required"

    def __init__(
        self, message: str, decision_id: str, challenge_id: str, reasons: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, decision_id, reasons)
        self.challenge_id = challenge_id

    def details(self) -> dict[str, object]:
        return {**super().details(), "challenge_id": self.challenge_id}


class HeldForReview(RiskRefused):
    """A person must look first: a case is open; once it is decided for the customer the
    operation can be retried."""

    code = "held_for_review"

    def __init__(
        self, message: str, decision_id: str, case_id: str, reasons: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, decision_id, reasons)
        self.case_id = case_id

    def details(self) -> dict[str, object]:
        return {**super().details(), "case_id": self.case_id}


class ComplianceHold(EmbedfinError):
    """The party's money may not leave the platform while a compliance case is open or was
    confirmed (a sanctions or PEP hit); nothing moved."""

    code = "compliance_hold"


class RiskUnavailable(EmbedfinError):
    """The risk check could not run and this operation fails closed; retry later."""

    code = "risk_unavailable"


class BatchItemRefused(EmbedfinError):
    """One item of an all-or-nothing batch was refused, so nothing in the batch was done.

    Attributes:
        index: the refused item's position in the batch (from 0).
        error: why it was refused; the API answers with its status and gives its code as
            ``item_code``.
    """

    code = "batch_item_refused"

    def __init__(self, index: int, error: EmbedfinError) -> None:
        super().__init__(f"item {index}: {error.message}")
        self.index = index
        self.error = error

    def details(self) -> dict[str, object]:
        return {"index": self.index, "item_code": self.error.code}
