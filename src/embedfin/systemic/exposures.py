"""The exposure network of a tenant's books: who owes whom, from ledger balances (pure).

Each balance of the chart becomes a debt between two parties, or an asset or debt outside the
network (the books read in ``books.py``; the chart positions in ``payments/chart.py``,
``lending/chart.py`` and ``scf/chart.py``):

=====================================  ===================  ===================  ============
balance (code)                         debtor               creditor             edge kind
=====================================  ===================  ===================  ============
buyer wallet (100)                     platform             consumer             wallet
merchant pending, available (200/210)  platform             merchant             balance
merchant reserve (220)                 platform             merchant             reserve
lender funds held (420)                platform             funder               funds_held
channel clearing (2)                   channel              platform             in_transit
loan principal, interest, fees         consumer (borrower)  funder (lender)      loan
  (1200/1210/1220)
certificate held (2110)                core enterprise      holder (supplier or  certificate
                                                            funder)
order advance (2300)                   supplier             funder               advance
inventory loan (2400)                  distributor          funder               inventory
=====================================  ===================  ===================  ============

Outside the network: the client reserve and the platform's operating cash (1, 10) are the
platform's external assets; escrow (300) and commission still in the reserve (400) its external
debts (to buyers not yet confirmed, and to itself). Every other account (income, expense,
the lenders' mirror books, the certificates' payables) is an accounting view of the debts above
and adds nothing. A merchant that is a registered supplier or core enterprise is that node
kind instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

PLATFORM = "platform"

#: (owner kind, code) → (edge kind, the platform is the debtor)
_PLATFORM_OWES = {
    ("buyer", 100): "wallet",
    ("merchant", 200): "balance",
    ("merchant", 210): "balance",
    ("merchant", 220): "reserve",
    ("funder", 420): "funds_held",
}
_PLATFORM_ASSETS = {1, 10}
_PLATFORM_DEBTS_OUTSIDE = {300, 400}
_LOAN_CODES = {1200, 1210, 1220}
_NODE_KIND_OF_OWNER = {"buyer": "consumer", "merchant": "merchant", "funder": "funder",
                       "channel": "channel"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Balance:
    """One account's posted balance, on its normal side.

    Attributes:
        owner_kind, owner_id: whose account (``payments.chart.AccountKey``).
        code: its chart position.
        currency: ISO 4217 code.
        balance_minor: posted credits − debits for a credit-normal account, debits − credits
            for a debit-normal one.
    """

    owner_kind: str
    owner_id: str
    code: int
    currency: str
    balance_minor: int


@dataclass(frozen=True, slots=True)
class Links:
    """What the balances alone do not say: who is behind a loan, a certificate, an advance.

    Attributes:
        loans: loan id → (borrower, funder).
        certificates: certificate id → (core enterprise, holder, holder's role).
        advances: purchase order id → (supplier, funder).
        roles: party id → ``supplier``, ``core`` or ``distributor`` for merchants that are scf
            parties.
        facilities: inventory facility id → (distributor, funder).
    """

    loans: Mapping[str, tuple[str, str]]
    certificates: Mapping[str, tuple[str, str, str]]
    advances: Mapping[str, tuple[str, str]]
    roles: Mapping[str, str]
    facilities: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Node:
    node_id: str
    kind: str
    currency: str
    external_assets_minor: int = 0
    external_liabilities_minor: int = 0


@dataclass(frozen=True, slots=True)
class Edge:
    """``debtor`` owes ``creditor`` ``amount_minor`` of ``currency``, as ``kind``."""

    debtor: str
    creditor: str
    currency: str
    amount_minor: int
    kind: str


@dataclass(frozen=True, slots=True)
class Exposures:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def exposures_of(balances: Iterable[Balance], links: Links) -> Exposures:
    """Nodes and edges (summed per debtor, creditor, currency and kind; zero balances left
    out), every node that appears in an edge or holds outside assets or debts."""
    edges: dict[tuple[str, str, str, str], int] = {}
    outside: dict[tuple[str, str], list[int]] = {}
    kinds: dict[str, str] = {PLATFORM: PLATFORM}

    def owe(debtor: tuple[str, str], creditor: tuple[str, str], cur: str, amount: int,
            kind: str) -> None:  # fmt: skip
        for node_id, node_kind in (debtor, creditor):
            kinds.setdefault(node_id, links.roles.get(node_id, node_kind))
        key = (debtor[0], creditor[0], cur, kind)
        edges[key] = edges.get(key, 0) + amount

    platform = (PLATFORM, PLATFORM)
    for b in balances:
        if b.balance_minor <= 0:
            continue
        owner = (_node_id(b.owner_kind, b.owner_id), _NODE_KIND_OF_OWNER.get(b.owner_kind, ""))
        edge_kind = _PLATFORM_OWES.get((b.owner_kind, b.code))
        if edge_kind is not None:
            owe(platform, owner, b.currency, b.balance_minor, edge_kind)
        elif b.owner_kind == "channel" and b.code == 2:
            owe(owner, platform, b.currency, b.balance_minor, "in_transit")
        elif b.owner_kind == PLATFORM and b.code in _PLATFORM_ASSETS | _PLATFORM_DEBTS_OUTSIDE:
            side = 0 if b.code in _PLATFORM_ASSETS else 1
            outside.setdefault((PLATFORM, b.currency), [0, 0])[side] += b.balance_minor
        elif b.owner_kind == "loan" and b.code in _LOAN_CODES and b.owner_id in links.loans:
            borrower, funder = links.loans[b.owner_id]
            owe((_node_id("buyer", borrower), "consumer"), (_node_id("funder", funder), "funder"),
                b.currency, b.balance_minor, "loan")  # fmt: skip
        elif b.code == 2110 and b.owner_id in links.certificates:
            core, holder, role = links.certificates[b.owner_id]
            holder_kind = "funder" if role == "funder" else "merchant"
            owe((_node_id("merchant", core), "core"), (_node_id(holder_kind, holder), role),
                b.currency, b.balance_minor, "certificate")  # fmt: skip
        elif b.code == 2300 and b.owner_id in links.advances:
            supplier, funder = links.advances[b.owner_id]
            owe((_node_id("merchant", supplier), "supplier"),
                (_node_id("funder", funder), "funder"), b.currency, b.balance_minor,
                "advance")  # fmt: skip
        elif b.code == 2400 and b.owner_id in links.facilities:
            distributor, funder = links.facilities[b.owner_id]
            owe((_node_id("merchant", distributor), "distributor"),
                (_node_id("funder", funder), "funder"), b.currency, b.balance_minor,
                "inventory")  # fmt: skip
    currencies = {cur for (_, _, cur, _) in edges} | {cur for (_, cur) in outside}
    node_ids = {d for (d, _, _, _) in edges} | {c for (_, c, _, _) in edges} | {PLATFORM}
    nodes = []
    for cur in sorted(currencies):
        for node_id in sorted(node_ids):
            assets, debts = outside.get((node_id, cur), [0, 0])
            nodes.append(Node(node_id, kinds.get(node_id, ""), cur, assets, debts))
    return Exposures(
        tuple(nodes),
        tuple(Edge(d, c, cur, amount, kind) for (d, c, cur, kind), amount in sorted(edges.items())),
    )


def _node_id(owner_kind: str, owner_id: str) -> str:
    """One name space for all parties: ``merchant:m-1``, ``funder:bank-1``, ``platform``."""
    if owner_kind == PLATFORM:
        return PLATFORM
    return f"{owner_kind}:{owner_id}"
