"""The compliance officer's screening page, after a short simulation: the shipped synthetic list
loaded, a listed buyer and a clean one screened. The page shows the list, the counts, the open
hit linked to its case and no party's name; another tenant sees none of it; in a browser the
officer follows a hit to its case, and the hit shows as cleared once the case is released.

Transaction monitoring on the same page, from rows inserted straight into ``aml_reports`` and
``aml_alerts``: a due report with its working days left, a late one marked late and listed first,
a filed one with its digest prefix and the one it corrects, an alert with its typology and case;
none of another tenant's."""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import Connection, insert

from embedfin.api import auth
from embedfin.compliance.aml import watchlist
from embedfin.compliance.aml.reports import Reports
from embedfin.compliance.aml.screening import Subject
from embedfin.compliance.aml.service import Screening, StoredHit
from embedfin.compliance.aml.workdays import working_days_left
from embedfin.dashboard.queries.aml import amount_text, due_reports
from embedfin.db.tables import aml_alerts, aml_reports
from embedfin.demo import Demo
from tests.dashboard.conftest import Screenshot
from tests.dashboard.test_browser import sign_in

LISTED = Subject("Boris Zheleznov", "1961-02-03", "RU", "person")
CLEAN = Subject("Wilhelmina Fairweather", "1988-04-12", "GB", "person")


@dataclass(frozen=True, slots=True)
class Seeded:
    screening: Screening
    list_id: str
    hit: StoredHit


def _seed(screening: Screening, listed_id: str, clean_id: str) -> Seeded:
    loaded = screening.load_list(watchlist.read_file(watchlist.SHIPPED), "synthetic", "officer")
    _, hits = screening.record("buyer", listed_id, LISTED)
    _, clean_hits = screening.record("buyer", clean_id, CLEAN)
    assert hits
    assert clean_hits == []
    return Seeded(screening, loaded.watchlist.list_id, max(hits, key=lambda h: h.score))


@pytest.fixture(scope="module")
def seeded(demo: Demo) -> Seeded:
    assert demo.keys is not None
    screening = demo.platform.tenant(demo.keys.tenant).screening
    return _seed(screening, "cus_aml_listed", "cus_aml_clean")


@contextmanager
def signed_in(demo: Demo, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.base_url, timeout=30) as client:
        answer = client.post("/dashboard/login", data={"key": key})
        assert answer.status_code == 303, answer.text
        yield client


@pytest.fixture
def operator(demo: Demo) -> Iterator[httpx.Client]:
    assert demo.keys is not None
    with signed_in(demo, demo.keys.operator) as client:
        yield client


def _row(page: str, hit_id: str) -> str:
    found = re.search(rf'<tr data-hit="{hit_id}".*?</tr>', page, re.S)
    assert found is not None, f"no row for {hit_id}"
    return found.group(0)


def test_the_page_shows_the_active_list(seeded: Seeded, operator: httpx.Client) -> None:
    page = operator.get("/dashboard/aml")
    assert page.status_code == 200, page.text
    assert 'data-testid="aml-list"' in page.text
    assert seeded.list_id in page.text
    (info,) = [i for i in seeded.screening.lists() if i.active]
    assert f'id="aml-list-name">{info.name}<' in page.text
    assert f'id="aml-list-entries">{info.entries}<' in page.text
    assert f"by <code>{info.loaded_by}</code>" in page.text


def test_the_open_hit_links_to_its_case_in_the_risk_queue(
    seeded: Seeded, operator: httpx.Client
) -> None:
    page = operator.get("/dashboard/aml").text
    table = page.split('data-testid="aml-open-hits"')[1].split("</table>")[0]
    row = _row(table, seeded.hit.hit_id)
    assert "buyer <code>cus_aml_listed</code>" in row
    assert seeded.hit.caption in row
    assert "<td>sanction</td>" in row
    assert f'href="/dashboard/risk/cases/{seeded.hit.case_id}"' in row


def test_the_hits_case_page_opens(seeded: Seeded, operator: httpx.Client) -> None:
    case = operator.get(f"/dashboard/risk/cases/{seeded.hit.case_id}")
    assert case.status_code == 200, case.text
    assert "sanctions_hit" in case.text


