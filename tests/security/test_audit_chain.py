"""The chain's rules (pure): any single-field change of any entry breaks the chain at it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from embedfin.security.audit_chain import (
    GENESIS,
    Break,
    ChainEntry,
    ChainState,
    keyed_hash,
    legacy_hash,
    step,
)

KEYS = {"a1": b"\x01" * 32, "a2": b"\x02" * 32}
FIELDS = [f.name for f in dataclasses.fields(ChainEntry)]


def build(contents: Sequence[tuple[str, str, int]], legacy: int) -> list[ChainEntry]:
    """A valid chain: the first ``legacy`` entries unkeyed, then keyed (rotating a1 → a2)."""
    chain: list[ChainEntry] = []
    prev = GENESIS
    for i, (actor, detail, at_ns) in enumerate(contents):
        seq = i + 1
        fields = ("t", actor, "act", f"o-{seq}", detail, at_ns)
        if i < legacy:
            key_id, digest = None, legacy_hash(prev, seq, *fields)
        else:
            key_id = "a1" if i < (legacy + len(contents)) // 2 else "a2"
            digest = keyed_hash(KEYS[key_id], key_id, prev, seq, *fields)
        chain.append(ChainEntry(seq, *fields, prev, digest, key_id))
        prev = digest
    return chain


def first_break(chain: Sequence[ChainEntry], keys: Mapping[str, bytes] = KEYS) -> Break | None:
    state = ChainState()
    for entry in chain:
        result = step(state, entry, keys)
        if isinstance(result, Break):
            return result
        state = result
    return None


contents = st.lists(
    st.tuples(st.text(max_size=8), st.text(max_size=20), st.integers(0, 2**62)),
    min_size=1,
    max_size=8,
)


@given(contents, st.integers(0, 8))
def test_an_untouched_chain_verifies(items: list[tuple[str, str, int]], legacy: int) -> None:
    assert first_break(build(items, legacy)) is None


def changed(name: str, value: object, data: st.DataObject) -> Any:
    """Another value for the field: a number moved, text altered, a key id swapped or dropped."""
    if name == "key_id":
        return data.draw(st.sampled_from([k for k in (None, "a1", "a2", "zz") if k != value]))
    if isinstance(value, int):
        return value + data.draw(st.sampled_from([-1, 1]))
    return data.draw(st.text(max_size=20).filter(lambda text: text != value))


@given(contents, st.integers(0, 8), st.data())
def test_any_single_field_change_of_any_entry_breaks_the_chain_at_it(
    items: list[tuple[str, str, int]], legacy: int, data: st.DataObject
) -> None:
    chain = build(items, legacy)
    index = data.draw(st.integers(0, len(chain) - 1))
    name = data.draw(st.sampled_from(FIELDS))
    entry = chain[index]
    tampered = dataclasses.replace(entry, **{name: changed(name, getattr(entry, name), data)})
    found = first_break([*chain[:index], tampered, *chain[index + 1 :]])
    assert found is not None
    assert found.seq == entry.seq


def test_a_legacy_entry_after_a_keyed_one_is_refused() -> None:
    chain = build([("a", "{}", 1), ("b", "{}", 2)], legacy=1)
    forged_fields = ("t", "c", "act", "o-3", "{}", 3)
    forged = ChainEntry(3, *forged_fields, chain[-1].hash, "", None)
    forged = dataclasses.replace(forged, hash=legacy_hash(chain[-1].hash, 3, *forged_fields))
    found = first_break([*chain, forged])
    assert found == Break(3, "unkeyed (legacy) entry after keyed entries")


def test_an_entry_under_a_key_the_verifier_lacks_is_unverifiable() -> None:
    chain = build([("a", "{}", 1), ("b", "{}", 2)], legacy=0)
    found = first_break(chain, {"a2": KEYS["a2"]})
    assert found is not None
    assert (found.seq, "not in the audit key ring" in found.reason) == (1, True)
