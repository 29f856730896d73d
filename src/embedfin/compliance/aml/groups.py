"""Groups: receivers paid by the same several senders (bipartite), and layers of them (stack).

Receivers that share three or more senders within ``group_window_s`` far more often than their
numbers of senders make likely (``bipartite_lift``) are joined into a group; a stack is two
groups where the second's senders are the first's receivers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from embedfin.compliance.aml.alerts import Alert, strength_score
from embedfin.compliance.aml.detectors import DAY_S, UNSUMMED, Context, with_totals


@dataclass(frozen=True, slots=True)
class _Group:
    senders: frozenset[str]
    receivers: frozenset[str]
    rows: tuple[int, ...]
    start_t: int
    end_t: int
    currency: str
    lift: float


def _groups(ctx: Context) -> list[_Group]:
    """Receivers paid by the same several senders within ``group_window_s``, far more often
    than their numbers of senders make likely (``bipartite_lift``), joined into groups."""
    p = ctx.params
    w = int(p.group_window_s)
    span = max(ctx.span_s, w)
    senders_total = ctx.rows("SELECT count(DISTINCT src) FROM tx")[0][0] or 1
    ctx.keep(
        "burst_edges",
        f"""WITH counted AS (SELECT src, currency, count(*) OVER (PARTITION BY src, currency
            ORDER BY t RANGE BETWEEN {w} PRECEDING AND {w} FOLLOWING) AS k FROM tx),
        candidates AS (SELECT DISTINCT src, currency FROM counted
            WHERE k >= {p.bipartite_min_targets}),
        w AS (SELECT row_no, tx.src, dst, tx.currency, t, count(DISTINCT dst) OVER (
            PARTITION BY tx.src, tx.currency ORDER BY t
            RANGE BETWEEN {w} PRECEDING AND {w} FOLLOWING) AS n
            FROM tx SEMI JOIN candidates c ON c.src = tx.src AND c.currency = tx.currency)
        SELECT row_no, src, dst, currency, t FROM w WHERE n >= {p.bipartite_min_targets}""",
    )
    pairs = ctx.rows(
        f"""WITH co AS (
            SELECT e1.dst AS d1, e2.dst AS d2, e1.currency, count(DISTINCT e1.src) AS common
            FROM burst_edges e1 JOIN burst_edges e2 ON e1.src = e2.src
                AND e1.currency = e2.currency AND e1.dst < e2.dst AND abs(e1.t - e2.t) <= {w}
            WHERE e1.dst <> e1.src AND e2.dst <> e2.src
            GROUP BY ALL HAVING count(DISTINCT e1.src) >= {p.bipartite_min_sources})
        SELECT co.d1, co.d2, co.currency, co.common,
            co.common / greatest(t1.n_in * t2.n_in / {senders_total} * {2 * w} / {span}, 1e-9)
        FROM co JOIN totals t1 ON t1.account = co.d1 AND t1.currency = co.currency
            JOIN totals t2 ON t2.account = co.d2 AND t2.currency = co.currency"""
    )
    strong = [(d1, d2, cur, lift) for d1, d2, cur, _, lift in pairs if lift >= p.bipartite_lift]
    components = [c for c in _components(strong) if len(c[0]) >= p.bipartite_min_targets]
    if not components:
        return []
    ctx.engine.put(
        "group_receivers",
        [("i", "BIGINT"), ("currency", "VARCHAR"), ("dst", "VARCHAR")],
        [(i, currency, r) for i, (receivers, currency, _) in enumerate(components)
         for r in sorted(receivers)],
    )  # fmt: skip
    senders_of: dict[int, list[tuple[Any, ...]]] = {}
    for i, *row in ctx.rows(  # every component's senders in one query, not one per component
        """SELECT g.i, e.src, list_sort(list(e.row_no)), list(DISTINCT e.dst), min(e.t), max(e.t)
        FROM burst_edges e JOIN group_receivers g ON g.currency = e.currency AND g.dst = e.dst
        GROUP BY g.i, e.src HAVING count(DISTINCT e.dst) >= 2"""
    ):
        senders_of.setdefault(int(i), []).append(tuple(row))
    groups = []
    for i, (receivers, currency, lift) in enumerate(components):
        found = sorted(senders_of.get(i, []), key=lambda row: str(row[0]))
        senders = [row for row in found if len(row[2]) >= p.bipartite_min_targets]
        if len(senders) < p.bipartite_min_sources:
            continue
        rows = tuple(sorted(r for row in senders for r in row[1]))
        groups.append(
            _Group(frozenset(row[0] for row in senders), frozenset(receivers), rows,
                   min(int(row[3]) for row in senders), max(int(row[4]) for row in senders),
                   currency, lift)
        )  # fmt: skip
    return groups


def _components(
    pairs: Iterable[tuple[str, str, str, float]],
) -> list[tuple[set[str], str, float]]:
    """Connected receivers (per currency) and the weakest lift that joined them."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    lifts: dict[tuple[str, str], float] = {}
    edges = list(pairs)
    for d1, d2, currency, _ in edges:
        parent[find((currency, d1))] = find((currency, d2))
    for d1, _, currency, lift in edges:
        root = find((currency, d1))
        lifts[root] = min(lifts.get(root, lift), lift)
    members: dict[tuple[str, str], set[str]] = {}
    for node in list(parent):
        members.setdefault(find(node), set()).add(node[1])
    return [(names, root[0], lifts[root]) for root, names in members.items()]


def groups(ctx: Context) -> list[Alert]:
    """Bipartite groups, and stacks where one group's receivers send as the next group."""
    p = ctx.params
    found = _groups(ctx)
    stacked: set[int] = set()
    alerts = []
    for i, first in enumerate(found):
        for j, second in enumerate(found):
            if i == j or first.currency != second.currency or second.start_t < first.start_t:
                continue
            if len(first.receivers & second.senders) >= 2:
                stacked.update((i, j))
                rows = tuple(sorted({*first.rows, *second.rows}))
                layers = (len(first.senders), len(first.receivers), len(second.receivers))
                reason = (
                    f"layers of {layers[0]}, {layers[1]} and {layers[2]} accounts, each paying "
                    f"every account of the next within {p.group_window_s / DAY_S:g} days"
                )
                accounts = first.senders | first.receivers | second.senders | second.receivers
                alerts.append(
                    Alert("stack", tuple(sorted(accounts)), rows, first.start_t, second.end_t,
                          UNSUMMED, first.currency,
                          strength_score(min(first.lift, second.lift) / p.bipartite_lift),
                          (reason,))
                )  # fmt: skip
    for i, group in enumerate(found):
        if i in stacked:
            continue
        reason = (
            f"{len(group.senders)} senders each paid the same {len(group.receivers)} or more "
            f"receivers within {p.group_window_s / DAY_S:g} days: {group.lift:.0f}× what their "
            f"numbers of senders make likely"
        )
        alerts.append(
            Alert("bipartite", tuple(sorted(group.senders | group.receivers)), group.rows,
                  group.start_t, group.end_t, UNSUMMED, group.currency,
                  strength_score(group.lift / p.bipartite_lift), (reason,))
        )  # fmt: skip
    return with_totals(ctx, alerts)
