"""The compliance officer's screening page, after a short simulation: the shipped synthetic list
loaded, a listed buyer and a clean one screened. The page shows the list, the counts, the open
hit linked to its case and no party's name; another tenant sees none of it; in a browser the
officer follows a hit to its case, and the hit shows as cleared once the case is released."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, expect

from embedfin.api import auth
from embedfin.compliance.aml import watchlist
from embedfin.compliance.aml.screening import Subject
from embedfin.compliance.aml.service import Screening, StoredHit
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
