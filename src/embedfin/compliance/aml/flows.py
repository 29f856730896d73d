"""Money passed on: cycles, pass-through chains and scatter-gather, all made of the hops
``detectors.prepare`` stores (table ``hops``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from embedfin.compliance.aml.alerts import Alert, strength_score
from embedfin.compliance.aml.detectors import UNSUMMED, Context, with_totals


def paths(ctx: Context, max_transactions: int) -> list[tuple[Any, ...]]:
    """Chains of hops (time increasing): (rows, accounts, start, end, first amount, last
    amount, currency, closed) for every path from every hop to where it stops."""
    return ctx.rows(
        f"""WITH RECURSIVE path(last, rows, accounts, origin, at_account, start_t, end_t,
                first_amount, last_amount, currency, closed) AS (
            SELECT b, [a, b], [a_src, mid, b_dst], a_src, b_dst, a_t, b_t, a_amount, b_amount,
                currency, b_dst = a_src FROM hops
            UNION ALL
            SELECT h.b, list_append(p.rows, h.b), list_append(p.accounts, h.b_dst), p.origin,
                h.b_dst, p.start_t, h.b_t, p.first_amount, h.b_amount, p.currency,
                h.b_dst = p.origin
            FROM path p JOIN hops h ON h.a = p.last
            WHERE NOT p.closed AND array_length(p.rows) < {max_transactions}
                AND (h.b_dst = p.origin OR NOT list_contains(p.accounts, h.b_dst)))
        SELECT rows, accounts, start_t, end_t, first_amount, last_amount, currency, closed
        FROM path"""
    )


def cycles(ctx: Context, paths: list[tuple[Any, ...]]) -> list[Alert]:
    p = ctx.params
    alerts = []
    seen: set[tuple[int, ...]] = set()
    for rows, accounts, start, end, first, last, currency, closed in paths:
        key = tuple(sorted(rows))
        if not closed or key in seen:
            continue
        seen.add(key)
        kept = float(last) / float(first) if first else 0.0
        reason = (
            f"money went round {len(rows)} accounts and back to {accounts[0]} in "
            f"{(end - start) / 3600:.1f} h, {kept:.0%} of it arriving (each hop within "
            f"{p.hop_s / 3600:g} h, passing on at least {1 - p.pass_tolerance:.0%})"
        )
        alerts.append(
            Alert("cycle", tuple(sorted(set(accounts))), key, int(start), int(end),
                  UNSUMMED, currency, strength_score(len(rows) / 2), (reason,))
        )  # fmt: skip
    return with_totals(ctx, alerts)


def chains(ctx: Context, paths: list[tuple[Any, ...]], cycle_rows: set[int]) -> list[Alert]:
    """Pass-through: maximal chains of hops from a head, long enough, not a cycle's."""
    p = ctx.params
    longest: dict[int, tuple[Any, ...]] = {}
    for path in paths:
        rows, closed = path[0], path[7]
        if closed or len(rows) < p.chain_min_transactions or set(rows) <= cycle_rows:
            continue
        head = rows[0]
        if head not in longest or len(rows) > len(longest[head][0]):
            longest[head] = path
    groups = _merge(sorted(longest.values(), key=lambda path: path[0]))
    alerts = []
    for group in groups:
        rows = sorted({r for path in group for r in path[0]})
        accounts = sorted({a for path in group for a in path[1]})
        start, end = min(path[2] for path in group), max(path[3] for path in group)
        first, last = group[0][4], group[0][5]
        hops = max(len(path[0]) for path in group)
        reason = (
            f"{hops} transfers in a row, each passing on at least {1 - p.pass_tolerance:.0%} of "
            f"what its sender had just received within {p.hop_s / 3600:g} h, over "
            f"{(end - start) / 3600:.1f} h ({float(last) / float(first):.0%} arrived)"
        )
        alerts.append(
            Alert("pass_through", tuple(accounts), tuple(rows), int(start), int(end),
                  UNSUMMED, group[0][6],
                  strength_score(hops / p.chain_min_transactions), (reason,))
        )  # fmt: skip
    return with_totals(ctx, alerts)


def _merge(paths: Sequence[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """Paths sharing a transaction, grouped (union-find on their rows)."""
    parent = list(range(len(paths)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[int, int] = {}
    for i, path in enumerate(paths):
        for row in path[0]:
            if row in owner:
                parent[find(i)] = find(owner[row])
            else:
                owner[row] = i
    groups: dict[int, list[tuple[Any, ...]]] = {}
    for i, path in enumerate(paths):
        groups.setdefault(find(i), []).append(path)
    return list(groups.values())


def scatter_gather(ctx: Context) -> list[Alert]:
    p = ctx.params
    alerts = []
    for origin, target, currency, mids, rows, start, end, sent, arrived in ctx.rows(
        f"""SELECT a_src, b_dst, currency, list(DISTINCT mid), list(a) || list(b), min(a_t),
            max(b_t), sum(a_amount), sum(b_amount)
        FROM hops WHERE a_src <> b_dst GROUP BY a_src, b_dst, currency
        HAVING count(DISTINCT mid) >= {p.scatter_min_paths}
            AND max(b_t) - min(a_t) <= {2 * p.hop_s}
        ORDER BY 1, 2"""
    ):
        reason = (
            f"{origin} sent through {len(mids)} middlemen to {target} within "
            f"{(end - start) / 3600:.1f} h: each passed on at least "
            f"{1 - p.pass_tolerance:.0%} ({float(arrived) / float(sent):.0%} of {sent:,.2f} "
            f"arrived)"
        )
        unique = tuple(sorted(set(rows)))
        alerts.append(
            Alert("scatter_gather", tuple(sorted({origin, target, *mids})), unique, int(start),
                  int(end), UNSUMMED, currency,
                  strength_score(len(mids) / p.scatter_min_paths), (reason,))
        )  # fmt: skip
    return with_totals(ctx, alerts)
