"""The public verification page of a certificate: no sign-in, only for a tenant whose ``scf``
log is public (has a witness), every step proved with no amount shown; otherwise 404."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from embedfin.transparency import checkpoints
from tests.api.conftest import Api
from tests.api.test_scf import _chain
from tests.api.test_scf_batches import _items

PAGE = "/dashboard/verify/certificates/{}"


def test_a_certificate_in_a_public_log_is_proved_to_anyone(api: Api) -> None:
    p = _chain(api)
    done = api.ok(api.post(api.a, "/v1/scf/batches", {"items": _items(api, p)}), 201)
    passed = done["data"][2]["certificates"][0]["id"]
    log = api.platform.tenant(api.a.id).log
    origin = log.origin("scf")
    # not public yet: the same 404 as a log that does not exist
    assert api.client.get(PAGE.format(passed), params={"origin": origin}).status_code == 404
    log.checkpoint("scf")
    log.add_witness("scf", checkpoints.verifier_of("witness.example", Ed25519PrivateKey.generate()))
    page = api.client.get(PAGE.format(passed), params={"origin": origin})
    assert page.status_code == 200, page.text
    assert 'data-testid="verified-steps"' in page.text
    assert [s in page.text for s in ('data-step="issue"', 'data-step="split"',
                                     'data-step="transfer"')] == [True] * 3  # fmt: skip
    assert page.text.count("included</strong>") == 3
    assert "NOT included" not in page.text.replace('"NOT included"', "")
    assert "60,000" not in page.text  # no amount on the page
    assert "60000" not in page.text
    # another tenant's origin, an unknown certificate, another log: 404
    other = api.platform.tenant(api.b.id).log.origin("scf")
    assert api.client.get(PAGE.format(passed), params={"origin": other}).status_code == 404
    assert api.client.get(PAGE.format("crt_nope"), params={"origin": origin}).status_code == 404
    platform_audit = "embedfin.local/_platform/audit"
    assert api.client.get(PAGE.format(passed), params={"origin": platform_audit}).status_code == 404