def test_the_risk_queue_opens_with_a_sanctions_hit_case(
    seeded: Seeded, operator: httpx.Client
) -> None:
    queue = operator.get("/dashboard/risk")
    assert queue.status_code == 200, queue.text
    assert seeded.hit.case_id in queue.text


def test_the_counts_match_the_hits_by_status_and_category(
    seeded: Seeded, operator: httpx.Client
) -> None:
    hits = seeded.screening.hits(limit=1_000)
    by_status = Counter(h.status for h in hits)
    open_by_category = Counter(h.category for h in hits if h.status == "open")
    page = operator.get("/dashboard/aml").text
    assert f'id="aml-open">{by_status["open"]}<' in page
    assert f'id="aml-cleared">{by_status["cleared"]}<' in page
    assert f'id="aml-confirmed">{by_status["confirmed"]}<' in page
    counts = page.split('data-testid="aml-counts"')[1].split("</table>")[0]
    for category, open_hits in open_by_category.items():
        row = re.search(
            rf'<tr data-category="{category}"><td>{category}</td><td[^>]*>(\d+)<', counts
        )
        assert row is not None, category
        assert int(row.group(1)) == open_hits
    assert open_by_category["sanction"] >= 1


def test_the_page_shows_no_partys_name(seeded: Seeded, operator: httpx.Client) -> None:
    page = operator.get("/dashboard/aml").text
    assert LISTED.name not in page  # the listed entry's caption is shown, not the party's name
    assert CLEAN.name not in page
    assert "cus_aml_clean" not in page  # no hit, so not on the page


def test_another_tenants_session_sees_none_of_this_tenants_screening(
    demo: Demo, seeded: Seeded
) -> None:
    now = demo.clock.now_ns()
    with demo.ledger.transaction() as tx:
        other = auth.create_tenant(tx.conn, "Another marketplace", now)
        _, secret = auth.create_key(tx.conn, other, auth.Role.OPERATOR, "other", now)
    with signed_in(demo, secret) as stranger:
        page = stranger.get("/dashboard/aml").text
        assert 'id="aml-open">0<' in page
        assert "no list loaded" in page
        assert seeded.hit.hit_id not in page
        assert seeded.hit.case_id not in page
        theirs = _seed(demo.platform.tenant(other).screening, "cus_other_listed", "cus_other_clean")
        page = stranger.get("/dashboard/aml").text
        assert theirs.hit.hit_id in page
        assert "cus_aml_listed" not in page
        assert seeded.hit.hit_id not in page
        assert stranger.get(f"/dashboard/risk/cases/{seeded.hit.case_id}").status_code == 404


def test_a_merchant_key_may_not_see_the_screening(demo: Demo) -> None:
    assert demo.keys is not None
    assert demo.keys.merchant is not None
    with signed_in(demo, demo.keys.merchant) as merchant:
        assert merchant.get("/dashboard/aml").status_code == 403


# --- reports to the FIU and monitoring alerts ------------------------------------------------


def _report(conn: Connection, tenant: str, now: int, **values: object) -> str:
    report_id = f"rpt_{secrets.token_hex(8)}"
    row: dict[str, object] = {
        "tenant": tenant,
        "report_id": report_id,
        "dedupe_key": report_id,
        "kind": "large_value",
        "status": "due",
        "subject": "buyer:b-1",
        "pack_id": "cn-pboc-2016",
        "rule_id": "cn-large-cash",
        "case_id": None,
        "business_day": "2026-02-13",
        "amount_micros": 600_000_000_000,
        "currency": "CNY",
        "transactions": json.dumps(["tx-1", "tx-2"]),
        "reasons": json.dumps(["same-day total over the line"]),
        "due_on": "2026-02-24",
        "calendar": "CN",
        "created_at": now,
    }
    row.update(values)
    conn.execute(insert(aml_reports).values(row))
    return report_id


def _filed(conn: Connection, tenant: str, now: int, **values: object) -> str:
    values = {
        "status": "filed",
        "filed_at": now,
        "filed_by": "officer",
        "document": "{}",
        "digest": secrets.token_hex(32),
        **values,
    }
    return _report(conn, tenant, now, **values)


