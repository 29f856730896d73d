"""The monitor's journal: every movement of money between parties, read off the outbox.

One movement per event, keyed by the event's id, from its payload alone (pure, no I/O):

==================  ==========================  ==========================  ===========
event               from (``src``)              to (``dst``)                kind
==================  ==========================  ==========================  ===========
wallet_topped_up    ``<channel>:<owner>``       the wallet's owner          top_up
wallet_withdrawn    the wallet's owner          ``bank:<owner>``            withdrawal
order_paid          ``buyer:<id>``              ``merchant:<id>``           order
refunded            ``merchant:<id>``           ``buyer:<id>``              refund
order_cancelled     ``merchant:<id>``           ``buyer:<id>``              refund
payout_sent         ``merchant:<id>``           ``bank:merchant:<id>``      payout
==================  ==========================  ==========================  ===========

A buyer is a natural person (``person``), a merchant a legal one (``entity``); channels and
bank accounts are outside the platform (``external``: never reported by a threshold pack, still
nodes of the transaction graph). Each party's funding source and bank account is its own node
(``card:buyer:b-1``, ``bank:buyer:b-1``): the events name no card or account number, and one
node for all of a channel's money would be a hub every burst of sign-ups fans out of. Every
movement is an electronic transfer (``transfer``): an online platform takes no cash. A payload
without a positive whole amount and a three-letter currency is no movement (an unpaid order's
cancellation moves nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from embedfin.core.errors import UnknownCurrency
from embedfin.core.events import StoredEvent
from embedfin.core.money import currency as currency_of

EVENT_TYPES = frozenset(
    {
        "wallet_topped_up",
        "wallet_withdrawn",
        "order_paid",
        "refunded",
        "order_cancelled",
        "payout_sent",
    }
)
PARTY_KINDS = {"buyer": "person", "merchant": "entity"}


@dataclass(frozen=True, slots=True)
class Movement:
    """Money moved from ``src`` to ``dst`` (party keys), at ``occurred_at`` (ns UTC)."""

    tx_id: str
    occurred_at: int
    kind: str
    src: str
    dst: str
    src_kind: str
    dst_kind: str
    amount_minor: int
    currency: str
    reference: str
    channel: str = "transfer"
    cross_border: bool = False

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exactly (minor units scaled by the currency's exponent)."""
        return Decimal(self.amount_minor).scaleb(-currency_of(self.currency).exponent)

    @property
    def t(self) -> Decimal:
        """Seconds since the epoch, as the batch scan's ``t``."""
        return Decimal(self.occurred_at).scaleb(-9)


def _text(value: object, limit: int = 64) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def movement_of(stored: StoredEvent) -> Movement | None:
    """The movement an event records, or ``None`` (another type, no money, a bad payload)."""
    event = stored.event
    p = event.payload
    amount, code = p.get("amount_minor"), p.get("currency")
    if event.type not in EVENT_TYPES or not event.tenant_id:
        return None
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return None
    if not isinstance(code, str) or len(code) != 3 or not code.isalpha() or not code.isupper():
        return None
    try:
        currency_of(code)
    except UnknownCurrency:
        return None
    ends = _ends(event.type, p, event.aggregate_id)
    if ends is None:
        return None
    (src, src_kind), (dst, dst_kind), kind, reference = ends
    return Movement(
        tx_id=event.event_id[:64],
        occurred_at=event.occurred_at_ns,
        kind=kind,
        src=src,
        dst=dst,
        src_kind=src_kind,
        dst_kind=dst_kind,
        amount_minor=amount,
        currency=code,
        reference=reference[:128],
    )


def _party(kind: object, party_id: object) -> tuple[str, str] | None:
    if not isinstance(kind, str) or kind not in PARTY_KINDS:
        return None
    found = _text(party_id)
    return (f"{kind}:{found}", PARTY_KINDS[kind]) if found else None


def _ends(
    event_type: str, p: object, aggregate_id: str
) -> tuple[tuple[str, str], tuple[str, str], str, str] | None:
    assert isinstance(p, dict)
    if event_type in ("wallet_topped_up", "wallet_withdrawn"):
        owner = _party(p.get("owner_kind"), p.get("owner_id"))
        if owner is None:
            return None
        reference = _text(p.get("request_id"), 255) or aggregate_id
        if event_type == "wallet_topped_up":
            channel = _text(p.get("channel"), 32) or "bank"
            return (f"{channel}:{owner[0]}", "external"), owner, "top_up", reference
        return owner, (f"bank:{owner[0]}", "external"), "withdrawal", reference
    if event_type == "payout_sent":
        merchant = _party("merchant", aggregate_id)
        if merchant is None:
            return None
        reference = _text(p.get("batch_id"), 128) or aggregate_id
        return merchant, (f"bank:{merchant[0]}", "external"), "payout", reference
    buyer = _party("buyer", p.get("buyer_id"))
    merchant = _party("merchant", p.get("merchant_id"))
    if buyer is None or merchant is None:
        return None  # a guest's order has no buyer to follow
    if event_type == "order_paid":
        return buyer, merchant, "order", aggregate_id
    return merchant, buyer, "refund", aggregate_id
