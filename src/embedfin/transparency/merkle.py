"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0, §2.1), pure.

* ``leaf_hash(d) = SHA-256(0x00 ‖ d)``, ``node_hash(l, r) = SHA-256(0x01 ‖ l ‖ r)``; the empty
  tree's hash is ``SHA-256("")``; a tree of ``n > 1`` leaves splits at ``k``, the largest power
  of two below ``n``.
* **Stored nodes.** A *complete* node ``(level, index)`` is the hash of the ``2**level`` leaves
  from ``index * 2**level``; it never changes once its last leaf is in. Every other hash the
  tree needs — a root, a right edge — is a fold of complete nodes (:func:`subtree_nodes`), so a
  store of complete nodes answers any proof without recomputing the tree: :func:`inclusion_plan`
  and :func:`consistency_plan` name the nodes a proof needs (O(log² n) at most, usually
  O(log n)), :func:`assemble` folds what the store returns.
* **Verification** follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by
  step; each failure names why (:class:`ProofInvalid`).

Golden tests: every case of transparency-dev/merkle's ``testdata`` (RFC 6962 / 9162 vectors),
the tree-root vectors of REFERENCES.md, and hypothesis over random trees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

from embedfin.core.errors import InvalidInput

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: A complete node: (level, index) — the ``2**level`` leaves from ``index * 2**level``.
Node = tuple[int, int]
#: One hash of a proof as the complete nodes to fold, left to right (a single node mostly).
Plan = list[tuple[Node, ...]]


class ProofInvalid(InvalidInput):
    """A proof that does not prove what it claims (RFC 9162 §2.1.3.2 / §2.1.4.2)."""

    code = "proof_invalid"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n`` ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) straight from the definition (for tests and small trees)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = split(len(leaf_hashes))
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


# --- which stored nodes a hash needs -------------------------------------------------------
def subtree_nodes(start: int, end: int) -> tuple[Node, ...]:
    """The complete nodes whose fold (right to left) is MTH(D[start:end]), for a range the
    RFC's recursion produces (``start`` a multiple of the largest power of two in the range):
    the binary decomposition of its size, largest first."""
    if end <= start:
        raise ValueError("an empty range has no nodes")
    nodes = []
    at, size = start, end - start
    while size:
        level = size.bit_length() - 1
        if at % (1 << level):
            raise ValueError(f"[{start}, {end}) is not a range of the tree")
        nodes.append((level, at >> level))
        at += 1 << level
        size -= 1 << level
    return tuple(nodes)


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of consecutive complete subtrees, largest first, folded right to left."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def root_plan(size: int) -> tuple[Node, ...]:
    return subtree_nodes(0, size) if size else ()


def inclusion_plan(index: int, size: int) -> Plan:
    """PATH(index, D[size]) (RFC 9162 §2.1.3.1) as nodes, the hash nearest the leaf first."""
    if not 0 <= index < size:
        raise InvalidInput(f"leaf {index} is not in a tree of {size}")
    plan: Plan = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = split(end - start)
        if m < k:
            plan.append(subtree_nodes(start + k, end))
            end = start + k
        else:
            plan.append(subtree_nodes(start, start + k))
            start, m = start + k, m - k
    plan.reverse()
    return plan


def consistency_plan(old: int, new: int) -> Plan:
    """PROOF(old, D[new]) (RFC 9162 §2.1.4.1) as nodes; empty when the sizes are equal."""
    if not 1 <= old <= new:
        raise InvalidInput(f"no consistency proof from {old} to {new}: 1 ≤ first ≤ second")
    if old == new:
        return []
    plan: Plan = []
    start, end, m, whole = 0, new, old, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            plan.append(subtree_nodes(start + k, end))
            end = start + k
        else:
            plan.append(subtree_nodes(start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        plan.append(subtree_nodes(start, end))
    plan.reverse()
    return plan


def needed(plans: Iterable[Sequence[tuple[Node, ...]]]) -> set[Node]:
    return {node for plan in plans for step in plan for node in step}


def assemble(plan: Sequence[tuple[Node, ...]], hashes: Mapping[Node, bytes]) -> list[bytes]:
    """The proof's hashes from the stored nodes ``plan`` names."""
    return [fold([hashes[node] for node in step]) for step in plan]


# --- appending: the complete nodes a new leaf finishes -------------------------------------
def completed_by(index: int) -> list[Node]:
    """The complete nodes above leaf ``index`` that it finishes (itself at level 0 first):
    ``(1, index // 2)`` when ``index`` is odd, and so on while the node is a right child."""
    nodes = [(0, index)]
    level, at = 0, index
    while at & 1:
        level, at = level + 1, at >> 1
        nodes.append((level, at))
    return nodes


def append_nodes(
    start: int, leaf_hashes: Sequence[bytes], stored: Callable[[Node], bytes]
) -> dict[Node, bytes]:
    """Every complete node that appending ``leaf_hashes`` at ``start`` finishes; a left
    sibling from before the batch is asked of ``stored`` (at most log n of them)."""
    made: dict[Node, bytes] = {}
    for offset, h in enumerate(leaf_hashes):
        index = start + offset
        made[(0, index)] = h
        for level, at in completed_by(index)[1:]:
            left = (level - 1, 2 * at)
            right = (level - 1, 2 * at + 1)
            made[(level, at)] = node_hash(made[left] if left in made else stored(left), made[right])
    return made


def frontier(size: int) -> tuple[Node, ...]:
    """The complete nodes an append at ``size`` may need as left siblings: the root plan's."""
    return root_plan(size)


# --- verification (RFC 9162 §2.1.3.2, §2.1.4.2) ---------------------------------------------
def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofInvalid(f"{name} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` makes of ``leaf`` at ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise ProofInvalid(f"leaf {index} is not in a tree of {size}")
    _check_hash("the leaf hash", leaf)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash("a proof hash", p)
        if sn == 0:
            raise ProofInvalid("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofInvalid("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Nothing when ``proof`` shows ``leaf`` at ``index`` under ``root``; else ProofInvalid."""
    _check_hash("the root", root)
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofInvalid(f"leaf {index} is not in the tree of {size} with this root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Nothing when ``proof`` shows the tree of ``old`` leaves with ``old_root`` is a prefix of
    the tree of ``new`` with ``new_root``; else ProofInvalid."""
    if not 0 <= old <= new:
        raise ProofInvalid(f"the first size {old} is larger than the second {new}")
    if old == 0:  # every tree extends the empty one: a proof of it proves nothing
        raise ProofInvalid("no consistency proof starts from the empty tree")
    if old == new:
        if proof:
            raise ProofInvalid("trees of one size need an empty proof")
        if old_root != new_root:
            raise ProofInvalid("trees of one size with different roots")
        return
    if not proof:
        raise ProofInvalid("the proof is empty")
    _check_hash("the first root", old_root)
    _check_hash("the second root", new_root)
    for p in proof:
        _check_hash("a proof hash", p)
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the path's first hash
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofInvalid("the proof is longer than it should be")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofInvalid("the proof is shorter than it should be")
    if fr != old_root:
        raise ProofInvalid(f"the proof does not lead to the tree of {old}'s root")
    if sr != new_root:
        raise ProofInvalid(f"the proof does not lead to the tree of {new}'s root")
