"""Customer due diligence through the API: the tenant's pack, a buyer's verification, and
withdrawals refused past its level's limit with 422 ``verification_limit``, nothing moved."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api


def _put(api: Api, body: dict[str, Any], key: str) -> Any:
    headers = api.a.headers | {"Idempotency-Key": key}
    return api.client.put("/v1/aml/diligence", json=body, headers=headers)


def _withdraw(api: Api, cid: str, amount: int) -> Any:
    body = {"amount": amount, "currency": "EUR", "bank_token": "tok_abcdefgh12",
            "bank_last4": "1234"}  # fmt: skip
    return api.post(api.a, f"/v1/customers/{cid}/withdrawals", body)


def test_a_buyer_withdraws_only_what_its_level_allows(api: Api) -> None:
    assert api.ok(api.get(api.a, "/v1/aml/diligence"))["id"] == "none"
    pack = api.ok(_put(api, {"shipped": "prc"}, "pack-1"))
    assert pack["levels"] == ["I", "II", "III"]
    cid = str(api.ok(api.post(api.a, "/v1/customers", {"name": "Ada Lovelace"}), 201)["id"])
    api.ok(api.post(api.a, f"/v1/customers/{cid}/top_ups", {"amount": 50_000, "currency": "EUR"}),
           201)  # fmt: skip
    settled = {"kind": "channel_settlement", "channel": "card-acquirer", "amount": 50_000,
               "fee": 0, "currency": "EUR"}  # fmt: skip
    api.ok(api.post(api.a, "/v1/settlement_runs", settled), 201)
    refused = _withdraw(api, cid, 1_000)
    assert refused.status_code == 422
    assert refused.json()["code"] == "verification_limit"
    standing = api.ok(api.get(api.a, f"/v1/aml/verifications/{cid}"))
    assert standing["level"] is None
    body = {"buyer_id": cid, "channels": ["bank_card"]}
    standing = api.ok(api.post(api.a, "/v1/aml/verifications", body))
    shown = (standing["level"], standing["remaining"], standing["period"])
    assert shown == ("I", "1000", "lifetime")
    api.ok(_withdraw(api, cid, 1_000), 201)  # EUR 10: well under RMB 1,000
    too_much = _withdraw(api, cid, 20_000)  # EUR 200: past what is left
    assert too_much.json()["code"] == "verification_limit"
    spent = api.ok(api.get(api.a, f"/v1/aml/verifications/{cid}"))["spent"]
    assert 0 < float(spent) < 100
    bad = api.post(api.a, "/v1/aml/verifications", {"buyer_id": cid, "channels": ["rumour"]})
    assert bad.status_code == 422
    nobody = {"buyer_id": "cus_nobody", "channels": []}
    assert api.post(api.a, "/v1/aml/verifications", nobody).status_code == 404
    assert api.get(api.b, f"/v1/aml/verifications/{cid}").status_code == 404
    assert api.ok(api.get(api.b, "/v1/aml/diligence"))["id"] == "none"
    assert _put(api, {"pack": {"id": "x"}}, "pack-2").json()["code"] == "diligence_pack_invalid"


def test_a_merchant_is_verified_through_its_kyb_case(api: Api) -> None:
    from embedfin.api import auth

    body = {"category": "books", "country": "DE", "settlement_currency": "EUR"}
    merchant = str(api.ok(api.post(api.a, "/v1/merchants", body), 201)["id"])
    assert api.ok(api.get(api.a, f"/v1/merchants/{merchant}"))["kyc_status"] == "pending"
    assert api.get(api.a, f"/v1/aml/merchants/{merchant}/kyb").status_code == 404
    kyb = {"legal_name": "Lindenblatt Buchhandel GmbH", "registration_number": "HRB 12345",
           "country": "de", "owners": [{"name": "Ada Lovelace", "birth_date": "1985-12-10",
                                        "country": "GB", "share": "100"}]}  # fmt: skip
    submitted = api.ok(api.post(api.a, f"/v1/aml/merchants/{merchant}/kyb", kyb))
    assert submitted["status"] == "submitted"
    assert "Lindenblatt" not in submitted["legal_name"]
    bad = {**kyb, "owners": [{"name": "Ada Lovelace", "share": "150"}]}
    assert api.post(api.a, f"/v1/aml/merchants/{merchant}/kyb", bad).status_code == 422
    officer = api.key(api.a, auth.Role.RISK)
    decision = {"outcome": "release", "reason": "registry extract checked"}
    api.ok(api.post(officer, f"/v1/risk/cases/{submitted['case']}/decision", decision))
    assert api.ok(api.get(api.a, f"/v1/merchants/{merchant}"))["kyc_status"] == "verified"
    assert api.ok(api.get(api.a, f"/v1/aml/merchants/{merchant}/kyb"))["status"] == "verified"
    assert api.get(api.b, f"/v1/aml/merchants/{merchant}/kyb").status_code == 404
    assert api.post(api.b, f"/v1/aml/merchants/{merchant}/kyb", kyb).status_code == 404
