"""Transaction monitoring through the API: the tenant's rule pack, a large-value report that falls
due by itself, filed once and corrected by a new report, the monitor's scan, and another
tenant's reports out of sight."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

LOW_LINE = {
    "id": "low-line",
    "title": "EUR 50 a day",
    "report": "large_value",
    "timezone": "Europe/Berlin",
    "calendar": "DE",
    "deadline_working_days": 3,
    "rules": [{"id": "eur", "kind": "person", "currency": "EUR", "at_least": "50"}],
}


def _buyer_with(api: Api, amounts: list[int]) -> str:
    cid = str(api.ok(api.post(api.a, "/v1/customers", {"name": "Ada Lovelace"}), 201)["id"])
    for amount in amounts:
        body = {"amount": amount, "currency": "EUR"}
        api.ok(api.post(api.a, f"/v1/customers/{cid}/top_ups", body), 201)
    return cid


def _put_pack(api: Api, body: dict[str, Any]) -> Any:
    headers = api.a.headers | {"Idempotency-Key": f"pack-{len(str(body))}-{id(body)}"}
    return api.client.put("/v1/aml/rulepack", json=body, headers=headers)


def test_a_report_falls_due_is_filed_and_corrected(api: Api) -> None:
    assert api.ok(api.get(api.a, "/v1/aml/rulepack"))["id"] == "prc-pboc-2016-3"
    pack = api.ok(_put_pack(api, {"pack": LOW_LINE}))
    assert (pack["id"], pack["deadline"], pack["calendar"]) == ("low-line", "3 working days", "DE")
    buyer = _buyer_with(api, [3_000, 2_500])  # 30 + 25 EUR the same day
    api.platform.consumers.run_all()
    (report,) = api.ok(api.get(api.a, "/v1/aml/reports", status="due"))["data"]
    assert report["subject"] == f"buyer:{buyer}"
    assert (report["amount"], report["currency"], report["working_days_left"]) == ("55", "EUR", 3)
    assert len(report["transactions"]) == 2
    rid = report["id"]
    refused = api.post(api.a, f"/v1/aml/reports/{rid}/file", {"narrative": ""})
    assert refused.status_code == 422
    not_yet = api.get(api.a, f"/v1/aml/reports/{rid}/document")
    assert not_yet.status_code == 409
    filed = api.ok(api.post(api.a, f"/v1/aml/reports/{rid}/file", {"narrative": "Two top-ups."}))
    assert filed["status"] == "filed"
    assert filed["working_days_left"] is None
    again = api.post(api.a, f"/v1/aml/reports/{rid}/file", {"narrative": "again"})
    assert again.status_code == 409
    document = api.ok(api.get(api.a, f"/v1/aml/reports/{rid}/document"))
    assert document["total"] == "55"
    assert document["subject"]["party"] == f"buyer:{buyer}"
    body = {"narrative": "Two card top-ups.", "reason": "wording"}
    correction = api.ok(api.post(api.a, f"/v1/aml/reports/{rid}/corrections", body), 201)
    assert correction["corrects"] == rid
    assert api.ok(api.get(api.a, f"/v1/aml/reports/{rid}"))["digest"] == filed["digest"]
    # another tenant sees none of it and cannot file it
    assert api.ok(api.get(api.b, "/v1/aml/reports"))["data"] == []
    assert api.get(api.b, f"/v1/aml/reports/{rid}").status_code == 404
    assert api.post(api.b, f"/v1/aml/reports/{rid}/file", {"narrative": "x"}).status_code == 404
    assert api.ok(api.get(api.b, "/v1/aml/rulepack"))["id"] == "prc-pboc-2016-3"


def test_a_bad_pack_is_refused_and_changes_nothing(api: Api) -> None:
    bad = _put_pack(api, {"pack": {**LOW_LINE, "calendar": "XX"}})
    assert bad.status_code == 422
    assert bad.json()["code"] == "rule_pack_invalid"
    both = _put_pack(api, {"shipped": "us", "pack": LOW_LINE})
    assert both.status_code == 422
    assert api.ok(api.get(api.a, "/v1/aml/rulepack"))["id"] == "prc-pboc-2016-3"
    assert api.ok(_put_pack(api, {"shipped": "us"}))["report"] == "ctr"


def test_the_monitor_scans_the_journal_and_lists_its_alerts(api: Api) -> None:
    _buyer_with(api, [1_000])
    api.platform.consumers.run_all()
    run = api.ok(api.post(api.a, "/v1/aml/monitor", {"days": 7}))
    assert run["transactions"] == 1
    assert run["new_alerts"] == 0
    assert api.ok(api.get(api.a, "/v1/aml/alerts"))["data"] == []
    assert api.post(api.a, "/v1/aml/monitor", {"days": 0}).status_code == 422
    assert api.post(api.a, "/v1/aml/monitor", {"days": 7, "x": 1}).status_code == 422
    assert api.post(api.a, "/v1/aml/monitor", {"days": "7"}).status_code == 422
    assert api.post(api.a, "/v1/aml/monitor", {"days": True}).status_code == 422
