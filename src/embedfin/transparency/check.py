"""The transparency log's invariants, run by ``embedfin check``:

* ``log_trees_whole`` — every log holds as many entries and leaf hashes as its size, and every
  complete node its size implies (``size >> level`` at each level), no more: a lost or extra
  node would make proofs fail or lie;
* ``log_checkpoints_match_trees`` — every signed checkpoint's root is the root of the stored
  tree at that size, recomputed from the entries' own bodies for the newest one (the stored
  nodes could agree with each other and still not be the entries').
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select, tuple_

from embedfin.db.tables import tlog_checkpoints, tlog_entries, tlog_logs, tlog_nodes
from embedfin.ledger.check import CheckReport
from embedfin.transparency import checkpoints, merkle

_L, _E, _N, _C = tlog_logs.c, tlog_entries.c, tlog_nodes.c, tlog_checkpoints.c
#: The newest checkpoint of each log is recomputed from its bodies up to this many entries.
RECOMPUTE_LIMIT = 1_000_000


def log_trees_whole(conn: Connection, report: CheckReport) -> None:
    counts = {
        (int(r.log_key), int(r.level)): int(r.n)
        for r in conn.execute(
            select(_N.log_key, _N.level, func.count().label("n")).group_by(_N.log_key, _N.level)
        )
    }
    entries: dict[int, int] = {
        int(key): int(n)
        for key, n in conn.execute(select(_E.log_key, func.count()).group_by(_E.log_key))
    }
    for log in conn.execute(select(_L.log_key, _L.tenant, _L.log_id, _L.size)):
        key, size, name = int(log.log_key), int(log.size), f"{log.tenant}/{log.log_id}"
        if int(entries.get(key, 0)) != size:
            report.fail(
                "log_trees_whole", f"log {name}: {entries.get(key, 0)} entries, size {size}"
            )
        level = 0
        while size >> level or counts.get((key, level)):
            want, have = size >> level, counts.get((key, level), 0)
            if have != want:
                report.fail(
                    "log_trees_whole", f"log {name}: {have} nodes at level {level}, not {want}"
                )
            level += 1


def log_checkpoints_match_trees(conn: Connection, report: CheckReport) -> None:
    logs = {
        int(r.log_key): (f"{r.tenant}/{r.log_id}", int(r.size))
        for r in conn.execute(select(_L.log_key, _L.tenant, _L.log_id, _L.size))
    }
    newest: dict[int, int] = {}
    for row in conn.execute(select(_C.log_key, _C.size, _C.root, _C.note)):
        key, size, name = int(row.log_key), int(row.size), logs[int(row.log_key)][0]
        text, _ = checkpoints.split_note(str(row.note))
        if checkpoints.parse_text(text).root != bytes(row.root):
            report.fail(
                "log_checkpoints_match_trees", f"log {name}: note {size} names another root"
            )
        plan = merkle.root_plan(size)
        found = {
            (int(n.level), int(n.idx)): bytes(n.hash)
            for n in conn.execute(
                select(_N.level, _N.idx, _N.hash).where(
                    _N.log_key == key, tuple_(_N.level, _N.idx).in_(plan)
                )
            )
        } if plan else {}  # fmt: skip
        root = merkle.fold([found[n] for n in plan]) if len(found) == len(plan) > 0 else None
        if plan and root != bytes(row.root):
            report.fail(
                "log_checkpoints_match_trees",
                f"log {name}: checkpoint {size}'s root is not the tree's",
            )
        newest[key] = max(newest.get(key, 0), size)
    for key, size in newest.items():
        if 0 < size <= RECOMPUTE_LIMIT:
            bodies = conn.execute(
                select(_E.body).where(_E.log_key == key, _E.idx < size).order_by(_E.idx)
            ).scalars()
            root = merkle.root_of([merkle.leaf_hash(b.encode()) for b in bodies])
            stored = conn.execute(
                select(_C.root).where(_C.log_key == key, _C.size == size)
            ).scalar_one()
            if root != bytes(stored):
                report.fail(
                    "log_checkpoints_match_trees",
                    f"log {logs[key][0]}: the entries' bodies do not make checkpoint {size}'s root",
                )
