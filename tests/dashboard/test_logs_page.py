"""The verifiable logs page over HTTP, on the demo: the tenant's log and the platform's audit log
listed with their checkpoints and witnesses; an entry's inclusion proved on the page; a merchant
key refused; bad input answered on the page, not with a 500."""

from __future__ import annotations

from embedfin.client import Client
from embedfin.client.logs import Logs
from embedfin.demo import Demo
from tests.dashboard.test_pages import signed_in


def test_the_page_lists_logs_and_proves_an_entry(demo: Demo) -> None:
    assert demo.keys is not None
    with Client(demo.keys.operator, demo.base_url) as api:
        logs = Logs(api)
        logs.append("anchors", ["po-17 sha256 aa", "po-18 sha256 bb", "po-19 sha256 cc"])
        logs.checkpoint("anchors")
    with signed_in(demo, demo.keys.operator) as client:
        page = client.get("/dashboard/logs")
        assert page.status_code == 200, page.text
        assert 'data-log="tenant/anchors"' in page.text
        assert 'data-log="platform/audit"' in page.text  # the worker's audit checkpoints
        assert 'data-testid="verifier"' in page.text
        proved = client.get("/dashboard/logs", params={"log": "anchors", "index": 1})
        assert proved.status_code == 200
        assert '<strong id="log-verdict">included</strong>' in proved.text
        assert "po-18 sha256 bb" in proved.text  # an operator key reads bodies (audit:read)
        for log, index in (("anchors", 9), ("nothing", 0), ("BAD!", 0)):
            answer = client.get("/dashboard/logs", params={"log": log, "index": index})
            assert answer.status_code == 200, answer.text
            assert 'data-testid="log-error"' in answer.text
        assert client.get("/dashboard/logs", params={"log": "a", "index": -1}).status_code == 422
        assert client.get("/dashboard/logs", params={"log": "a", "index": "1.0"}).status_code == 422
        assert "no witness: private" in page.text


def test_a_merchant_key_may_not_see_the_logs_page(demo: Demo) -> None:
    assert demo.keys is not None
    assert demo.keys.merchant is not None
    with signed_in(demo, demo.keys.merchant) as merchant:
        assert merchant.get("/dashboard/logs").status_code == 403
