"""The supply-chain finance pages over HTTP, on the demo: the payables and the tiers reached,
a supplier's certificates, a certificate's life proved step by step in the scf log; a
merchant's key sees only its own; unknown ids answer 404 pages, not 500s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from embedfin.demo import Demo
from tests.dashboard.test_pages import signed_in


def _post(api: httpx.Client, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    answer = api.post(path, json=body, headers={"Idempotency-Key": key})
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, Any] = answer.json()
    return result


def supplier_page(client: httpx.Client, party: str) -> str:
    return client.get("/dashboard/certificates", params={"party": party}).text


def test_a_certificates_life_is_shown_and_proved(demo: Demo) -> None:
    assert demo.keys is not None
    assert demo.keys.merchant is not None
    headers = {"Authorization": f"Bearer {demo.keys.operator}"}
    with httpx.Client(base_url=demo.base_url, headers=headers, timeout=30) as api:
        merchants = api.get("/v1/merchants", params={"limit": 3}).json()["data"]
        core, s1, dist = merchants[0]["id"], merchants[1]["id"], merchants[2]["id"]
        rates = {"discount_rate": "0.03", "overdue_rate": "0.1"}
        _post(api, "/v1/scf/parties", {"id": core, "role": "core", "name": "Core"} | rates, "p1")
        _post(api, "/v1/scf/parties", {"id": s1, "role": "supplier", "name": "One"}, "p2")
        _post(api, "/v1/scf/parties", {"id": "tier-2", "role": "supplier", "name": "Two"}, "p3")
        matures = str(datetime.now(UTC).date() + timedelta(days=60))
        first = _post(api, "/v1/scf/certificates", {"core": core, "supplier": s1,
                      "payable_ref": "DASH-1", "amount": 50_000, "currency": "EUR",
                      "matures_on": matures}, "c1")  # fmt: skip
        parts = _post(api, f"/v1/scf/certificates/{first['id']}/split",
                      {"holder": s1, "parts": [20_000, 30_000]}, "c2")["data"]  # fmt: skip
        passed = _post(api, f"/v1/scf/certificates/{parts[0]['id']}/transfer",
                       {"holder": s1, "to": "tier-2"}, "c3")["data"][0]  # fmt: skip
        _post(api, "/v1/scf/parties", {"id": dist, "role": "distributor", "name": "D"}, "p4")
        _post(api, "/v1/scf/parties", {"id": "bank-d", "role": "funder", "name": "B"}, "p5")
        terms = {"distributor": dist, "funder": "bank-d", "currency": "EUR", "advance_bp": 5_000}
        facility = _post(api, "/v1/scf/inventory_facilities", terms, "f1")
        _post(api, f"/v1/scf/inventory_facilities/{facility['id']}/stock_reports",
              {"lines": [{"sku": "book", "on_hand": 10, "unit_cost": 500}]}, "f2")  # fmt: skip
    with signed_in(demo, demo.keys.operator) as client:
        listing = client.get("/dashboard/certificates")
        assert f'data-facility="{facility["id"]}"' in listing.text
        own_stock = client.get("/dashboard/certificates", params={"party": dist})
        assert f'data-facility="{facility["id"]}"' in own_stock.text
        assert 'data-testid="facilities"' not in supplier_page(client, s1)
        assert listing.status_code == 200, listing.text
        assert "DASH-1" in listing.text
        assert 'data-tier="2"' in listing.text
        supplier = client.get("/dashboard/certificates", params={"party": s1})
        assert f'data-certificate="{parts[1]["id"]}"' in supplier.text
        life = client.get(f"/dashboard/certificates/{passed['id']}")
        assert life.status_code == 200, life.text
        for kind in ("issue", "split", "transfer"):
            assert f'data-step="{kind}"' in life.text
        assert life.text.count('<strong class="verdict">included</strong>') == 3
        assert client.get("/dashboard/certificates/crt_nope").status_code == 404
        assert client.get("/dashboard/certificates", params={"party": "ghost"}).status_code == 404
    with signed_in(demo, demo.keys.merchant) as merchant:
        own = merchant.get("/dashboard/certificates")
        assert own.status_code == 200
        assert "DASH-1" not in own.text
        assert facility["id"] not in own.text
        assert merchant.get(f"/dashboard/certificates/{passed['id']}").status_code == 404
