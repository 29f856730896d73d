"""Judging a bank run: what every acknowledged answer promised, against the books.

The checks read the history the clients kept, the API (balances, replays) and the database
(orders, wallet movements, refunds, the audit log), and count violations:

* ``lost_acknowledged``: an acknowledged effect is missing (a movement, a paid order, a refund).
* ``unacknowledged_effects``: an effect nobody was told about (a refund booked but answered
  declined, a paid order or a movement no answer names).
* ``wallet_mismatches``: a buyer's balance is not what the acknowledged ops add up to (a top-up
  applied twice shows here).
* ``negative_balances``, ``duplicate_audit_entries`` (two ``order.refunds`` entries for one
  refund), ``burst_violations`` (a same-key burst answered other than once plus replays or 409),
  ``replay_mismatches`` (a retry after the run answered differently), ``stuck_claims`` (a retry
  still 409 "in flight" long after the run), ``unanswered`` and ``server_errors``.

``replay_all`` runs first: it re-sends every op that got no answer (so its effect is known), a
sample of the others, and every acknowledged op's answer must come back unchanged.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from typing import Any

import httpx
from sqlalchemy import Engine, Row, select

from embedfin.bench.bank_ops import CURRENCY, IN_FLIGHT, Body, History, Market, Op
from embedfin.db.tables import audit_log, orders, refunds, wallet_movements


@dataclass(slots=True)
class Violations:
    """Every violation count of a bank run; all must be 0."""

    server_errors: int = 0
    unanswered: int = 0
    lost_acknowledged: int = 0
    unacknowledged_effects: int = 0
    wallet_mismatches: int = 0
    negative_balances: int = 0
    duplicate_audit_entries: int = 0
    burst_violations: int = 0
    replay_mismatches: int = 0
    stuck_claims: int = 0
    check_failed: int = 0
    audit_failed: int = 0
    samples: list[str] = field(default_factory=list)

    def flag(self, name: str, detail: str, n: int = 1) -> None:
        setattr(self, name, getattr(self, name) + n)
        if len(self.samples) < 30:
            self.samples.append(f"{name}: {detail}")

    def counts(self) -> dict[str, int]:
        """Each count by name (the samples aside)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "samples"}


# --- answers ------------------------------------------------------------------------------------
def check_bursts(history: History, found: Violations) -> None:
    """A burst's copies: one answer, the rest replays of it or 409 "in flight", never 5xx."""
    for op in history.ops:
        if op.copies < 2:
            continue
        final = [(s, b) for s, b in op.answers if not (s == 409 and b.get("code") == IN_FLIGHT)]
        ok_bodies = {_canonical(b) for s, b in final if 200 <= s < 300}
        statuses = {s for s, _ in final}
        if any(s >= 500 for s in statuses):
            found.flag("burst_violations", f"{op.kind} {op.key}: 5xx among {sorted(statuses)}")
        elif len(ok_bodies) > 1:
            found.flag("burst_violations", f"{op.kind} {op.key}: {len(ok_bodies)} different 2xx")
        elif len(statuses) > 1:
            found.flag("burst_violations", f"{op.kind} {op.key}: answers {sorted(statuses)}")
        elif not final:
            found.flag("burst_violations", f"{op.kind} {op.key}: only 409 in flight")


def replay_all(
    market: Market, history: History, found: Violations, seed: int, sample: int = 400
) -> None:
    """Re-send ops under their keys: the unanswered ones all (their answer settles them), a
    sample of the answered; an answer must replay unchanged and never stay 409 for long."""
    rng = random.Random(seed)
    unsettled = [op for op in history.ops if op.uncertain]
    settled = [op for op in history.ops if not op.uncertain]
    chosen = unsettled + rng.sample(settled, min(sample, len(settled)))
    with httpx.Client(base_url=market.base_url, timeout=60) as http:
        for op in chosen:
            status, body = _replay(http, market, op, found)
            if status is None:
                continue
            was_settled = not op.uncertain
            changed = status != op.status or (
                op.acknowledged and _canonical(body) != _canonical(op.answer or {})
            )
            if was_settled and changed:
                found.flag("replay_mismatches", f"{op.kind} {op.key}: {op.status} then {status}")
            if not op.acknowledged:  # its effect is now known from the replay's answer
                op.answers.append((status, body))
                op.settle()
    for op in history.ops:
        if op.uncertain:
            found.flag("unanswered", f"{op.kind} {op.key}: {[s for s, _ in op.answers]}")


