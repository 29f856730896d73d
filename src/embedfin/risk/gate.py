"""The port money-moving operations call: ``RiskGate.check`` inside their unit of work.

An operation builds a :class:`~embedfin.risk.decision.RiskSubject`, calls ``check`` in the same
unit of work that will move its money, and gets a :class:`RiskAnswer`:

* ``allow`` — go on; the customer sees nothing;
* ``hold`` (a review on a paid order) — take the payment into escrow and put the order on risk
  hold (not shippable, not releasable) in this unit of work; a case is open;
* ``refusal`` set (a block, a challenge, or a review of an operation that cannot be held) —
  move nothing, let the unit of work commit (it holds the decision, the challenge, the case),
  and raise ``refusal`` after it: the caller gets a typed error naming the decision.

``settle`` tells the risk context how the operation ended (paid or declined), in the unit of work
that learns it: the declines-in-a-row and card-testing signals count on it.

:class:`NoRiskCheck` allows everything and records nothing: the composition with risk control
off (the benchmark's baseline, and the simulator's "no risk control" run).

Pure types only: the service behind the port is ``risk/service.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from embedfin.core.errors import EmbedfinError, RiskRefused
from embedfin.risk.decision import Action, RiskSubject, SubjectKind
from embedfin.risk.merchant import NO_RESERVE, Reserve

if TYPE_CHECKING:
    from embedfin.ledger.service import LedgerTransaction


@dataclass(frozen=True, slots=True)
class RiskAnswer:
    """What the caller does next.

    Attributes:
        decision_id: the stored decision ("" when risk control is off).
        action: the effective action (a passed challenge or a released case is an allow).
        hold: a review of a paid order: pay, and put the order on risk hold.
        refusal: the error to raise once the unit of work has committed; ``None`` to go on.
    """

    decision_id: str
    action: Action
    hold: bool = False
    refusal: RiskRefused | None = None


ALLOWED = RiskAnswer("", Action.ALLOW)


class RiskGate(Protocol):
    def check(
        self,
        tx: LedgerTransaction,
        subject: RiskSubject,
        *,
        attempt: str | None = None,
        token: str | None = None,
        payout_account: str | None = None,
        holdable: bool = False,
    ) -> RiskAnswer:
        """Decide ``subject`` (once: the same subject again gets the stored decision as it
        stands now). ``attempt`` tells apart several tries at one operation (a second card for
        the same order is checked again; a challenge passed on the order carries over).
        ``holdable``: a review can hold the operation (a paid order) instead of refusing it."""
        ...

    def settle(
        self,
        tx: LedgerTransaction,
        kind: SubjectKind,
        reference: str,
        *,
        succeeded: bool,
        attempt: str | None = None,
    ) -> None:
        """How the checked operation ended."""
        ...

    def check_many(
        self, tx: LedgerTransaction, subjects: Sequence[RiskSubject], *, holdable: bool = False
    ) -> list[RiskAnswer | EmbedfinError]:
        """``check`` of many first attempts, decided as one after another, each answered (or
        its own error) — the batch path of group-committed checkouts."""
        ...

    def settle_many(
        self, tx: LedgerTransaction, kind: SubjectKind, outcomes: Sequence[tuple[str, bool]]
    ) -> None:
        """``settle`` of many first attempts: (reference, succeeded)."""
        ...


class NoRiskCheck:
    """Risk control off: everything allowed, nothing recorded."""

    def check(
        self,
        tx: LedgerTransaction,
        subject: RiskSubject,
        *,
        attempt: str | None = None,
        token: str | None = None,
        payout_account: str | None = None,
        holdable: bool = False,
    ) -> RiskAnswer:
        return ALLOWED

    def settle(
        self,
        tx: LedgerTransaction,
        kind: SubjectKind,
        reference: str,
        *,
        succeeded: bool,
        attempt: str | None = None,
    ) -> None:
        return None

    def check_many(
        self, tx: LedgerTransaction, subjects: Sequence[RiskSubject], *, holdable: bool = False
    ) -> list[RiskAnswer | EmbedfinError]:
        return [ALLOWED for _ in subjects]

    def settle_many(
        self, tx: LedgerTransaction, kind: SubjectKind, outcomes: Sequence[tuple[str, bool]]
    ) -> None:
        return None


class ReservePolicy(Protocol):
    """The second port payments calls, at each T+1 settlement: how much of this merchant's
    settlement the rolling reserve holds back, and for how long (``risk/merchants.py``
    implements it from the merchant's risk tier or a risk officer's policy)."""

    def reserve_of(self, tx: LedgerTransaction, merchant_id: str) -> Reserve: ...


class NoReserve:
    """Holds nothing back: the composition with risk control off."""

    def reserve_of(self, tx: LedgerTransaction, merchant_id: str) -> Reserve:
        return NO_RESERVE
