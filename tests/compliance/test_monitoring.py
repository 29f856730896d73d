"""Transaction monitoring in the platform: the journal read off the outbox, same-day totals kept
as money moves (and equal to a batch scan of the same history), reports due by the official
calendar, filed once and never changed, typology alerts that open cases, and tenants apart."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from embedfin.bootstrap import Services, TenantServices, build_consumers, check_all
from embedfin.compliance.aml import rulepacks, sameday
from embedfin.compliance.aml.journal import Movement, movement_of
from embedfin.compliance.aml.monitor import StoredAlert
from embedfin.compliance.aml.report_document import SCHEMA_FILE, json_schema
from embedfin.compliance.aml.scan import scan
from embedfin.compliance.aml.screening import Subject
from embedfin.compliance.aml.workdays import due_date, working_days_left
from embedfin.consumers import Runner
from embedfin.core.clock import NS_PER_SECOND, ManualClock
from embedfin.core.errors import InvalidInput, InvalidStateTransition, NotFound
from embedfin.core.events import Event, StoredEvent
from embedfin.core.money import Money
from embedfin.db.tables import aml_reports
from embedfin.ledger.service import Ledger
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.risk.config import RiskSettings
from embedfin.security.crypto import FieldCipher, new_key_spec

DAY = 86_400


# --- the calendar --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "days", "unit", "country", "due"),
    [
        # State Council notice on the 2026 holidays: Spring Festival 15–23 February off,
        # Saturday 14 February worked in their place
        (date(2026, 2, 13), 5, "working", "CN", date(2026, 2, 27)),
        # 2025 National Day and Mid-Autumn: 1–8 October off, Saturday 11 October worked
        (date(2025, 9, 30), 5, "working", "CN", date(2025, 10, 14)),
        # an ordinary week: Friday + 5 working days is the next Friday (the first day not counted)
        (date(2026, 3, 6), 5, "working", "CN", date(2026, 3, 13)),
        # FinCEN CTR: 15 calendar days after the transaction, 31 CFR 1010.306(a)(1)
        (date(2026, 3, 2), 15, "calendar", "US", date(2026, 3, 17)),
    ],
)
def test_deadlines_follow_the_official_calendar(
    start: date, days: int, unit: str, country: str, due: date
) -> None:
    assert due_date(start, days, unit, country) == due  # type: ignore[arg-type]


def test_working_days_left_counts_down_and_goes_negative_when_late() -> None:
    due = date(2025, 10, 14)
    assert working_days_left(date(2025, 9, 30), due, "CN") == 5
    assert working_days_left(due, due, "CN") == 0
    assert working_days_left(date(2025, 10, 16), due, "CN") == -2


def test_the_shipped_packs_name_their_deadlines_and_suspicious_reports() -> None:
    prc, us = rulepacks.load("prc"), rulepacks.load("us")
    assert (prc.deadline, prc.calendar) == ((5, "working"), "CN")
    assert prc.suspicious is not None
    assert prc.suspicious.report == "suspicious"
    assert prc.suspicious.deadline == (5, "working")
    assert (us.deadline, us.calendar) == ((15, "calendar"), "US")
    assert us.suspicious is not None
    assert us.suspicious.deadline == (30, "calendar")


def test_the_shipped_report_schema_is_the_documents_own() -> None:
    import json

    assert json.loads(SCHEMA_FILE.read_text()) == json_schema()


# --- the journal ---------------------------------------------------------------------------
def _event(kind: str, payload: dict[str, object], aggregate_id: str = "o-1") -> StoredEvent:
    return StoredEvent(1, Event(kind, "order", aggregate_id, payload, 10**18, "t", "ev-1"))


def test_each_money_event_is_one_movement_between_parties() -> None:
    paid = movement_of(_event("order_paid", {"buyer_id": "b-1", "merchant_id": "m-1",
                                             "amount_minor": 1234, "currency": "CNY"}))  # fmt: skip
    assert paid is not None
    assert (paid.src, paid.dst, paid.src_kind, paid.dst_kind, paid.kind) == (
        "buyer:b-1", "merchant:m-1", "person", "entity", "order",
    )  # fmt: skip
    assert paid.amount == Decimal("12.34")
    top_up = movement_of(_event("wallet_topped_up", {"owner_kind": "buyer", "owner_id": "b-1",
                                                     "amount_minor": 500, "currency": "JPY",
                                                     "channel": "card"}))  # fmt: skip
    assert top_up is not None
    assert (top_up.src, top_up.src_kind, top_up.amount) == (
        "card:buyer:b-1",
        "external",
        Decimal(500),
    )
    payout = movement_of(_event("payout_sent", {"amount_minor": 9, "currency": "USD"}, "m-1"))
    assert payout is not None
    assert (payout.src, payout.dst) == ("merchant:m-1", "bank:merchant:m-1")


@pytest.mark.parametrize(
    "payload",
    [
        {"buyer_id": "b-1", "merchant_id": "m-1", "amount_minor": 0, "currency": "CNY"},
        {"buyer_id": "b-1", "merchant_id": "m-1", "amount_minor": -5, "currency": "CNY"},
        {"buyer_id": "b-1", "merchant_id": "m-1", "amount_minor": True, "currency": "CNY"},
        {"buyer_id": "b-1", "merchant_id": "m-1", "amount_minor": 5, "currency": "XYZ"},
        {"buyer_id": None, "merchant_id": "m-1", "amount_minor": 5, "currency": "CNY"},
        {"merchant_id": "m-1", "amount_minor": 5},
    ],
)
def test_an_event_without_money_or_parties_is_no_movement(payload: dict[str, object]) -> None:
    assert movement_of(_event("order_paid", payload)) is None


# --- stream and batch agree -------------------------------------------------------------------
PACK = rulepacks.parse(
    {
        "id": "test-lines",
        "title": "low lines to make hits",
        "report": "large_value",
        "timezone": "Asia/Shanghai",
        "calendar": "CN",
        "home": "CNY",
        "deadline_working_days": 5,
        "rules": [
            {"id": "cny", "kind": "person", "currency": "CNY", "at_least": "5000"},
            {"id": "cny-entity", "kind": "entity", "currency": "CNY", "more_than": "8000"},
            {"id": "foreign", "currency": "USD", "convert": "foreign", "at_least": "1000"},
        ],
    }
)
RATES = {"EUR": Decimal("1.0837"), "JPY": Decimal("0.006712345678901"), "USD": Decimal(1)}


def _random_history(seed: int, n: int) -> list[Movement]:
    rng = random.Random(seed)
    start = int(datetime(2026, 3, 1, 14, tzinfo=UTC).timestamp())  # 22:00 in Shanghai
    buyers = [f"buyer:b{i}" for i in range(6)]
    merchants = [f"merchant:m{i}" for i in range(3)]
    out = []
    for i in range(n):
        code = rng.choice(["CNY", "CNY", "USD", "EUR", "JPY"])
        amount = rng.randint(1, 400_000 if code == "JPY" else 300_000)
        at = start + rng.randint(0, 3 * DAY)
        kind = rng.choice(["order", "refund", "top_up"])
        buyer, merchant = rng.choice(buyers), rng.choice(merchants)
        if kind == "order":
            ends = (buyer, merchant, "person", "entity")
        elif kind == "refund":
            ends = (merchant, buyer, "entity", "person")
        else:
            ends = (f"card:{buyer}", buyer, "external", "person")
        out.append(
            Movement(
                f"tx-{i:04d}",
                at * NS_PER_SECOND + rng.randint(0, 10**9 - 1),
                kind,
                *ends,
                amount,
                code,
                f"ref-{i}",
            )  # fmt: skip
        )
    return out


def test_the_streams_same_day_totals_are_the_batch_scans(sqlite_url: str, tmp_path: Path) -> None:
    ledger = Ledger.open(sqlite_url, ManualClock())
    t = Services(ledger, risk=RiskSettings(enabled=False)).tenant("ten_a")
    monitoring = t.monitoring
    monitoring.rates = sameday.flat_rates(RATES)
    monitoring.set_pack(PACK, "officer")
    history = _random_history(7, 400)
    for start in range(0, len(history), 37):  # in batches, as the consumer reads them
        with ledger.transaction() as tx:
            monitoring.record(tx, history[start : start + 37])
    with ledger.transaction() as tx:  # read again (a replay): nothing counts twice
        assert monitoring.record(tx, history[:50]) == 0
    streamed = {
        (r.rule_id, r.subject, r.business_day, frozenset(r.transactions), r.amount)
        for r in t.reports.list(limit=1000)
    }
    path = tmp_path / "journal.parquet"
    assert monitoring.export(path) == len(history)
    result = scan(path, packs=[PACK], rates=RATES)
    ids = result.tx_ids or {}
    batch = set()
    for alert in result.alerts:
        if alert.typology != "large_value":
            continue
        rule = alert.reasons[1].split("/")[1].split(":")[0]
        day = alert.reasons[0].split(" on ")[1].split(" ")[0]
        batch.add((rule, alert.accounts[0], day, frozenset(ids[r] for r in alert.rows),
                   alert.amount))  # fmt: skip
    assert len(streamed) > 10  # the lines are low enough to be reached often
    assert streamed == batch
    ledger.close()


# --- in the platform -------------------------------------------------------------------------
@pytest.fixture
def services(ledger: Ledger) -> Services:
    cipher = FieldCipher.parse(new_key_spec("k1"))
    return Services(ledger, cipher=cipher, risk=RiskSettings(enabled=False))


def _drain(ledger: Ledger) -> dict[str, int]:
    return Runner(ledger, build_consumers(ledger, RiskSettings(enabled=False))).run_all()


def _large_top_ups(t: TenantServices) -> None:
    t.screening.record("buyer", "b1", Subject("Ada Lovelace", "1990-01-02", "GB", "person"))
    for n in range(6):  # 6 × 95,000 CNY the same day: past Art. 5(3)'s 500,000
        amount = Money(9_500_000, "CNY")
        t.wallets.top_up("b1", amount, "card-acquirer", f"top-{n}")
        settle_channel(t.ledger, t.tenant, "card-acquirer", amount, Money(0, "CNY"), f"s-{n}")


def test_a_large_value_report_falls_due_is_filed_once_and_never_changes(
    services: Services, clock: ManualClock
) -> None:
    t = services.tenant("ten_a")
    _large_top_ups(t)
    assert _drain(t.ledger)["aml-monitor"] == 6
    (report,) = t.reports.list()
    assert (report.kind, report.status, report.subject) == ("large_value", "due", "buyer:b1")
    assert report.rule_id == "transfer-person-domestic-cny"
    assert report.amount == Decimal("570000")
    assert len(report.transactions) == 6
    today = datetime.fromtimestamp(clock.now_ns() // NS_PER_SECOND, UTC).date()
    assert report.due_on == due_date(date.fromisoformat(report.business_day or ""), 5,
                                     "working", "CN").isoformat()  # fmt: skip
    assert report.days_left(today) == 5
    assert _drain(t.ledger)["aml-monitor"] == 0  # nothing new
    with pytest.raises(InvalidInput):
        t.reports.file(report.report_id, "", "officer")  # a narrative is required
    with pytest.raises(InvalidStateTransition):
        t.reports.document(report.report_id)  # not filed yet
    filed = t.reports.file(report.report_id, "Two card top-ups the same day.", "officer")
    assert filed.status == "filed"
    assert filed.digest is not None
    document = t.reports.document(report.report_id)
    assert document["schema"] == "embedfin.aml-report/1"
    assert document["subject"]["name"] == "Ada Lovelace"  # the identity screening holds
    assert document["total"] == "570000"
    assert [tx["amount"] for tx in document["transactions"]] == ["95000.00"] * 6
    with t.ledger.reader() as conn:  # stored encrypted: the name is not in the row
        stored = conn.execute(text("SELECT document FROM aml_reports")).scalar_one()
    assert stored.startswith("enc:v1:")  # ciphertext, not the document's JSON
    with pytest.raises(InvalidStateTransition, match="filed already"):
        t.reports.file(report.report_id, "again", "officer")
    # the database itself refuses to change or delete a filed report, whoever writes
    for statement in (
        update(aml_reports).values(amount_micros=1),
        update(aml_reports).values(status="due"),
        delete(aml_reports),
    ):
        refused = pytest.raises(DBAPIError, match="filed report cannot be changed")
        with refused, t.ledger.transaction() as tx:
            tx.conn.execute(statement)
    assert t.reports.get(report.report_id) == filed
    correction = t.reports.correct(report.report_id, "Card top-ups, corrected.", "typo", "officer")
    assert correction.corrects == report.report_id
    assert correction.status == "filed"
    assert t.reports.document(correction.report_id)["correction_reason"] == "typo"
    assert t.reports.get(report.report_id) == filed
    # another tenant sees none of it
    other = services.tenant("ten_b")
    assert other.reports.list() == []
    with pytest.raises(NotFound):
        other.reports.get(report.report_id)
    with t.ledger.reader() as conn:
        assert check_all(conn).ok


def test_a_transaction_after_filing_makes_a_supplementary_report(services: Services) -> None:
    t = services.tenant("ten_a")
    _large_top_ups(t)
    _drain(t.ledger)
    (first,) = t.reports.list()
    t.reports.file(first.report_id, "Filed early.", "officer")
    t.wallets.top_up("b1", Money(1_000, "CNY"), "card-acquirer", "top-late")
    _drain(t.ledger)
    second = next(r for r in t.reports.list() if r.report_id != first.report_id)
    assert (second.status, len(second.transactions), second.amount) == ("due", 1, Decimal(10))
    assert any("supplements" in reason for reason in second.reasons)


def _pass_through(t: TenantServices, start_ns: int) -> list[Movement]:
    """Money in by card, out through a fake order, paid out at once: 3 hops, 30 hours."""
    hop = 10 * 3_600 * NS_PER_SECOND
    return [
        Movement("pt-1", start_ns, "top_up", "card:buyer:mule", "buyer:mule", "external",
                 "person", 4_990_000, "CNY", "r1"),
        Movement("pt-2", start_ns + hop, "order", "buyer:mule", "merchant:shell", "person",
                 "entity", 4_990_000, "CNY", "r2"),
        Movement("pt-3", start_ns + 2 * hop, "refund", "merchant:shell", "buyer:mule2",
                 "entity", "person", 4_900_000, "CNY", "r3"),
        Movement("pt-4", start_ns + 3 * hop, "withdrawal", "buyer:mule2", "bank:buyer:mule2",
                 "person", "external", 4_880_000, "CNY", "r4"),
    ]  # fmt: skip


def _alerted(t: TenantServices, clock: ManualClock) -> StoredAlert:
    """The pass-through journaled three days ago and scanned: its first alert."""
    with t.ledger.transaction() as tx:
        t.monitoring.record(tx, _pass_through(t, clock.now_ns() - 3 * DAY * NS_PER_SECOND))
    t.monitoring.scan(days=30)
    return t.monitoring.alerts()[0]


def test_a_typology_opens_a_case_whose_confirmation_makes_a_suspicious_report_due(
    services: Services, clock: ManualClock
) -> None:
    t = services.tenant("ten_a")
    with t.ledger.transaction() as tx:
        t.monitoring.record(tx, _pass_through(t, clock.now_ns() - 3 * DAY * NS_PER_SECOND))
    run = t.monitoring.scan(days=30)
    assert run.transactions == 4
    assert run.new_alerts >= 1
    alert = next(a for a in t.monitoring.alerts() if a.typology == "pass_through")
    assert set(alert.transactions) >= {"pt-1", "pt-2", "pt-3", "pt-4"}
    case = t.cases.get(alert.case_id)
    assert case.kind == "aml_alert"
    assert case.buyer_id in ("mule", "mule2")
    assert t.monitoring.scan(days=30).new_alerts == 0  # found again: no second case
    with pytest.raises(InvalidInput, match="released"):
        t.cases.decide(alert.case_id, "refund", "no", "analyst")
    t.cases.decide(alert.case_id, "reject", "layering through a shell shop", "analyst")
    (report,) = t.reports.list(kind="suspicious")
    assert report.case_id == alert.case_id
    assert report.status == "due"
    today = datetime.fromtimestamp(clock.now_ns() // NS_PER_SECOND, UTC).date()
    assert report.due_on == due_date(today, 5, "working", "CN").isoformat()
    filed = t.reports.file(report.report_id, "Funds passed through in 30 hours.", "analyst")
    assert len(t.reports.document(filed.report_id)["transactions"]) == len(alert.transactions)
    assert services.tenant("ten_b").monitoring.alerts() == []
    with t.ledger.reader() as conn:
        assert check_all(conn).ok


def test_a_released_alert_is_a_false_positive_and_reports_nothing(
    services: Services, clock: ManualClock
) -> None:
    t = services.tenant("ten_a")
    alert = _alerted(t, clock)
    t.cases.decide(alert.case_id, "release", "a refund the shop explained", "analyst")
    assert t.reports.list(kind="suspicious") == []
    with pytest.raises(InvalidInput):
        t.monitoring.scan(days=0)


def test_a_bad_pack_is_refused_and_the_old_one_stays(services: Services) -> None:
    t = services.tenant("ten_a")
    assert t.monitoring.pack().id == "prc-pboc-2016-3"
    with pytest.raises(rulepacks.RulePackInvalid):
        rulepacks.parse({"id": "x"}, "pack")
    t.monitoring.set_pack(rulepacks.load("us"), "officer")
    assert t.monitoring.pack().id == "us-fincen-ctr"
    assert services.tenant("ten_b").monitoring.pack().id == "prc-pboc-2016-3"


def test_the_check_finds_an_alert_without_its_case_and_a_confirmed_one_unreported(
    services: Services, clock: ManualClock
) -> None:
    t = services.tenant("ten_a")
    alert = _alerted(t, clock)
    t.cases.decide(alert.case_id, "reject", "confirmed", "analyst")
    with t.ledger.engine.begin() as conn:  # a writer removes the due report behind the case
        conn.execute(delete(aml_reports).where(aml_reports.c.case_id == alert.case_id))
        conn.execute(text("DELETE FROM risk_case_events WHERE case_id = :c"), {"c": alert.case_id})
        conn.execute(text("DELETE FROM risk_cases WHERE case_id = :c"), {"c": alert.case_id})
    with t.ledger.reader() as conn:
        found = {v.invariant for v in check_all(conn).violations}
    assert found == {"monitoring_alerts_match_cases"}


def test_the_command_line_catches_up_scans_and_lists_the_reports(sqlite_url: str) -> None:
    import json

    from typer.testing import CliRunner

    from embedfin.cli import app

    ledger = Ledger.open(sqlite_url, ManualClock())
    _large_top_ups(Services(ledger, risk=RiskSettings(enabled=False)).tenant("ten_a"))
    ledger.close()
    runner = CliRunner()
    done = runner.invoke(app, ["aml", "monitor", "--tenant", "ten_a", "--db", sqlite_url,
                               "--json", "--no-progress"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["journaled"] == 6
    listed = runner.invoke(app, ["aml", "reports", "--tenant", "ten_a", "--db", sqlite_url,
                                 "--json"])  # fmt: skip
    assert listed.exit_code == 0, listed.output
    body = json.loads(listed.stdout)
    # the top-ups were made on 1 January 2026 (the manual clock); the command reads today
    assert body["counts"] == {"due": 1, "late": 1, "filed": 0}
    assert body["reports"][0]["subject"] == "buyer:b1"
    table = runner.invoke(app, ["aml", "reports", "--tenant", "ten_a", "--db", sqlite_url])
    assert table.exit_code == 0
    assert "CNY" in table.stdout


def test_the_stream_benchmark_runs_on_a_small_sample() -> None:
    from embedfin.bench.aml import stream_rate

    per_s, vs_insert = stream_rate(1_000, 3)
    assert per_s > 0
    assert 0 < vs_insert < 5  # the monitor does more than the bare insert it is measured by


def test_a_narrative_pasted_with_tabs_and_windows_line_breaks_is_filed(
    services: Services,
) -> None:
    t = services.tenant("ten_a")
    _large_top_ups(t)
    _drain(t.ledger)
    (report,) = t.reports.list()
    filed = t.reports.file(report.report_id, "Top-ups:\r\n\t6 × 95,000\r\n", "officer")
    assert filed.status == "filed"
    assert t.reports.document(report.report_id)["narrative"] == "Top-ups:\r\n\t6 × 95,000\r\n"
    with pytest.raises(InvalidInput, match="control character"):
        t.reports.correct(report.report_id, "bell\x07", "x", "officer")


@given(
    at=st.integers(min_value=1_577_836_800, max_value=1_893_456_000),  # 2020–2030
    zone=st.sampled_from(
        [
            "Asia/Shanghai",
            "Asia/Kathmandu",
            "Australia/Eucla",
            "America/St_Johns",
            "Europe/Berlin",
            "Pacific/Chatham",
        ]
    ),  # fmt: skip
)
def test_the_business_day_by_quarter_hour_is_the_local_calendar_day(at: int, zone: str) -> None:
    from zoneinfo import ZoneInfo

    pack = PACK.model_copy(update={"timezone": zone})
    moved = Movement("t", at * NS_PER_SECOND + 999_999_999, "order", "a", "b", "person",
                     "entity", 1, "CNY", "r")  # fmt: skip
    expected = datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(zone)).date()
    assert sameday.day_of(pack, moved) == expected