def _replay(
    http: httpx.Client, market: Market, op: Op, found: Violations, wait_s: float = 30.0
) -> tuple[int | None, Body]:
    headers = market.headers | {"Idempotency-Key": op.key}
    deadline = time.monotonic() + wait_s
    while True:
        try:
            response = http.post(op.path, json=op.body, headers=headers)
        except httpx.TransportError as error:
            found.flag("unanswered", f"replay of {op.kind} {op.key}: {type(error).__name__}")
            return None, {}
        body = response.json()
        if response.status_code >= 500:
            found.flag("server_errors", f"replay of {op.kind} {op.key}: {response.status_code}")
            return None, {}
        if not (response.status_code == 409 and body.get("code") == IN_FLIGHT):
            return response.status_code, body
        if time.monotonic() > deadline:
            found.flag("stuck_claims", f"{op.kind} {op.key} still in flight after {wait_s:.0f} s")
            return None, {}
        time.sleep(0.5)


def _canonical(body: Body) -> str:
    return json.dumps(body, sort_keys=True)


# --- the books ----------------------------------------------------------------------------------
def check_balances(market: Market, history: History, found: Violations) -> None:
    """No negative balance anywhere; each buyer's wallet is what its acknowledged ops add up to."""
    expected = wallet_model(history)
    uncertain = {op.buyer for op in history.ops if op.uncertain}
    with httpx.Client(base_url=market.base_url, headers=market.headers, timeout=60) as http:
        for buyer in market.buyers:
            got = http.get(f"/v1/customers/{buyer}/balance", params={"currency": CURRENCY}).json()
            if got["available"] < 0 or got["held"] < 0:
                found.flag("negative_balances", f"buyer {buyer}: {got}")
            if buyer not in uncertain and got["available"] != expected.get(buyer, 0):
                found.flag(
                    "wallet_mismatches",
                    f"{buyer}: {got['available']} in the wallet,"
                    f" the acknowledged ops add up to {expected.get(buyer, 0)}",
                )
        for merchant in market.merchants:
            got = http.get(f"/v1/merchants/{merchant}/balance").json()
            if got["available"] < 0 or got["held"] < 0:
                found.flag("negative_balances", f"merchant {merchant}: {got}")


def wallet_model(history: History) -> dict[str, int]:
    """Each buyer's wallet as the acknowledged ops say: top-ups in, withdrawals and wallet
    checkouts out, refunds of wallet-paid orders back in (a card order refunds to the card)."""
    balance: defaultdict[str, int] = defaultdict(int)
    wallet_orders = {
        op.order for op in history.ops if op.acknowledged and op.kind == "wallet_order"
    }
    for op in history.ops:
        if not op.acknowledged or op.answer is None:
            continue
        if op.kind == "top_up":
            balance[op.buyer] += int(op.body["amount"])
        elif op.kind == "withdrawal":
            balance[op.buyer] -= int(op.body["amount"])
        elif op.kind == "wallet_order":
            balance[op.buyer] -= int(op.answer["amount_paid"])
        elif op.kind == "refund" and op.order in wallet_orders:
            balance[op.buyer] += int(op.body["amount"])
    return dict(balance)


