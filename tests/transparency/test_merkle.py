"""RFC 9162 hashing and proofs against published vectors and random trees."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedfin.core.errors import InvalidInput
from embedfin.transparency import merkle
from embedfin.transparency.merkle import ProofInvalid

#: transparency-dev/merkle's testdata (Apache-2.0, its licence and SOURCE.md beside the files).
VECTORS = Path(__file__).resolve().parent / "vectors" / "merkle"

#: REFERENCES.md §Merkle log: the test leaves of transparency-dev/merkle and the roots by size.
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
          "5051525354555657", "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _cases(kind: str) -> list[Any]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert files, f"no {kind} vectors under {VECTORS}"
    return [pytest.param(json.loads(f.read_text()), id=f"{f.parent.name}/{f.stem}") for f in files]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(case: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in case.get("proof") or []]


class _Tree:
    """A store of complete nodes built by appends, as the service keeps one."""

    def __init__(self) -> None:
        self.nodes: dict[merkle.Node, bytes] = {}
        self.size = 0

    def append(self, leaves: list[bytes]) -> None:
        hashes = [merkle.leaf_hash(d) for d in leaves]
        self.nodes.update(merkle.append_nodes(self.size, hashes, self.nodes.__getitem__))
        self.size += len(leaves)

    def root(self, size: int | None = None) -> bytes:
        plan = merkle.root_plan(self.size if size is None else size)
        return merkle.fold([self.nodes[n] for n in plan]) if plan else merkle.EMPTY_ROOT

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.assemble(merkle.inclusion_plan(index, size), self.nodes)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return merkle.assemble(merkle.consistency_plan(old, new), self.nodes)


def test_the_roots_of_the_published_tree_by_size() -> None:
    assert (
        merkle.root_of([]).hex()
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    tree = _Tree()
    for size, (leaf, root) in enumerate(zip(LEAVES, ROOTS, strict=True), start=1):
        tree.append([leaf])
        assert merkle.root_of([merkle.leaf_hash(d) for d in LEAVES[:size]]).hex() == root
        assert tree.root().hex() == root


@pytest.mark.parametrize("case", _cases("inclusion"))
def test_every_published_inclusion_case(case: dict[str, Any]) -> None:
    """transparency-dev/merkle testdata (RFC 6962 / 9162): happy paths verify, mutations fail."""
    args = (int(case["leafIdx"]), int(case["treeSize"]), _b64(case["leafHash"]), _proof(case),
            _b64(case["root"]))  # fmt: skip
    if case["wantErr"]:
        with pytest.raises(ProofInvalid):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("case", _cases("consistency"))
def test_every_published_consistency_case(case: dict[str, Any]) -> None:
    args = (int(case["size1"]), int(case["size2"]), _b64(case["root1"]), _b64(case["root2"]),
            _proof(case))  # fmt: skip
    if case["wantErr"]:
        with pytest.raises(ProofInvalid):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def test_our_proofs_of_the_published_tree_are_the_published_proofs() -> None:
    """Every happy-path vector over the eight test leaves is the proof our store serves."""
    tree = _Tree()
    tree.append(LEAVES)
    checked = 0
    for param in _cases("inclusion"):
        case = param.values[0]
        if (
            case["wantErr"]
            or int(case["treeSize"]) > 8
            or _b64(case["root"]) != tree.root(int(case["treeSize"]))
        ):
            continue
        assert tree.inclusion(int(case["leafIdx"]), int(case["treeSize"])) == _proof(case)
        checked += 1
    for param in _cases("consistency"):
        case = param.values[0]
        size1, size2 = int(case["size1"]), int(case["size2"])
        if case["wantErr"] or size2 > 8 or _b64(case["root2"]) != tree.root(size2):
            continue
        assert tree.consistency(size1, size2) == _proof(case)
        checked += 1
    assert checked >= 4


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=6),
    data=st.data(),
)
def test_random_appends_every_proof_verifies_and_any_bit_flip_fails(
    sizes: list[int], data: st.DataObject
) -> None:
    tree = _Tree()
    leaves: list[bytes] = []
    for batch in sizes:
        new = [data.draw(st.binary(max_size=12)) for _ in range(batch)]
        tree.append(new)
        leaves += new
    n = tree.size
    assert tree.root() == merkle.root_of([merkle.leaf_hash(d) for d in leaves])
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof, root, leaf = (
        tree.inclusion(index, size),
        tree.root(size),
        merkle.leaf_hash(leaves[index]),
    )
    merkle.verify_inclusion(index, size, leaf, proof, root)
    old = data.draw(st.integers(1, size), label="old")
    cproof = tree.consistency(old, size)
    merkle.verify_consistency(old, size, tree.root(old), root, cproof)
    if proof:
        flipped = _flip(proof, data)
        with pytest.raises(ProofInvalid):
            merkle.verify_inclusion(index, size, leaf, flipped, root)
    with pytest.raises(ProofInvalid):
        merkle.verify_inclusion(index, size, leaf, proof, _flip([root], data)[0])
    if cproof:
        with pytest.raises(ProofInvalid):
            merkle.verify_consistency(old, size, tree.root(old), root, _flip(cproof, data))


def _flip(hashes: list[bytes], data: st.DataObject) -> list[bytes]:
    at = data.draw(st.integers(0, len(hashes) - 1))
    bit = data.draw(st.integers(0, 8 * merkle.HASH_SIZE - 1))
    changed = bytearray(hashes[at])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*hashes[:at], bytes(changed), *hashes[at + 1 :]]


def test_a_proof_for_a_size_beyond_the_tree_or_a_leaf_outside_it_is_refused() -> None:
    with pytest.raises(InvalidInput):
        merkle.inclusion_plan(8, 8)
    with pytest.raises(InvalidInput):
        merkle.consistency_plan(9, 8)
    with pytest.raises(InvalidInput):
        merkle.consistency_plan(0, 8)
    with pytest.raises(ProofInvalid, match="not in a tree"):
        merkle.verify_inclusion(3, 3, bytes(32), [], bytes(32))
    with pytest.raises(ProofInvalid, match="bytes, not 32"):
        merkle.verify_inclusion(0, 2, bytes(31), [bytes(32)], bytes(32))
