"""Threshold reports over the ``tx`` table: a rule pack's same-day totals at or past its lines.

Per rule, per side (``out``: the payer ``src``; ``in``: the payee ``dst``), per account, per
business day of the pack's time zone (a ``step`` file's day is its step), the selected
transactions are summed in the rule's currency, after conversion at the given ``rates`` (units
of the rule's currency per unit of the other) when the rule converts. An ``external`` account
(outside the institution) is never reported. A total at the line is a
hit: an :class:`~embedfin.compliance.aml.alerts.Alert` whose typology is the pack's report
(``large_value`` or ``ctr``), with every transaction of that day and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

import duckdb

from embedfin.compliance.aml.alerts import Alert, strength_score
from embedfin.compliance.aml.rulepacks import Rule, RulePack
from embedfin.compliance.aml.transactions import SECONDS_PER_STEP
from embedfin.core.errors import InvalidInput

SIDES = (("out", "src", "src_kind", "paid out"), ("in", "dst", "dst_kind", "received"))


class MissingRate(InvalidInput):
    code = "missing_rate"


def _selected(pack: RulePack, rule: Rule, account: str, kind: str) -> tuple[str, list[object]]:
    d = pack.defaults
    where = [f"coalesce({kind}, '') <> 'external'"]  # not the institution's customer
    args: list[object] = []
    if rule.channel != "any":
        where.append("coalesce(nullif(channel, ''), ?) = ?")
        args += [d.channel, rule.channel]
    if rule.kind != "any":
        where.append(f"coalesce(nullif({kind}, ''), ?) = ?")
        args += [d.kind, rule.kind]
    if rule.cross_border != "any":
        where.append("coalesce(cross_border, ?) = ?")
        args += [d.cross_border, rule.cross_border == "true"]
    if rule.convert == "none":
        where.append("currency = ?")
        args.append(rule.currency)
    elif rule.convert == "foreign":
        where.append("currency <> ?")
        args.append(pack.home)
    sql = f"SELECT row_no, {account} AS account, t, currency, amount FROM tx WHERE "
    return sql + " AND ".join(where), args


def _day(pack: RulePack, unit: str) -> tuple[str, list[object]]:
    if unit == "step":
        return f"t // {SECONDS_PER_STEP}", []
    return "epoch(CAST(CAST(timezone(?, to_timestamp(t)) AS DATE) AS TIMESTAMP))::BIGINT", [
        pack.timezone
    ]


def scan(
    conn: duckdb.DuckDBPyConnection,
    pack: RulePack,
    unit: str,
    rates: Mapping[str, Decimal] | None = None,
) -> list[Alert]:
    """Every hit of ``pack`` in table ``tx`` (loaded with ``unit`` ``timestamp`` or ``step``)."""
    rates = {code.upper(): Decimal(rate) for code, rate in (rates or {}).items()}
    blank = conn.execute("SELECT min(row_no) FROM tx WHERE currency = ''").fetchone()
    if blank and blank[0] is not None:
        raise InvalidInput(
            f"row {blank[0]}: a threshold pack needs each transaction's currency (a currency"
            " column)"
        )
    conn.execute("CREATE OR REPLACE TEMP TABLE rate (currency VARCHAR, r DECIMAL(24, 12))")
    if rates:
        conn.executemany("INSERT INTO rate VALUES (?, ?)", [[c, str(r)] for c, r in rates.items()])
    day, day_args = _day(pack, unit)
    alerts: list[Alert] = []
    for rule in pack.rules:
        for _side, account, kind, verb in SIDES:
            selected, args = _selected(pack, rule, account, kind)
            _check_rates(conn, selected, args, rule, rates)
            found = conn.execute(
                f"""WITH s AS ({selected})
                SELECT account, {day} AS day, list(row_no ORDER BY row_no), min(t), max(t),
                    sum(CASE WHEN s.currency = ? THEN s.amount
                        ELSE CAST(round(CAST(s.amount AS DECIMAL(38, 6)) * rate.r, 6)
                            AS DECIMAL(38, 6)) END) AS total,
                    count(*), list(DISTINCT s.currency ORDER BY s.currency)
                FROM s LEFT JOIN rate ON rate.currency = s.currency
                GROUP BY account, day
                HAVING total {">=" if rule.at_least is not None else ">"} ?
                ORDER BY day, account""",
                [*args, *day_args, rule.currency, str(rule.line)],
            ).fetchall()
            for acct, day_value, rows, first, last, total, count, currencies in found:
                hit = _Hit(acct, day_value, rows, first, last, Decimal(total), count, currencies)
                alerts.append(_alert(pack, rule, verb, unit, hit))
    return alerts


def _check_rates(
    conn: duckdb.DuckDBPyConnection,
    selected: str,
    args: list[object],
    rule: Rule,
    rates: Mapping[str, Decimal],
) -> None:
    if rule.convert == "none":
        return
    sql = f"SELECT DISTINCT currency FROM ({selected}) s"
    present = [r[0] for r in conn.execute(sql, args).fetchall()]
    missing = sorted(c for c in present if c != rule.currency and c not in rates)
    if missing:
        raise MissingRate(
            f"rule {rule.id} sums in {rule.currency}: give a rate to {rule.currency} for"
            f" {', '.join(missing)} (--rates)"
        )
    bad = sorted(c for c in present if c in rates and not rates[c] > 0)
    if bad:
        raise MissingRate(f"rates must be positive: {', '.join(bad)}")


class _Hit(NamedTuple):
    account: str
    day: int
    rows: list[int]
    first: int
    last: int
    total: Decimal
    size: int
    currencies: list[str]


def _alert(pack: RulePack, rule: Rule, verb: str, unit: str, hit: _Hit) -> Alert:
    if unit == "step":
        day_text = f"step {hit.day}"
    else:
        day_text = (date(1970, 1, 1) + timedelta(seconds=int(hit.day))).isoformat()
        day_text += f" ({pack.timezone})"
    line = f"at least {rule.line:,}" if rule.at_least is not None else f"more than {rule.line:,}"
    reasons = [
        f"{hit.account} {verb} {hit.total:,.2f} {rule.currency} in {hit.size} transaction(s)"
        f" on {day_text}",
        f"rule {pack.id}/{rule.id}: {line} {rule.currency} the same day"
        f" ({pack.source or pack.title})",
    ]
    if rule.convert != "none" and any(c != rule.currency for c in hit.currencies):
        reasons.append(f"converted to {rule.currency} from {', '.join(hit.currencies)}")
    reasons.append(f"report due within {pack.deadline_text()}")
    return Alert(
        typology=pack.report,
        accounts=(hit.account,),
        rows=tuple(sorted(int(r) for r in hit.rows)),
        start_t=int(hit.first),
        end_t=int(hit.last),
        amount=hit.total,
        currency=rule.currency,
        score=strength_score(float(hit.total / rule.line)),
        reasons=tuple(reasons),
    )
