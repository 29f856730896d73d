"""The stress test page over HTTP, on the demo's books: the exposure network and every scenario
with its reverse stress; a merchant's key is refused; bad parameters answer 422, not 500."""

from __future__ import annotations

from embedfin.demo import Demo
from tests.dashboard.test_pages import signed_in


def test_the_stress_page_runs_every_scenario_on_the_books(demo: Demo) -> None:
    assert demo.keys is not None
    assert demo.keys.merchant is not None
    with signed_in(demo, demo.keys.operator) as client:
        found = client.get("/dashboard/stress", params={"severity": "1"})
        assert found.status_code == 200, found.text
        assert 'data-testid="network"' in found.text
        assert 'data-edge-kind="wallet"' in found.text  # the demo's buyers hold balances
        for scenario in ("merchant_failure", "consumer_defaults", "supplier_failure",
                         "channel_outage"):  # fmt: skip
            assert f'data-scenario="{scenario}"' in found.text
        assert 'id="chart-stress-losses"' in found.text
        for bad in ({"severity": "2"}, {"severity": "nan"}, {"currency": "eur"}):
            assert client.get("/dashboard/stress", params=bad).status_code == 422
    with signed_in(demo, demo.keys.merchant) as merchant:
        assert merchant.get("/dashboard/stress").status_code == 403
