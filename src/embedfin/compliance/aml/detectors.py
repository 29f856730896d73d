"""The typologies, each a DuckDB query over table ``tx`` (``transactions.py``).

Every detector keeps to one currency at a time and explains itself. Three ideas carry them:

* **A burst, not a hub.** A marketplace's busy accounts receive from thousands; a fan-in is a
  burst against the account's own rate: the counterparties in the window against what its
  other transactions would put there (``burst_ratio``), and unlikely by chance — the Poisson
  chance of so many at that rate, across every account and window of the data, below
  ``burst_false_alarms`` expected chance alerts per scan. The same holds for fan-out, smurfing,
  gather-scatter and the groups of a bipartite pattern (against chance, ``bipartite_lift``).
* **Money passed on.** A *hop* is an incoming transfer followed, within ``hop_s``, by an
  outgoing one of nearly the same amount (between ``1 − pass_tolerance`` and ``1 + keep`` of it,
  ``keep`` = 1%) — ``flows.py`` — through an account that received little else around it (at most
  ``hop_max_inflows`` transfers within ``hop_s`` either side, or this one at least half of
  what came in then: a busy shop paying a supplier the price of one of its many sales passes
  nothing on). Hops are computed once (table ``hops``) and make the cycles (a chain of hops
  back to where it started), the pass-through chains (``chain_min_transactions`` or more
  transactions in a chain of hops) and scatter-gather (``scatter_min_paths`` or more
  two-transaction paths from one account to another through different middlemen).
* **Just below the line.** Structuring is a party's transfers each within
  ``structuring_margin`` below ``structuring_threshold``, several in ``structuring_window_s``,
  adding up past it; smurfing is many parties doing so into one account.

Bipartite groups and stacks (layers of complete bipartite transfers) are in ``groups.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any

from embedfin.compliance.aml.alerts import Alert, strength_score
from embedfin.compliance.aml.engines import Engine
from embedfin.core.errors import InvalidInput

DAY_S = 86_400
#: A hop may pass on up to 1% more than came in (rounding, a top-up from the balance).
KEEP = 0.01


@dataclass(frozen=True, slots=True)
class AmlParams:
    """The detectors' thresholds; every one can be set (``embedfin aml scan --params``)."""

    fan_window_s: int = 3 * DAY_S
    fan_degree: int = 8
    burst_ratio: float = 4.0
    burst_false_alarms: float = 1.0
    hop_s: int = 2 * DAY_S
    hop_max_inflows: int = 3
    pass_tolerance: float = 0.1
    cycle_max_transactions: int = 8
    chain_min_transactions: int = 3
    chain_max_transactions: int = 10
    scatter_min_paths: int = 3
    gather_min_sources: int = 5
    gather_min_targets: int = 5
    gather_out_share: float = 0.8
    group_window_s: int = 2 * DAY_S
    bipartite_min_sources: int = 3
    bipartite_min_targets: int = 3
    bipartite_lift: float = 20.0
    structuring_threshold: Decimal = Decimal(10_000)
    structuring_margin: float = 0.1
    structuring_window_s: int = DAY_S
    structuring_min_count: int = 3
    smurfing_margin: float = 0.5
    smurfing_min_sources: int = 4

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                raise InvalidInput(f"{f.name} must be a number, got {value!r}")
            if value <= 0:
                raise InvalidInput(f"{f.name} must be positive, got {value}")
        for name in ("pass_tolerance", "structuring_margin", "smurfing_margin", "gather_out_share"):
            if not 0 < getattr(self, name) < 1:
                raise InvalidInput(f"{name} must be between 0 and 1")
        if self.chain_min_transactions < 2 or self.cycle_max_transactions < 2:
            raise InvalidInput("chains and cycles have at least two transactions")
        if self.chain_max_transactions < self.chain_min_transactions:
            raise InvalidInput("chain_max_transactions must be at least chain_min_transactions")
        for name in ("fan_degree", "scatter_min_paths", "gather_min_sources", "gather_min_targets",
                     "bipartite_min_sources", "bipartite_min_targets", "structuring_min_count",
                     "smurfing_min_sources"):  # fmt: skip
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 2:
                raise InvalidInput(f"{name} must be a whole number of at least 2")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> AmlParams:
        """From a JSON object; an unknown name is refused."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise InvalidInput(f"unknown parameter(s) {', '.join(unknown)}")
        given = dict(values)
        if "structuring_threshold" in given:
            given["structuring_threshold"] = Decimal(str(given["structuring_threshold"]))
        return cls(**given)


def poisson_tail(n: int, rate: float) -> float:
    """P(X ≥ n) for X ~ Poisson(``rate``), summed from the tail (exact to double precision
    however small; the terms fall fast once ``n`` is past the rate, as in a burst)."""
    if n <= 0:
        return 1.0
    if rate <= 0:
        return 0.0
    term = math.exp(-rate + n * math.log(rate) - math.lgamma(n + 1))
    total, k = 0.0, n
    while term > 0 and (term > total * 1e-17 or k < rate):
        total += term
        k += 1
        term *= rate / k
        if k > n + 100_000:  # a rate far above n: the tail is nearly all of it
            break
    return min(total, 1.0)


@dataclass(frozen=True, slots=True)
class Context:
    """What every detector shares: the engine, the parameters, the data's span."""

    engine: Engine
    params: AmlParams
    span_s: int
    #: times are whole days (a ``step`` file): a hop may pass money on the same day
    coarse: bool = False

    def rows(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.engine.rows(sql, parameters)

    def keep(self, table: str, sql: str) -> None:
        self.engine.keep(table, sql)


def prepare(ctx: Context) -> None:
    """The shared tables: ``hops`` (money passed on) and the per-account totals."""
    p = ctx.params
    hop = int(p.hop_s)
    ctx.keep(
        "quiet_in",
        f"""SELECT * FROM (SELECT *, count(*) OVER around AS inflows, sum(amount) OVER around
            AS inflow FROM tx WINDOW around AS (PARTITION BY dst, currency ORDER BY t
            RANGE BETWEEN {hop} PRECEDING AND {hop} FOLLOWING))
        WHERE inflows <= {int(p.hop_max_inflows)} OR amount * 2 >= inflow""",
    )
    ctx.keep(
        "hops",
        f"""SELECT a.row_no AS a, b.row_no AS b, a.src AS a_src, a.dst AS mid, b.dst AS b_dst,
               a.t AS a_t, b.t AS b_t, a.amount AS a_amount, b.amount AS b_amount, a.currency
        FROM quiet_in a JOIN tx b ON b.src = a.dst AND b.currency = a.currency
        WHERE b.t {">=" if ctx.coarse else ">"} a.t AND b.t <= a.t + {int(p.hop_s)}
          AND b.amount >= a.amount * {1 - p.pass_tolerance} AND b.amount <= a.amount * {1 + KEEP}
          AND a.src <> a.dst AND b.src <> b.dst""",
    )
    ctx.keep(
        "totals",
        """SELECT account, currency, sum(n_in) AS n_in, sum(n_out) AS n_out FROM (
            SELECT dst AS account, currency, count(*) AS n_in, 0 AS n_out FROM tx GROUP BY ALL
            UNION ALL
            SELECT src, currency, 0, count(*) FROM tx GROUP BY ALL) GROUP BY ALL""",
    )


# --- fans: a burst of counterparties -----------------------------------------------------
def _fan_episodes(
    ctx: Context,
    hub: str,
    other: str,
    window_s: int,
    degree: int,
    where: str = "TRUE",
    *,
    chance_test: bool = True,
) -> list[tuple[Any, ...]]:
    """Per (hub, currency), the episodes where ``degree`` or more distinct counterparties
    (``other``) transacted within ``window_s``, ``burst_ratio`` times what the hub's other
    transactions would bring into such a window and unlikely by chance (``burst_false_alarms``):
    (hub, currency, start, end, most counterparties, its ratio, its chance, rows,
    counterparties, total)."""
    p = ctx.params
    span = max(ctx.span_s, window_s)
    count = "n_in" if hub == "dst" else "n_out"
    found = ctx.rows(
        f"""WITH base AS (SELECT * FROM tx WHERE {where}),
        counted AS (
            SELECT {hub} AS hub, currency, count(*) OVER (PARTITION BY {hub}, currency
                ORDER BY t RANGE BETWEEN CURRENT ROW AND {window_s} FOLLOWING) AS k FROM base),
        candidates AS (  -- a cheap superset: transactions bound distinct counterparties
            SELECT DISTINCT c.hub, c.currency FROM counted c JOIN totals tot
                ON tot.account = c.hub AND tot.currency = c.currency
            WHERE c.k >= {degree}
              AND c.k / greatest((tot.{count} - c.k) * {window_s} / {span}, 1.0)
                  >= {p.burst_ratio}),
        w AS (
            SELECT b.{hub} AS hub, b.currency, b.t, count(DISTINCT b.{other}) OVER (
                PARTITION BY b.{hub}, b.currency ORDER BY b.t
                RANGE BETWEEN CURRENT ROW AND {window_s} FOLLOWING) AS n,
                count(*) OVER (PARTITION BY b.{hub}, b.currency ORDER BY b.t
                RANGE BETWEEN CURRENT ROW AND {window_s} FOLLOWING) AS k
            FROM base b SEMI JOIN candidates c ON c.hub = b.{hub} AND c.currency = b.currency),
        anchors AS (
            SELECT w.hub, w.currency, w.t, w.n,
                w.n / greatest((tot.{count} - w.k) * {window_s} / {span}, 1.0) AS ratio
            FROM w JOIN totals tot ON tot.account = w.hub AND tot.currency = w.currency
            WHERE w.n >= {degree}),
        burst AS (SELECT * FROM anchors WHERE ratio >= {p.burst_ratio}),
        marked AS (
            SELECT *, CASE WHEN t - lag(t) OVER (PARTITION BY hub, currency ORDER BY t)
                <= {window_s} THEN 0 ELSE 1 END AS new_ep FROM burst),
        eps AS (
            SELECT hub, currency, sum(new_ep) OVER (PARTITION BY hub, currency ORDER BY t) AS ep,
                t, n, ratio FROM marked),
        tops AS (  -- the most counterparties; of the windows with that many, the least expected
            SELECT *, max(n) OVER (PARTITION BY hub, currency, ep) AS top FROM eps),
        spans AS (
            SELECT hub, currency, ep, min(t) AS start_t, max(t) + {window_s} AS end_t,
                max(n) AS n, min(CASE WHEN n = top THEN n / ratio END) AS expected
            FROM tops GROUP BY ALL)
        SELECT s.hub, s.currency, s.start_t, least(s.end_t, max(b.t)) AS end_t, s.n,
            s.expected, list_sort(list(b.row_no)), list(DISTINCT b.{other}), sum(b.amount)
        FROM spans s JOIN base b ON b.{hub} = s.hub AND b.currency = s.currency
            AND b.t >= s.start_t AND b.t <= s.end_t
        GROUP BY s.hub, s.currency, s.ep, s.start_t, s.end_t, s.n, s.expected
        ORDER BY s.hub, s.start_t"""
    )
    windows = ctx.rows(
        f"SELECT count(*) FROM (SELECT DISTINCT {hub}, currency FROM tx WHERE {where})"
    )[0][0]
    tests = (windows or 1) * max(span / window_s, 1.0)
    kept = []
    for row in found:
        chance = poisson_tail(int(row[4]), float(row[5]))
        if not chance_test or chance * tests <= p.burst_false_alarms:
            kept.append((*row[:5], float(row[4]) / float(row[5]), chance, *row[6:]))
    return kept


def fan(ctx: Context, typology: str) -> list[Alert]:
    p = ctx.params
    hub, other = ("dst", "src") if typology == "fan_in" else ("src", "dst")
    who = "senders" if typology == "fan_in" else "receivers"
    alerts = []
    for account, currency, start, end, n, ratio, chance, rows, others, total in _fan_episodes(
        ctx, hub, other, p.fan_window_s, p.fan_degree
    ):
        reason = (
            f"{n} distinct {who} within {p.fan_window_s / DAY_S:g} days of {account}: "
            f"{float(ratio):.1f}× what its other transactions would bring, a chance of "
            f"{chance:.1e} at its rate (at least {p.fan_degree} and {p.burst_ratio:g}×)"
        )
        strength = min(n / p.fan_degree, float(ratio) / p.burst_ratio)
        alerts.append(
            Alert(typology, tuple(sorted({account, *others})), tuple(rows), int(start), int(end),
                  Decimal(total), currency, strength_score(strength), (reason,))
        )  # fmt: skip
    return alerts


# --- a burst in, a burst out ------------------------------------------------------------
def gather_scatter(ctx: Context) -> list[Alert]:
    """Many senders into one account in a burst, then out to many within ``hop_s`` of the
    burst's end, most of what came in."""
    p = ctx.params
    episodes = _fan_episodes(
        ctx, "dst", "src", p.group_window_s, p.gather_min_sources, chance_test=False
    )  # the evidence is the burst in and the burst out together
    if not episodes:
        return []
    ctx.engine.put(
        "gather_eps",
        [("i", "BIGINT"), ("hub", "VARCHAR"), ("currency", "VARCHAR"), ("start_t", "BIGINT"),
         ("end_t", "BIGINT")],
        [(i, e[0], e[1], int(e[2]), int(e[3])) for i, e in enumerate(episodes)],
    )  # fmt: skip
    outs = {
        int(i): rest
        for i, *rest in ctx.rows(
            f"""SELECT e.i, list_sort(list(tx.row_no)), list(DISTINCT tx.dst),
                sum(tx.amount), max(tx.t)
            FROM gather_eps e JOIN tx ON tx.src = e.hub AND tx.currency = e.currency
                AND tx.t >= e.start_t AND tx.t <= e.end_t + {int(p.hop_s)}
            GROUP BY e.i HAVING count(DISTINCT tx.dst) >= {p.gather_min_targets}"""
        )
    }
    alerts = []
    for i, (hub, currency, start, _, n_in, ratio, _, in_rows, senders, total_in) in enumerate(
        episodes
    ):
        if i not in outs:
            continue
        out_rows, receivers, total_out, last = outs[i]
        share = float(total_out) / float(total_in)
        if not p.gather_out_share <= share <= 1 + KEEP:
            continue
        reason = (
            f"{n_in} senders paid {hub} within {p.group_window_s / DAY_S:g} days "
            f"({float(ratio):.1f}× its usual), then {len(receivers)} receivers were paid "
            f"{share:.0%} of it within {p.hop_s / 3600:g} h"
        )
        rows = tuple(sorted({*in_rows, *out_rows}))
        alerts.append(
            Alert("gather_scatter", tuple(sorted({hub, *senders, *receivers})), rows, int(start),
                  int(last), Decimal(total_in) + Decimal(total_out), currency,
                  strength_score(min(n_in / p.gather_min_sources,
                                     len(receivers) / p.gather_min_targets)), (reason,))
        )  # fmt: skip
    return alerts


# --- just below the line -----------------------------------------------------------------
def structuring(ctx: Context) -> list[Alert]:
    """One party's transfers each just below the threshold, several in the window."""
    p = ctx.params
    return _below_line_alerts(ctx, "structuring", "src", p.structuring_margin,
                              p.structuring_min_count, "count(*)")  # fmt: skip


def smurfing(ctx: Context) -> list[Alert]:
    """Many parties each paying one account less than the threshold within the window."""
    p = ctx.params
    return _below_line_alerts(ctx, "smurfing", "dst", p.smurfing_margin,
                              p.smurfing_min_sources, "count(DISTINCT src)")  # fmt: skip


def _below_line_alerts(
    ctx: Context, typology: str, party: str, margin: float, minimum: int, counted: str
) -> list[Alert]:
    p = ctx.params
    low = p.structuring_threshold * (1 - Decimal(str(margin)))
    alerts = []
    for account, currency, start, end, n, total, rows, others in _below_line(
        ctx, party, low, minimum, counted
    ):
        line = f"{p.structuring_threshold:,} (from {low:,.2f}) within "
        line += f"{p.structuring_window_s / 3600:g} h: {total:,.2f} in all"
        if party == "src":
            reason = f"{account} sent {n} transfers each just below {line}"
        else:
            reason = f"{n} senders each paid {account} less than {line}"
        alerts.append(
            Alert(typology, tuple(sorted({account, *others})), tuple(rows), int(start),
                  int(end), Decimal(total), currency, strength_score(n / minimum), (reason,))
        )  # fmt: skip
    return alerts


def _below_line(
    ctx: Context, party: str, low: Decimal, minimum: int, counted: str
) -> list[tuple[Any, ...]]:
    """Episodes of a party's transfers in [low, threshold) — ``minimum`` or more (``counted``)
    within the window, adding up to the threshold or more."""
    p = ctx.params
    w = int(p.structuring_window_s)
    other = "dst" if party == "src" else "src"
    return ctx.rows(
        f"""WITH base AS (SELECT * FROM tx WHERE amount >= ? AND amount < ?),
        w AS (SELECT {party} AS party, currency, t,
            {counted} OVER win AS n, sum(amount) OVER win AS total
            FROM base WINDOW win AS (PARTITION BY {party}, currency ORDER BY t
                RANGE BETWEEN CURRENT ROW AND {w} FOLLOWING)),
        hit AS (SELECT * FROM w WHERE n >= {minimum} AND total >= ?),
        marked AS (SELECT *, CASE WHEN t - lag(t) OVER (PARTITION BY party, currency
            ORDER BY t) <= {w} THEN 0 ELSE 1 END AS new_ep FROM hit),
        eps AS (SELECT party, currency, t, sum(new_ep) OVER (PARTITION BY party, currency
            ORDER BY t) AS ep FROM marked),
        spans AS (SELECT party, currency, ep, min(t) AS start_t, max(t) + {w} AS end_t
            FROM eps GROUP BY ALL)
        SELECT s.party, s.currency, s.start_t, max(b.t), {counted.replace("src", "b.src")},
            sum(b.amount), list_sort(list(b.row_no)), list(DISTINCT b.{other})
        FROM spans s JOIN base b ON b.{party} = s.party AND b.currency = s.currency
            AND b.t >= s.start_t AND b.t <= s.end_t
        GROUP BY s.party, s.currency, s.ep, s.start_t ORDER BY 1, 3""",
        (low, p.structuring_threshold, p.structuring_threshold),
    )


#: An alert's amount before :func:`with_totals` adds its rows up.
UNSUMMED = Decimal(0)


def with_totals(ctx: Context, alerts: list[Alert]) -> list[Alert]:
    """The alerts with their rows' amounts added up, in one query for all of them (a query
    per alert costs a Spark job each)."""
    if not alerts:
        return []
    pairs = [(i, row) for i, alert in enumerate(alerts) for row in set(alert.rows)]
    ctx.engine.put("alert_rows", [("i", "BIGINT"), ("row_no", "BIGINT")], pairs)
    found = dict(
        ctx.rows(
            """SELECT a.i, sum(tx.amount) FROM alert_rows a JOIN tx ON tx.row_no = a.row_no
            GROUP BY a.i"""
        )
    )
    return [replace(a, amount=Decimal(found.get(i) or 0)) for i, a in enumerate(alerts)]
