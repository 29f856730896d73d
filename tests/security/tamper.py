"""What a database writer can do to the audit log without the audit key (the attacker's kit).

The writer knows both hash schemes (the code is public) but not the HMAC key, so rewriting the
chain means either the unkeyed legacy SHA-256 (``key_id`` set to NULL) or HMAC under a key of
its own choosing, keeping the row's key id. Each function changes committed rows only.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Connection, delete, insert, select, update

from embedfin.db.tables import audit_log
from embedfin.security.audit_chain import GENESIS, keyed_hash, legacy_hash

Scheme = Literal["legacy", "guessed_key"]
GUESSED_KEY = b"\x00" * 32


def forged_hash(scheme: Scheme, row: dict[str, Any], prev: str) -> tuple[str, str | None]:
    """The hash and key id the writer gives a row chained after ``prev``."""
    seq, at_ns = int(row["seq"]), int(row["at"])
    fields = (str(row[name]) for name in ("tenant", "actor", "action", "target", "detail"))
    tenant, actor, action, target, detail = fields
    if scheme == "legacy":
        return legacy_hash(prev, seq, tenant, actor, action, target, detail, at_ns), None
    key_id = str(row["key_id"])
    digest = keyed_hash(
        GUESSED_KEY, key_id, prev, seq, tenant, actor, action, target, detail, at_ns
    )
    return digest, key_id


def rechain(conn: Connection, scheme: Scheme, from_seq: int = 1) -> None:
    """Recompute every hash from ``from_seq`` on, so that the chain links up again."""
    rows = [dict(r._mapping) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq))]
    prev = GENESIS
    for row in rows:
        if row["seq"] >= from_seq:
            digest, key_id = forged_hash(scheme, row, prev)
            conn.execute(
                update(audit_log)
                .where(audit_log.c.seq == row["seq"])
                .values(prev_hash=prev, hash=digest, key_id=key_id)
            )
            prev = digest
        else:
            prev = str(row["hash"])


def edit_and_rechain(conn: Connection, scheme: Scheme, seq: int, from_seq: int) -> None:
    conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(action="edited"))
    rechain(conn, scheme, from_seq)


def delete_and_renumber(conn: Connection, scheme: Scheme, seq: int) -> None:
    conn.execute(delete(audit_log).where(audit_log.c.seq == seq))
    later = conn.execute(
        select(audit_log.c.seq).where(audit_log.c.seq > seq).order_by(audit_log.c.seq)
    ).scalars()
    for old in list(later):
        conn.execute(update(audit_log).where(audit_log.c.seq == old).values(seq=old - 1))
    rechain(conn, scheme, seq)


def append_forged(conn: Connection, scheme: Scheme) -> int:
    """One more entry after the head, its hash made the way ``scheme`` makes it."""
    head = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).one()
    row = dict(head._mapping) | {"seq": head.seq + 1, "action": "forged", "detail": "{}"}
    digest, key_id = forged_hash(scheme, row, head.hash)
    conn.execute(
        insert(audit_log).values(row | {"prev_hash": head.hash, "hash": digest, "key_id": key_id})
    )
    return int(head.seq) + 1


def truncate_newest(conn: Connection, keep: int) -> None:
    conn.execute(delete(audit_log).where(audit_log.c.seq > keep))


def edit(conn: Connection, seq: int) -> None:
    conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(target="elsewhere"))


def delete_one(conn: Connection, seq: int) -> None:
    conn.execute(delete(audit_log).where(audit_log.c.seq == seq))


def swap(conn: Connection, first: int, second: int) -> None:
    """Exchange two entries' places: each row takes the other's sequence number."""
    conn.execute(update(audit_log).where(audit_log.c.seq == first).values(seq=-1))
    conn.execute(update(audit_log).where(audit_log.c.seq == second).values(seq=first))
    conn.execute(update(audit_log).where(audit_log.c.seq == -1).values(seq=second))
