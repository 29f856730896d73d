"""The verifiable logs through the API: append, checkpoint, prove, verify with nothing but the
answers and the verifier key; bad requests, roles and another tenant's logs."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from embedfin.api import auth
from embedfin.transparency import checkpoints, merkle
from tests.api.conftest import Api


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_a_member_verifies_inclusion_and_consistency_from_the_answers_alone(api: Api) -> None:
    first = api.ok(api.post(api.a, "/v1/logs/anchors/entries", {"entries": ["a", "b", "c"]}), 201)
    assert (first["first"], first["last"], first["size"]) == (0, 2, 3)
    log = api.ok(api.get(api.a, "/v1/logs/anchors"))
    verifier = checkpoints.Verifier.parse(log["verifier"])
    old = api.ok(api.get(api.a, "/v1/logs/anchors/checkpoint"))
    api.ok(api.post(api.a, "/v1/logs/anchors/entries", {"entries": ["d", "e"]}), 201)
    new = api.ok(api.get(api.a, "/v1/logs/anchors/checkpoint"))
    old_head = checkpoints.open_note(old["note"], [verifier], log["origin"])
    new_head = checkpoints.open_note(new["note"], [verifier], log["origin"])
    assert (old_head.size, new_head.size) == (3, 5)
    proof = api.ok(api.get(api.a, "/v1/logs/anchors/proofs/inclusion", index=1, size=5))
    assert _b64(proof["leaf_hash"]) == merkle.leaf_hash(b"b")
    merkle.verify_inclusion(1, 5, _b64(proof["leaf_hash"]), [_b64(p) for p in proof["proof"]],
                            new_head.root)  # fmt: skip
    same = api.ok(api.get(api.a, "/v1/logs/anchors/proofs/consistency", first=3))
    assert same["second"] == 5
    merkle.verify_consistency(3, 5, old_head.root, new_head.root, [_b64(p) for p in same["proof"]])
    assert api.ok(api.get(api.a, "/v1/logs/anchors/entries/4"))["body"] == "e"
    assert api.ok(api.get(api.a, "/v1/logs/anchors/checkpoints/3"))["note"] == old["note"]


def test_bad_requests_answer_typed_errors_and_write_nothing(api: Api) -> None:
    api.ok(api.post(api.a, "/v1/logs/anchors/entries", {"entries": ["a"]}), 201)
    for path, params, code in (
        ("/v1/logs/anchors/proofs/inclusion", {"index": 0, "size": 2}, "size_beyond_tree"),
        ("/v1/logs/anchors/proofs/inclusion", {"index": 1}, "invalid_input"),
        ("/v1/logs/anchors/proofs/consistency", {"first": 1, "second": 9}, "size_beyond_tree"),
        ("/v1/logs/nothing/checkpoint", {}, "not_found"),
        ("/v1/logs/anchors/checkpoints/7", {}, "not_found"),
        ("/v1/logs/anchors/entries/1", {}, "not_found"),
        ("/v1/logs/BAD!/checkpoint", {}, "invalid_input"),
    ):
        answer = api.get(api.a, path, **params)
        assert answer.status_code in (404, 422), (path, answer.text)
        assert answer.json()["code"] == code, (path, answer.text)
    bodies: list[dict[str, object]] = [{"entries": []}, {"entries": [""]}, {"entries": ["ok", 3]},
                                       {"entries": ["line\nbreak"]}, {"other": 1}]  # fmt: skip
    for body in bodies:
        answer = api.post(api.a, "/v1/logs/anchors/entries", body)
        assert answer.status_code == 422, answer.text
    assert api.ok(api.get(api.a, "/v1/logs/anchors"))["size"] == 1
    huge = api.get(api.a, "/v1/logs/anchors/entries/99999999999999999999")
    assert huge.status_code == 422


def test_a_retried_append_appends_once(api: Api) -> None:
    body = {"entries": ["once"]}
    one = api.ok(api.post(api.a, "/v1/logs/anchors/entries", body, key="append-1"), 201)
    two = api.ok(api.post(api.a, "/v1/logs/anchors/entries", body, key="append-1"), 201)
    assert one == two
    assert api.ok(api.get(api.a, "/v1/logs/anchors"))["size"] == 1


def test_roles_and_another_tenant(api: Api) -> None:
    api.ok(api.post(api.a, "/v1/logs/anchors/entries", {"entries": ["private"]}), 201)
    assert api.get(api.b, "/v1/logs/anchors").status_code == 404
    assert api.get(api.b, "/v1/logs/anchors/entries/0").status_code == 404
    assert api.ok(api.get(api.b, "/v1/logs"))["data"] == []
    merchant = api.key(api.a, auth.Role.MERCHANT, api.merchant(api.a))
    assert api.get(merchant, "/v1/logs/anchors/checkpoint").status_code == 200  # hashes only
    assert api.get(merchant, "/v1/logs/anchors/entries/0").status_code == 403  # bodies: audit
    assert api.post(merchant, "/v1/logs/anchors/entries", {"entries": ["x"]}).status_code == 403
    regulator = api.key(api.a, auth.Role.REGULATOR)
    assert api.ok(api.get(regulator, "/v1/logs/anchors/entries/0"))["body"] == "private"


def test_a_witness_cosignature_is_kept_and_served_with_the_checkpoint(api: Api) -> None:
    api.ok(api.post(api.a, "/v1/logs/anchors/entries", {"entries": ["a", "b"]}), 201)
    head = api.ok(api.get(api.a, "/v1/logs/anchors/checkpoint"))
    key = Ed25519PrivateKey.generate()
    witness = checkpoints.verifier_of("witness.example", key)
    note = checkpoints.add_signature(head["note"], "witness.example", key)
    body = {"note": note, "witness": str(witness)}
    kept = api.ok(api.post(api.a, "/v1/logs/anchors/cosignatures", body))
    assert kept["witnesses"] == ["witness.example"]
    assert api.ok(api.get(api.a, "/v1/logs/anchors/checkpoint"))["note"] == note
    other = checkpoints.add_signature(head["note"], "witness.example", Ed25519PrivateKey.generate())
    bad = api.post(api.a, "/v1/logs/anchors/cosignatures", {"note": other, "witness": str(witness)})
    assert (bad.status_code, bad.json()["code"]) == (422, "checkpoint_invalid")
