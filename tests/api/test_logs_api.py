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
        ("/v1/logs/anchors/proofs/inclusion", {"index": 1}, "size_beyond_tree"),
        ("/v1/logs/anchors/proofs/consistency", {"first": 2}, "size_beyond_tree"),
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


def test_numbers_in_paths_and_queries_are_decimal_digits_only(api: Api) -> None:
    api.ok(api.post(api.a, "/v1/logs/anchors/entries", {"entries": ["a", "b", "c"]}), 201)
    for loose in ("2.0", "+1", "01", " 1", "1_0", "1e0", "-0", "0x1"):
        for path, params in (
            ("/v1/logs/anchors/proofs/inclusion", {"index": loose}),
            ("/v1/logs/anchors/proofs/inclusion", {"index": "0", "size": loose}),
            ("/v1/logs/anchors/proofs/consistency", {"first": loose}),
            (f"/v1/logs/anchors/entries/{loose}", {}),
            (f"/v1/logs/anchors/checkpoints/{loose}", {}),
            ("/v1/audit_log", {"limit": loose}),
        ):
            answer = api.get(api.a, path, **params)
            assert answer.status_code == 422, (path, params, answer.text)
    assert api.ok(api.get(api.a, "/v1/logs/anchors/proofs/inclusion", index="2"))["index"] == 2


def _witness(name: str = "witness.example") -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    return key, str(checkpoints.verifier_of(name, key))


def test_only_an_operator_registers_a_witness_and_the_registration_is_audited(
    api: Api,
) -> None:
    api.ok(api.post(api.a, "/v1/logs/anchors/entries", {"entries": ["a"]}), 201)
    _, vkey = _witness()
    for role in (auth.Role.MERCHANT, auth.Role.RISK, auth.Role.REGULATOR):
        key = api.key(api.a, role, api.merchant(api.a) if role is auth.Role.MERCHANT else None)
        denied = api.post(key, "/v1/logs/anchors/witnesses", {"vkey": vkey})
        assert (denied.status_code, denied.json()["code"]) == (403, "forbidden"), role
    added = api.ok(api.post(api.a, "/v1/logs/anchors/witnesses", {"vkey": vkey}), 201)
    assert (added["name"], added["vkey"]) == ("witness.example", vkey)
    assert api.ok(api.post(api.a, "/v1/logs/anchors/witnesses", {"vkey": vkey})) == added
    _, other = _witness()
    taken = api.post(api.a, "/v1/logs/anchors/witnesses", {"vkey": other})
    assert (taken.status_code, taken.json()["code"]) == (409, "witness_name_taken")
    for bad in ("witness.example", "w+00000000+AAAA", vkey.replace("+", " ", 1)):
        answer = api.post(api.a, "/v1/logs/anchors/witnesses", {"vkey": bad})
        assert answer.status_code == 422, bad
    missing = api.post(api.a, "/v1/logs/nothing/witnesses", {"vkey": vkey})
    assert missing.status_code == 404
    assert [w["vkey"] for w in api.ok(api.get(api.a, "/v1/logs/anchors/witnesses"))["data"]] == [
        vkey
    ]
    api.ok(api.post(api.a, "/v1/logs/anchors/witnesses/remove", {"name": "witness.example"}))
    assert api.ok(api.get(api.a, "/v1/logs/anchors/witnesses"))["data"] == []
    audit = api.ok(api.get(api.a, "/v1/audit_log", limit=100))["data"]
    actions = [(e["action"], e["target"]) for e in audit if e["action"].startswith("log.wit")]
    assert actions == [("log.witness_remove", "anchors"), ("log.witness_add", "anchors")]


def test_only_a_registered_witness_cosigns_and_a_second_line_for_its_slot_is_a_conflict(
    api: Api,
) -> None:
    api.ok(api.post(api.a, "/v1/logs/anchors/entries", {"entries": ["a", "b"]}), 201)
    head = api.ok(api.get(api.a, "/v1/logs/anchors/checkpoint"))
    key, vkey = _witness()
    note = checkpoints.add_signature(head["note"], "witness.example", key)
    unknown = api.post(api.a, "/v1/logs/anchors/cosignatures", {"note": note})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "witness_not_registered")
    api.ok(api.post(api.a, "/v1/logs/anchors/witnesses", {"vkey": vkey}), 201)
    kept = api.ok(api.post(api.a, "/v1/logs/anchors/cosignatures", {"note": note}))
    assert kept["witnesses"] == ["witness.example"]
    assert api.ok(api.get(api.a, "/v1/logs/anchors/checkpoint"))["note"] == note
    again = api.ok(api.post(api.a, "/v1/logs/anchors/cosignatures", {"note": note}))
    assert again == kept  # the same line: idempotent, whatever the Idempotency-Key
    other = checkpoints.add_signature(head["note"], "witness.example", Ed25519PrivateKey.generate())
    bad = api.post(api.a, "/v1/logs/anchors/cosignatures", {"note": other})
    assert (bad.status_code, bad.json()["code"]) == (422, "witness_not_registered")
    # the witness re-keyed: its new line for a checkpoint it cosigned is refused, not dropped
    api.ok(api.post(api.a, "/v1/logs/anchors/witnesses/remove", {"name": "witness.example"}))
    new_key, new_vkey = _witness()
    api.ok(api.post(api.a, "/v1/logs/anchors/witnesses", {"vkey": new_vkey}), 201)
    second = checkpoints.add_signature(head["note"], "witness.example", new_key)
    conflict = api.post(api.a, "/v1/logs/anchors/cosignatures", {"note": second})
    assert (conflict.status_code, conflict.json()["code"]) == (409, "cosignature_conflict")
    assert api.ok(api.get(api.a, "/v1/logs/anchors/checkpoint"))["note"] == note
    audit = api.ok(api.get(api.a, "/v1/audit_log", limit=100))["data"]
    assert [e["detail"] for e in audit if e["action"] == "log.cosign"] == [
        {"size": 2, "witnesses": ["witness.example"]}
    ]