def _alert(conn: Connection, tenant: str, now: int, **values: object) -> str:
    alert_id = f"aml_{secrets.token_hex(12)}"
    row: dict[str, object] = {
        "tenant": tenant,
        "alert_id": alert_id,
        "alert_key": alert_id,
        "typology": "fan_in",
        "accounts": json.dumps(["buyer:b-1", "buyer:b-2", "merchant:m-1"]),
        "transactions": json.dumps(["tx-1", "tx-2", "tx-3", "tx-4"]),
        "window_start": now - 86_400 * 10**9,
        "window_end": now,
        "amount": "12345.67",
        "currency": "EUR",
        "score": 0.875,
        "reasons": json.dumps(["4 payers into one account within a day", "second reason"]),
        "case_id": f"case_{alert_id}",
        "created_at": now,
    }
    row.update(values)
    conn.execute(insert(aml_alerts).values(row))
    return alert_id


@dataclass(frozen=True, slots=True)
class Monitored:
    today: date
    due: str
    due_on: date
    late: str
    late_on: date
    filed: str
    digest: str
    correction: str
    festival: str
    alert: str
    other_report: str
    other_filed: str
    other_digest: str
    other_alert: str
    other_key: str


@pytest.fixture(scope="module")
def monitored(demo: Demo) -> Monitored:
    assert demo.keys is not None
    tenant = demo.keys.tenant
    now = demo.clock.now_ns()
    today = datetime.fromtimestamp(now // 10**9, UTC).date()
    due_on, late_on = today + timedelta(days=12), today - timedelta(days=12)
    with demo.ledger.transaction() as tx:
        other = auth.create_tenant(tx.conn, "A third marketplace", now)
        _, other_key = auth.create_key(tx.conn, other, auth.Role.OPERATOR, "third", now)
        conn = tx.conn
        due = _report(conn, tenant, now, due_on=due_on.isoformat(), subject="buyer:b-due")
        late = _report(
            conn,
            tenant,
            now,
            due_on=late_on.isoformat(),
            subject="merchant:m-late",
            kind="suspicious",
            case_id="case_aml_late",
            business_day=None,
            amount_micros=1_234_567,
            currency="USD",
            calendar="US",
        )
        filed = _filed(conn, tenant, now, subject="buyer:b-filed")
        digest = secrets.token_hex(32)
        correction = _filed(conn, tenant, now + 1, corrects=filed, digest=digest)
        festival = _report(conn, tenant, now, subject="buyer:b-festival")  # due 2026-02-24
        alert = _alert(conn, tenant, now, typology="structuring")
        other_report = _report(conn, other, now, due_on=due_on.isoformat(), subject="buyer:o-1")
        other_digest = secrets.token_hex(32)
        other_filed = _filed(conn, other, now, subject="buyer:o-2", digest=other_digest)
        other_alert = _alert(conn, other, now, typology="round_trip")
    return Monitored(
        today,
        due,
        due_on,
        late,
        late_on,
        filed,
        digest,
        correction,
        festival,
        alert,
        other_report,
        other_filed,
        other_digest,
        other_alert,
        other_key,
    )


def _table(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"')[1].split("</table>")[0]


def _report_row(table: str, report_id: str) -> str:
    found = re.search(rf'<tr data-report="{report_id}".*?</tr>', table, re.S)
    assert found is not None, f"no row for {report_id}"
    return found.group(0)


def test_a_due_report_shows_its_working_days_left(
    demo: Demo, monitored: Monitored, operator: httpx.Client
) -> None:
    page = operator.get("/dashboard/aml")
    assert page.status_code == 200, page.text
    row = _report_row(_table(page.text, "aml-due-reports"), monitored.due)
    left = working_days_left(monitored.today, monitored.due_on, "CN")
    assert left > 0
    assert f'<td class="num">{left}</td>' in row
    assert "<td>large_value</td><td><code>buyer:b-due</code></td><td>2026-02-13</td>" in row
    assert "600,000.00 CNY" in row
    assert f"<td>{monitored.due_on.isoformat()}</td>" in row
    assert "late" not in row
    assert "<td>—</td>" in row  # no case


def test_a_late_report_is_marked_late_and_listed_first(
    monitored: Monitored, operator: httpx.Client
) -> None:
    table = _table(operator.get("/dashboard/aml").text, "aml-due-reports")
    row = _report_row(table, monitored.late)
    late = -working_days_left(monitored.today, monitored.late_on, "US")
    assert late > 0
    assert 'class="late"' in row
    assert f'<strong class="late">{late} late</strong>' in row
    assert "1.234567 USD" in row  # micros shown exactly, never rounded to cents
    assert 'href="/dashboard/risk/cases/case_aml_late"' in row
    assert table.index(monitored.late) < table.index(monitored.due)


def test_the_report_counts_match_the_service(
    demo: Demo, monitored: Monitored, operator: httpx.Client
) -> None:
    assert demo.keys is not None
    counts = Reports(demo.ledger, demo.keys.tenant).counts(monitored.today)
    assert counts["due"] >= 2
    assert counts["late"] >= 1
    assert counts["filed"] >= 2
    page = operator.get("/dashboard/aml").text
    assert f'id="aml-reports-due">{counts["due"]}<' in page
    assert f'id="aml-reports-late">{counts["late"]}<' in page
    assert f'id="aml-reports-filed">{counts["filed"]}<' in page


def test_a_filed_report_shows_its_digest_prefix_and_what_it_corrects(
    monitored: Monitored, operator: httpx.Client
) -> None:
    page = operator.get("/dashboard/aml").text
    table = _table(page, "aml-filed-reports")
    row = _report_row(table, monitored.correction)
    assert f"<code>{monitored.digest[:12]}</code>" in row
    assert monitored.digest[:13] not in row
    assert f"corrects <code>{monitored.filed}</code>" in row
    assert "buyer:b-filed" in _report_row(table, monitored.filed)
    assert monitored.filed not in _table(page, "aml-due-reports")


def test_an_alert_shows_its_typology_and_links_to_its_case(
    monitored: Monitored, operator: httpx.Client
) -> None:
    page = operator.get("/dashboard/aml").text
    found = re.search(rf'<tr data-alert="{monitored.alert}".*?</tr>', page, re.S)
    assert found is not None
    row = found.group(0)
    assert "<td>structuring</td>" in row
    assert '<td class="num">3</td><td class="num">4</td>' in row  # accounts, transactions
    assert "12,345.67 EUR" in row
    assert "0.88" in row
    assert "4 payers into one account within a day" in row
    assert "second reason" not in row
    assert f'href="/dashboard/risk/cases/case_{monitored.alert}"' in row
    counts = _table(page, "aml-alert-counts")
    assert re.search(r'<tr data-typology="structuring"><td>structuring</td><td[^>]*>\d+<', counts)


def test_another_tenants_reports_and_alerts_never_show(
    demo: Demo, monitored: Monitored, operator: httpx.Client
) -> None:
    page = operator.get("/dashboard/aml").text
    for theirs in (monitored.other_report, monitored.other_filed, monitored.other_alert):
        assert theirs not in page
    assert monitored.other_digest[:12] not in page
    assert "buyer:o-1" not in page
    assert "buyer:o-2" not in page
    assert 'data-typology="round_trip"' not in page
    with signed_in(demo, monitored.other_key) as stranger:  # theirs show on their page only
        theirs = stranger.get("/dashboard/aml").text
        assert monitored.other_report in theirs
        assert monitored.other_digest[:12] in theirs
        assert monitored.other_alert in theirs
        assert 'id="aml-reports-due">1<' in theirs
        assert 'id="aml-reports-filed">1<' in theirs
        for ours in (monitored.due, monitored.late, monitored.filed, monitored.alert):
            assert ours not in theirs


def test_the_due_reports_count_working_days_by_the_official_calendar(
    demo: Demo, monitored: Monitored
) -> None:
    """Friday 13 February 2026 to Tuesday 24 February in the PRC: the Spring Festival holiday
    (15-23 February) is not worked, Saturday 14 February is a make-up working day; two days
    after, it is two working days late."""
    assert demo.keys is not None
    with demo.ledger.reader() as conn:
        before = due_reports(conn, demo.keys.tenant, date(2026, 2, 13))
        after = due_reports(conn, demo.keys.tenant, date(2026, 2, 26))
    (row,) = [r for r in before if r.report_id == monitored.festival]
    assert (row.due_on, row.days_left, row.late) == ("2026-02-24", 2, False)
    (row,) = [r for r in after if r.report_id == monitored.festival]
    assert (row.days_left, row.late) == (-2, True)
    assert amount_text(Decimal(600_000_000_000).scaleb(-6), "CNY") == "600,000.00 CNY"
    assert amount_text(Decimal("5000"), "JPY") == "5,000 JPY"


@pytest.mark.browser
def test_the_officer_follows_a_hit_to_its_case_and_sees_it_cleared_in_the_browser(
    demo: Demo, seeded: Seeded, browser: Browser, screenshot: Screenshot
) -> None:
    """A false positive: the officer finds the hit, follows it to its case, clears it there,
    and the hit is listed as cleared."""
    assert demo.keys is not None
    subject = Subject("Long Haitao", "1969-11-20", "CN", "person")
    _, hits = seeded.screening.record("buyer", "cus_aml_browser", subject)
    hit = max(hits, key=lambda h: h.score)
    page = sign_in(browser, demo, demo.keys.operator)
    page.click("nav >> text=Screening")
    expect(page).to_have_url(re.compile(r"/dashboard/aml$"))
    expect(page.locator("#aml-list-name")).to_have_text(re.compile(r"^synthetic"))
    row = page.get_by_test_id("aml-open-hits").locator(f"tr[data-hit='{hit.hit_id}']")
    expect(row).to_contain_text("cus_aml_browser")
    expect(row).to_contain_text(hit.caption)
    screenshot(page, "aml")
    row.locator("a").click()
    expect(page).to_have_url(re.compile(rf"/dashboard/risk/cases/{hit.case_id}$"))
    form = page.get_by_test_id("case-decide")
    form.locator("input[name=reason]").fill("a namesake: another person")
    form.locator("button[value=release]").click()
    page.goto(f"{demo.base_url}/dashboard/aml")
    decided = page.get_by_test_id("aml-decided-hits").locator(f"tr[data-hit='{hit.hit_id}']")
    expect(decided).to_contain_text("cleared")
    expect(page.get_by_test_id("aml-open-hits")).not_to_contain_text("cus_aml_browser")
    screenshot(page, "aml-cleared")
    page.close()


def test_a_monitoring_alerts_case_page_shows_its_evidence_and_its_choices(
    demo: Demo, operator: httpx.Client
) -> None:
    from embedfin.compliance.aml.journal import Movement

    assert demo.keys is not None
    t = demo.platform.tenant(demo.keys.tenant)
    start = t.ledger.clock.now_ns() - 3 * 86_400 * 10**9
    hop = 10 * 3_600 * 10**9
    chain = [("card:buyer:pm", "buyer:pm", "external", "person"),
             ("buyer:pm", "merchant:ps", "person", "entity"),
             ("merchant:ps", "buyer:pm2", "entity", "person"),
             ("buyer:pm2", "bank:buyer:pm2", "person", "external")]  # fmt: skip
    moves = [Movement(f"dash-pt-{n}", start + n * hop, "order", *ends, 4_990_000 - n * 5_000,
                      "EUR", f"r{n}") for n, ends in enumerate(chain)]  # fmt: skip
    with t.ledger.transaction() as tx:
        t.monitoring.record(tx, moves)
    t.monitoring.scan(days=30)
    alert = next(a for a in t.monitoring.alerts() if "dash-pt-1" in a.transactions)
    page = operator.get(f"/dashboard/risk/cases/{alert.case_id}")
    assert page.status_code == 200, page.text
    assert f"Monitoring alert: {alert.typology}" in page.text
    assert "dash-pt-1" in page.text
    assert "Confirmed suspicious" in page.text


def test_merchants_under_kyb_review_are_listed_with_their_cases(
    demo: Demo, operator: httpx.Client
) -> None:
    assert demo.keys is not None
    t = demo.platform.tenant(demo.keys.tenant)
    t.checkout.register_merchant("mer_kyb_page", category="books", country="DE",
                                 settlement_currency="EUR", kyc_status="pending")  # fmt: skip
    sub = t.kyb.submit("mer_kyb_page", "Lindenblatt Buchhandel GmbH", "HRB 77", "DE", [], "ops")
    page = operator.get("/dashboard/aml").text
    table = page.split('data-testid="aml-kyb-reviews"')[1].split("</table>")[0]
    row = re.search(r'<tr data-kyb="mer_kyb_page".*?</tr>', table, re.S)
    assert row is not None
    assert f'href="/dashboard/risk/cases/{sub.case_id}"' in row.group(0)
    assert "Lindenblatt" not in page  # the legal name stays in the review
    counts = page.split('data-testid="aml-kyb-counts"')[1].split("</table>")[0]
    assert 'data-kyb-status="submitted"' in counts