def check_books(engine: Engine, tenant: str, history: History, found: Violations) -> None:
    """Every acknowledged effect in the database, and no effect beyond what was acknowledged."""
    with engine.connect() as conn:
        paid = {
            r.order_id: r
            for r in conn.execute(
                select(orders).where(orders.c.tenant == tenant, orders.c.paid_minor > 0)
            )
        }
        movements = set(
            conn.execute(
                select(wallet_movements.c.transfer_id).where(wallet_movements.c.tenant == tenant)
            ).scalars()
        )
        audited = Counter(
            conn.execute(
                select(audit_log.c.target).where(
                    audit_log.c.tenant == tenant, audit_log.c.action == "order.refunds"
                )
            ).scalars()
        )
        booked = Counter(
            conn.execute(
                select(refunds.c.order_id).where(
                    refunds.c.tenant == tenant, refunds.c.status == "succeeded"
                )
            ).scalars()
        )
    _check_orders(history, paid, found)
    _check_movements(history, movements, found)
    _check_refunds(history, paid, audited, booked, found)


def _check_orders(history: History, paid: dict[str, Row[Any]], found: Violations) -> None:
    acked = {op.order: op for op in history.ops if op.acknowledged and op.kind.endswith("_order")}
    for order_id, op in acked.items():
        row = paid.get(str(order_id))
        if row is None or row.paid_minor != row.total_minor:
            found.flag("lost_acknowledged", f"order {order_id} acknowledged ({op.key}), not paid")
    unsettled = sum(1 for op in history.ops if op.kind.endswith("_order") and op.uncertain)
    extra = [order_id for order_id in paid if order_id not in acked]
    if len(extra) > unsettled:
        found.flag(
            "unacknowledged_effects",
            f"{len(extra)} paid orders no answer names (e.g. {extra[:3]})",
            len(extra) - unsettled,
        )


def _check_movements(history: History, movements: set[int], found: Violations) -> None:
    acked = {
        int(str(op.answer["id"]).removeprefix("wm_"), 16): op
        for op in history.ops
        if op.acknowledged and op.answer is not None and op.kind in ("top_up", "withdrawal")
    }
    for transfer_id, op in acked.items():
        if transfer_id not in movements:
            found.flag("lost_acknowledged", f"{op.kind} {op.key} acknowledged, no movement")
    unsettled = sum(1 for op in history.ops if op.kind in ("top_up", "withdrawal") and op.uncertain)
    extra = len(movements - acked.keys())
    if extra > unsettled:
        found.flag(
            "unacknowledged_effects", f"{extra} wallet movements no answer names", extra - unsettled
        )


def _check_refunds(
    history: History,
    paid: dict[str, Row[Any]],
    audited: Counter[str],
    booked: Counter[str],
    found: Violations,
) -> None:
    acked_minor: defaultdict[str, int] = defaultdict(int)
    acked_count: Counter[str] = Counter()
    unsettled: Counter[str] = Counter()
    for op in history.ops:
        if op.kind != "refund" or op.order is None:
            continue
        if op.acknowledged:
            acked_minor[op.order] += int(op.body["amount"])
            acked_count[op.order] += 1
        elif op.uncertain:
            unsettled[op.order] += 1
    for order_id, row in paid.items():
        refunded = int(row.refunded_minor)
        want = acked_minor.get(order_id, 0)
        if refunded < want:
            found.flag(
                "lost_acknowledged", f"order {order_id}: {refunded} refunded, {want} acknowledged"
            )
        elif refunded > want and not unsettled[order_id]:
            found.flag(
                "unacknowledged_effects",
                f"order {order_id}: {refunded} refunded, {want} acknowledged",
            )
        limit = acked_count[order_id] + unsettled[order_id]
        if audited[order_id] > limit:
            found.flag(
                "duplicate_audit_entries",
                f"order {order_id}: {audited[order_id]} order.refunds entries, {limit} refunds",
                audited[order_id] - limit,
            )
        if booked[order_id] > limit:
            found.flag(
                "unacknowledged_effects",
                f"order {order_id}: {booked[order_id]} booked refunds,"
                f" {acked_count[order_id]} acknowledged",
                booked[order_id] - limit,
            )
