"""The fund pool page over HTTP, on the demo: the funds, a fund's books, its disclosed days and
liquidity; a merchant's key and unknown funds answer 404 pages, not 500s."""

from __future__ import annotations

from typing import Any

import httpx

from embedfin.demo import Demo
from tests.dashboard.test_pages import signed_in


def _post(api: httpx.Client, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    answer = api.post(path, json=body, headers={"Idempotency-Key": key})
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_funds_books_days_and_liquidity_are_shown(demo: Demo) -> None:
    assert demo.keys is not None
    assert demo.keys.merchant is not None
    headers = {"Authorization": f"Bearer {demo.keys.operator}"}
    with httpx.Client(base_url=demo.base_url, headers=headers, timeout=30) as api:
        _post(api, "/v1/fundpool/funds", {"id": "dash-mmf", "name": "Dashboard Fund",
                                          "currency": "EUR", "fast_cap": 50_000}, "f1")  # fmt: skip
        _post(api, "/v1/fundpool/funds/dash-mmf/facility", {"amount": 10_000,
                                                             "currency": "EUR"}, "f2")  # fmt: skip
        day = _post(api, "/v1/fundpool/funds/dash-mmf/accruals", {}, "f3")
    with signed_in(demo, demo.keys.operator) as client:
        listing = client.get("/dashboard/funds", params={"fund": "dash-mmf"})
        assert listing.status_code == 200, listing.text
        for testid in ("funds", "fund-books", "fund-days", "fund-liquidity", "fund-assets"):
            assert f'data-testid="{testid}"' in listing.text
        assert 'data-fund="dash-mmf"' in listing.text
        assert f'data-day="{day["day"]}"' in listing.text
        assert client.get("/dashboard/funds", params={"fund": "ghost"}).status_code == 404
    with signed_in(demo, demo.keys.merchant) as merchant:
        assert merchant.get("/dashboard/funds").status_code == 404
