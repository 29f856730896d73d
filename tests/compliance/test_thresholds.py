"""Threshold rule packs: PBoC Order [2016] No. 3 Art. 5 and 31 CFR 1010.311/313 read as data,
same-day totals at and past their lines, business days in the pack's time zone, currencies
converted only with a rate, and bad packs or columns refused whole."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from embedfin.cli import app
from embedfin.compliance.aml import generator, rulepacks, thresholds, transactions
from embedfin.compliance.aml.alerts import Alert
from embedfin.compliance.aml.rulepacks import RulePackInvalid
from embedfin.compliance.aml.thresholds import MissingRate
from embedfin.compliance.aml.transactions import BadTransactions
from embedfin.core.errors import InvalidInput

HEADER = "tx_id,src,dst,amount,currency,timestamp,channel,src_kind,dst_kind,cross_border"


def _file(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "tx.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _hits(
    path: Path, pack: str | rulepacks.RulePack, rates: dict[str, Decimal] | None = None
) -> list[Alert]:
    conn = transactions.connect()
    try:
        loaded = transactions.load(conn, path)
        chosen = rulepacks.load(pack) if isinstance(pack, str) else pack
        return thresholds.scan(conn, chosen, loaded.time_unit, rates)
    finally:
        conn.close()


def _rule_of(alert: Alert) -> str:
    return next(r for r in alert.reasons if r.startswith("rule ")).split(":")[0].split("/")[1]


def test_the_shipped_packs_load_and_say_where_their_lines_come_from() -> None:
    prc = rulepacks.load("prc")
    us = rulepacks.load("us")
    assert prc.report == "large_value"
    assert prc.timezone == "Asia/Shanghai"
    assert us.report == "ctr"
    assert us.timezone == "America/New_York"
    lines = {rule.id: (rule.currency, rule.line) for rule in prc.rules}
    # PBoC Order [2016] No. 3 Art. 5 (1)-(4)
    assert lines["cash-cny"] == ("CNY", Decimal("50000"))
    assert lines["cash-foreign"] == ("USD", Decimal("10000"))
    assert lines["transfer-entity-cny"] == ("CNY", Decimal("2000000"))
    assert lines["transfer-entity-foreign"] == ("USD", Decimal("200000"))
    assert lines["transfer-person-domestic-cny"] == ("CNY", Decimal("500000"))
    assert lines["transfer-person-domestic-foreign"] == ("USD", Decimal("100000"))
    assert lines["transfer-person-cross-border-cny"] == ("CNY", Decimal("200000"))
    assert lines["transfer-person-cross-border-foreign"] == ("USD", Decimal("10000"))
    # 31 CFR 1010.311: "more than $10,000"
    (ctr,) = us.rules
    assert ctr.more_than == Decimal("10000")
    assert ctr.at_least is None
    assert prc.source
    assert us.source


def test_prc_cash_is_reported_at_the_line_and_not_below(tmp_path: Path) -> None:
    path = _file(tmp_path, [
        "1,a,shop,50000.00,CNY,2026-03-02T10:00:00+08:00,cash,person,entity,false",
        "2,b,shop2,49999.99,CNY,2026-03-02T10:00:00+08:00,cash,person,entity,false",
    ])  # fmt: skip
    hits = _hits(path, "prc")
    paid = [h for h in hits if h.accounts in {("a",), ("b",)}]
    assert [h.accounts for h in paid] == [("a",)]
    (hit,) = paid
    assert hit.typology == "large_value"
    assert hit.amount == Decimal("50000.00")
    assert hit.currency == "CNY"
    assert hit.rows == (1,)
    assert _rule_of(hit) == "cash-cny"
    assert any("2026-03-02 (Asia/Shanghai)" in r for r in hit.reasons)
    assert any("5 working days" in r for r in hit.reasons)
    # the payee's side is counted apart: shop received 50,000 in cash the same day
    received = [h for h in hits if h.accounts == ("shop",)]
    assert len(received) == 1
    assert any("received" in r for r in received[0].reasons)


def test_fincen_exactly_ten_thousand_is_not_a_ctr_but_a_cent_more_is(tmp_path: Path) -> None:
    path = _file(tmp_path, [
        "1,a,bank,10000.00,USD,2026-03-02T10:00:00-05:00,cash,person,entity,false",
        "2,b,bank2,10000.01,USD,2026-03-02T10:00:00-05:00,cash,person,entity,false",
        "3,c,bank3,50000.00,USD,2026-03-02T10:00:00-05:00,transfer,person,entity,false",
    ])  # fmt: skip
    payers = {h.accounts[0] for h in _hits(path, "us")} & {"a", "b", "c"}
    assert payers == {"b"}


def test_a_same_day_total_is_one_hit_with_every_transaction(tmp_path: Path) -> None:
    path = _file(tmp_path, [
        "1,p,x,300000,CNY,2026-03-02T09:00:00+08:00,transfer,person,person,false",
        "2,p,y,150000,CNY,2026-03-02T15:00:00+08:00,transfer,person,person,false",
        "3,p,z,50000,CNY,2026-03-02T23:59:59+08:00,transfer,person,person,false",
        "4,q,x,499999,CNY,2026-03-02T12:00:00+08:00,transfer,person,person,false",
    ])  # fmt: skip
    hits = [h for h in _hits(path, "prc") if h.accounts == ("p",)]
    (hit,) = hits
    assert hit.rows == (1, 2, 3)
    assert hit.amount == Decimal("500000")
    assert _rule_of(hit) == "transfer-person-domestic-cny"
    assert any("3 transaction(s)" in r for r in hit.reasons)
    assert not [h for h in _hits(path, "prc") if h.accounts == ("q",)]


def test_the_business_day_is_the_packs_local_day(tmp_path: Path) -> None:
    # 23:30 and 00:30 China Standard Time are two days in Shanghai but one UTC day
    rows = [
        "1,p,x,300000,CNY,2026-03-02T15:30:00Z,transfer,person,person,false",
        "2,p,y,300000,CNY,2026-03-02T16:30:00Z,transfer,person,person,false",
    ]
    path = _file(tmp_path, rows)
    assert not [h for h in _hits(path, "prc") if h.accounts == ("p",)]
    utc = rulepacks.load("prc").model_copy(update={"timezone": "UTC"})
    (hit,) = [h for h in _hits(path, utc) if h.accounts == ("p",)]
    assert hit.amount == Decimal("600000")
    assert any("2026-03-02 (UTC)" in r for r in hit.reasons)
    # and the other way round: one Shanghai day that spans two UTC days
    path = _file(tmp_path, [
        "1,p,x,300000,CNY,2026-03-01T16:30:00Z,transfer,person,person,false",
        "2,p,y,300000,CNY,2026-03-02T15:30:00Z,transfer,person,person,false",
    ])  # fmt: skip
    (hit,) = [h for h in _hits(path, "prc") if h.accounts == ("p",)]
    assert hit.rows == (1, 2)
    assert any("2026-03-02 (Asia/Shanghai)" in r for r in hit.reasons)
    assert not [h for h in _hits(path, utc) if h.accounts == ("p",)]


def test_foreign_currencies_are_summed_at_their_rates(tmp_path: Path) -> None:
    path = _file(tmp_path, [
        "1,p,x,6000,EUR,2026-03-02T10:00:00+08:00,transfer,person,person,true",
        "2,p,y,3600,USD,2026-03-02T11:00:00+08:00,transfer,person,person,true",
        "3,p,z,100000,CNY,2026-03-02T12:00:00+08:00,transfer,person,person,true",
    ])  # fmt: skip
    rates = {"EUR": Decimal("1.08")}
    mine = [h for h in _hits(path, "prc", rates) if h.accounts == ("p",)]
    (hit,) = [h for h in mine if _rule_of(h) == "transfer-person-cross-border-foreign"]
    # 6,000 EUR x 1.08 = 6,480 USD, + 3,600 USD = 10,080 USD >= 10,000; CNY is not foreign
    assert hit.amount == Decimal("10080")
    assert hit.rows == (1, 2)
    assert any("converted to USD from EUR, USD" in r for r in hit.reasons)
    # the CNY leg alone is below the 200,000 cross-border line
    assert [_rule_of(h) for h in mine] == ["transfer-person-cross-border-foreign"]
    lower = {"EUR": Decimal("1.06")}  # 6,360 + 3,600 = 9,960: below
    assert not [h for h in _hits(path, "prc", lower) if h.accounts == ("p",)]


def test_a_currency_without_a_rate_is_refused_not_skipped(tmp_path: Path) -> None:
    path = _file(tmp_path, [
        "1,p,x,20000,JPY,2026-03-02T10:00:00-05:00,cash,person,entity,false",
    ])  # fmt: skip
    with pytest.raises(MissingRate, match="JPY") as raised:
        _hits(path, "us")
    assert raised.value.code == "missing_rate"
    with pytest.raises(MissingRate, match="positive"):
        _hits(path, "us", {"JPY": Decimal("0")})
    # with a rate: 20,000 JPY x 0.0067 = 134 USD, no CTR
    assert _hits(path, "us", {"JPY": Decimal("0.0067")}) == []


def test_a_threshold_pack_needs_the_currency_column(tmp_path: Path) -> None:
    path = _file(tmp_path, ["1,a,b,60000,2026-03-02T10:00:00Z"], "tx_id,src,dst,amount,timestamp")
    with pytest.raises(InvalidInput, match="currency"):
        _hits(path, "prc")


def test_missing_columns_take_the_packs_defaults(tmp_path: Path) -> None:
    header = "tx_id,src,dst,amount,currency,timestamp"
    path = _file(tmp_path, ["1,a,b,2000000,CNY,2026-03-02T10:00:00+08:00"], header)
    # PRC defaults: a transfer by an entity, domestic — the entity line is 2,000,000
    rules = {_rule_of(h) for h in _hits(path, "prc")}
    assert rules == {"transfer-entity-cny"}
    # FinCEN defaults: a transfer, not currency — no CTR
    assert _hits(path, "us") == []


def test_a_step_file_counts_a_step_as_a_day(tmp_path: Path) -> None:
    header = "tx_id,src,dst,amount,currency,step,channel"
    path = _file(tmp_path, [
        "1,a,b,6000,USD,3,cash",
        "2,a,c,4000.01,USD,3,cash",
        "3,a,d,9000,USD,4,cash",
    ], header)  # fmt: skip
    (hit,) = [h for h in _hits(path, "us") if h.accounts == ("a",)]
    assert hit.rows == (1, 2)
    assert any("step 3" in r for r in hit.reasons)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rules": [{"id": "r", "currency": "USD", "at_least": "1"}] * 2}, "rule ids repeat"),
        ({"rules": [{"id": "r", "currency": "USD"}]}, "exactly one"),
        ({"rules": [{"id": "r", "currency": "USD", "at_least": 1, "more_than": 1}]}, "exactly one"),
        ({"rules": [{"id": "r", "currency": "USD", "at_least": 10000.5}]}, "not floats"),
        ({"rules": [{"id": "r", "currency": "USD", "at_least": "-1"}]}, "positive"),
        ({"rules": [{"id": "r", "currency": "USD", "at_least": "1e30"}]}, "positive"),
        ({"rules": [{"id": "r", "currency": "usd", "at_least": "1"}]}, "rules.0.currency"),
        ({"rules": [{"id": "r", "currency": "USD", "at_least": "1", "typo": 1}]}, "typo"),
        ({"timezone": "Mars/Olympus"}, "IANA"),
        ({"home": None}, "home currency"),
        ({"report": "sar"}, "report"),
        ({"rules": []}, "rules"),
        ({"deadline_working_days": -1}, "deadline"),
        ({"deadline_calendar_days": 15}, "exactly one of deadline"),
        ({"calendar": "XX"}, "no official calendar"),
        ({"suspicious": {"report": "str", "deadline_working_days": 5}}, "suspicious.report"),
        ({"suspicious": {"report": "sar"}}, "exactly one of deadline"),
        # found by a hostile run: each was accepted
        ({"rules": [{"id": "r", "currency": "XYZ", "at_least": "1"}]}, "ISO 4217"),
        ({"rules": [{"id": "r", "currency": "USD", "at_least": "0.0000001"}]}, "decimal places"),
        ({"timezone": "localtime"}, "IANA"),
        ({"title": "\u202eevil"}, "control character"),
    ],
)
def test_a_bad_pack_is_refused_whole(change: dict[str, object], message: str) -> None:
    data: dict[str, object] = {
        "id": "t",
        "title": "test",
        "report": "ctr",
        "timezone": "UTC",
        "home": "USD",
        "calendar": "US",
        "deadline_working_days": 5,
        "rules": [{"id": "r", "currency": "USD", "convert": "foreign", "at_least": "1"}],
    }
    data.update(change)
    if data["home"] is None:
        del data["home"]
    with pytest.raises(RulePackInvalid, match=message) as raised:
        rulepacks.parse(data, "t.toml")
    assert raised.value.code == "rule_pack_invalid"


def test_an_unknown_pack_or_a_broken_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RulePackInvalid, match="shipped: prc, us"):
        rulepacks.load("eu")
    broken = tmp_path / "broken.toml"
    broken.write_text("id = [")
    with pytest.raises(RulePackInvalid, match="not TOML"):
        rulepacks.load(broken)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("channel", "wire", "channel 'wire' is not cash or transfer"),
        ("src_kind", "robot", "src_kind 'robot' is not person, entity or external"),
        ("dst_kind", "x", "dst_kind 'x' is not person, entity or external"),
        ("cross_border", "maybe", "cross_border 'maybe' is not true or false"),
    ],
)
def test_a_bad_optional_column_is_refused_with_its_row(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    good = {"channel": "cash", "src_kind": "person", "dst_kind": "entity", "cross_border": "no"}
    bad = {**good, column: value}
    row = "{n},a,b,10,CNY,2026-03-02T10:00:00Z,{channel},{src_kind},{dst_kind},{cross_border}"
    path = _file(tmp_path, [row.format(n=1, **good), row.format(n=2, **bad)])
    with pytest.raises(BadTransactions, match=f"row 2: {message}"):
        _hits(path, "prc")


def test_scan_with_packs_from_the_command_line(tmp_path: Path) -> None:
    path = _file(tmp_path, [
        "1,a,bank,6000,EUR,2026-03-02T10:00:00-05:00,cash,person,entity,false",
        "2,a,bank,4000,USD,2026-03-02T11:00:00-05:00,cash,person,entity,false",
    ])  # fmt: skip
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps({"EUR": "1.08", "CNY": "0.14"}))
    pack = tmp_path / "mine.toml"
    pack.write_text(
        'id = "mine"\ntitle = "mine"\nreport = "ctr"\ntimezone = "UTC"\n'
        'calendar = "GB"\ndeadline_working_days = 3\n'
        '[[rules]]\nid = "any-eur"\ncurrency = "EUR"\nat_least = "6000"\n'
    )
    out = tmp_path / "alerts.jsonl"
    runner = CliRunner()
    done = runner.invoke(app, ["aml", "scan", str(path), "--pack", "us", "--pack", str(pack),
                               "--rates", str(rates), "--json", "--out", str(out),
                               "--no-progress"])  # fmt: skip
    assert done.exit_code == 0, done.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    ctr = [line for line in lines if line["typology"] == "ctr"]
    # the FinCEN rule: 6,480 + 4,000 = 10,480 USD out of a and into bank; the own pack: 6,000 EUR
    assert sorted((line["accounts"][0], line["amount"]) for line in ctr) == [
        ("a", "10480"), ("a", "6000"), ("bank", "10480"), ("bank", "6000"),
    ]  # fmt: skip
    missing = runner.invoke(app, ["aml", "scan", str(path), "--pack", "us", "--no-progress"])
    assert isinstance(missing.exception, MissingRate)
    assert "EUR" in str(missing.exception)
    rates.write_text(json.dumps({"EUR": -1}))
    negative = runner.invoke(app, ["aml", "scan", str(path), "--pack", "us", "--rates",
                                   str(rates), "--no-progress"])  # fmt: skip
    assert isinstance(negative.exception, InvalidInput)
    assert "not a positive rate" in str(negative.exception)
    unknown = runner.invoke(app, ["aml", "scan", str(path), "--pack", "nowhere"])
    assert isinstance(unknown.exception, RulePackInvalid)
    assert "no rule pack" in str(unknown.exception)


def test_the_ctr_rule_catches_structuring_that_each_stays_under_the_line(tmp_path: Path) -> None:
    """31 CFR 1010.313's point: transfers each under $10,000 by one person on one business day
    are one transaction. The seeded structuring is cash kept just under the line; summed per
    day, every instance is reported, and ordinary cash hardly ever is."""
    data = generator.generate(20_000, seed=7)
    path = tmp_path / "month.csv"
    generator.write_csv(data, path, currency="USD", channels=True)
    hits = _hits(path, "us")
    truth = {n: data.truth.get(row[0]) for n, row in enumerate(data.rows, start=1)}
    structuring = {
        found[1]
        for hit in hits
        for n in hit.rows
        if (found := truth[n]) is not None and found[0] == "structuring"
    }
    assert structuring == set(range(data.instances["structuring"]))
    laundering = sum(any(truth[n] is not None for n in hit.rows) for hit in hits)
    assert laundering >= 0.8 * len(hits)
