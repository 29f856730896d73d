"""The streaming typologies' I/O: each batch of new movements through ``incremental.py``, its
state loaded and stored in the same unit of work as the consumer's cursor.

What is stored, per tenant, and dropped once past the window (``incremental.horizon_s``):
``aml_stream_paths`` (chains of hops that may still grow), ``aml_stream_episodes`` (open
episodes of the fans and below-the-line typologies) and ``aml_stream_state`` (when it began, the
latest movement's time, the parameters' digest, a version). The movements in the window are the
journal's (``aml_transactions``, written just before in the same unit of work): they are read
back by account (those since the stream began, through the journal's indexes) only when this
process holds no trusted copy — after a restart, or when another process took a turn.

A process keeps its tenant's state between batches and trusts it only while the stored
``version`` is the one it wrote last (every batch writes a new one): a batch rolled back, or
run by another process, leaves another version and the copy is read afresh. New parameters
(``Monitoring.set_params``) start the state again from the next movement.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import asdict, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select

from embedfin.compliance.aml.detectors import AmlParams
from embedfin.compliance.aml.incremental import (
    Episode,
    Finding,
    Path,
    Seen,
    StreamState,
    horizon_s,
    merge,
)
from embedfin.compliance.aml.journal import Movement
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.money import currency as currency_of
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import (
    aml_stream_episodes,
    aml_stream_paths,
    aml_stream_state,
    aml_transactions,
)

_J = aml_transactions.c
_P = aml_stream_paths.c
_E = aml_stream_episodes.c
_S = aml_stream_state.c
#: accounts per ``IN (…)`` when the journal is read back
_CHUNK = 500


def params_json(params: AmlParams) -> str:
    """The parameters as stored (``AmlParams.from_mapping`` reads them back)."""
    values = {f.name: getattr(params, f.name) for f in fields(params)}
    values["structuring_threshold"] = format(params.structuring_threshold, "f")
    return json.dumps(values, sort_keys=True)


def _digest(params: AmlParams) -> str:
    return hashlib.sha256(params_json(params).encode()).hexdigest()


def seen_of(m: Movement) -> Seen:
    return Seen(m.tx_id, m.occurred_at // NS_PER_SECOND, m.src, m.dst,
                _major(m.amount_minor, m.currency), m.currency)  # fmt: skip


class StreamTypologies:
    """One per process (the ``aml-monitor`` consumer's): each tenant's state, kept between
    batches while the stored version is the one this process wrote."""

    def __init__(self, max_windows: int = 2_000_000) -> None:
        self.max_windows = max_windows
        self._states: dict[str, tuple[str, StreamState]] = {}

    def observe(
        self, conn: Connection, tenant: str, movements: Sequence[Movement], params: AmlParams
    ) -> list[Finding]:
        """The new ``movements`` through the typologies: what they raised or made grow."""
        if not movements:
            return []
        seen = [seen_of(m) for m in movements]
        state = self._state(conn, tenant, params, min(s.t for s in seen))
        self._load_windows(conn, tenant, state, seen)
        findings = state.observe(seen)
        self._store(conn, tenant, state, params)
        return merge(findings)

    # --- the state ---------------------------------------------------------------------------
    def _state(self, conn: Connection, tenant: str, params: AmlParams, first_t: int) -> StreamState:
        row = conn.execute(select(aml_stream_state).where(_S.tenant == tenant)).first()
        cached = self._states.pop(tenant, None)  # untrusted until this batch is stored
        if row is None or row.params_digest != _digest(params):
            if row is not None:  # new parameters: the paths and episodes were built by others
                conn.execute(delete(aml_stream_paths).where(_P.tenant == tenant))
                conn.execute(delete(aml_stream_episodes).where(_E.tenant == tenant))
            fresh = StreamState(params, first_t)
            fresh.complete = True
            return fresh
        if cached is not None and cached[0] == row.version:
            return cached[1]
        state = StreamState(params, row.since_t, row.through_t)
        paths = conn.execute(select(_P.body).where(_P.tenant == tenant)).scalars()
        episodes = conn.execute(
            select(_E.typology, _E.subject, _E.currency, _E.body).where(_E.tenant == tenant)
        )
        state.restore(
            (_path(json.loads(body)) for body in paths),
            (_episode(r.typology, r.subject, r.currency, json.loads(r.body)) for r in episodes),
        )
        return state

    def _load_windows(
        self, conn: Connection, tenant: str, state: StreamState, seen: Sequence[Seen]
    ) -> None:
        """The journal's movements of accounts this copy does not hold, within the horizon and
        since the stream began (what it would hold had it seen them)."""
        if state.complete:
            return
        wanted = sorted({a for s in seen for a in (s.src, s.dst)} - state.loaded)
        if not wanted:
            return
        batch = {s.tx_id for s in seen}
        since_ns = max(min(s.t for s in seen) - horizon_s(state.p), state.since_t) * NS_PER_SECOND
        rows: dict[str, Seen] = {}
        columns = (_J.tx_id, _J.occurred_at, _J.src, _J.dst, _J.amount_minor, _J.currency)
        for side in (_J.src, _J.dst):
            query = select(*columns).where(
                _J.tenant == tenant,
                side.in_(bindparam("accounts", expanding=True)),
                _J.occurred_at >= since_ns,
            )
            for chunk in _chunks(wanted):
                for r in conn.execute(query, {"accounts": chunk}):
                    if r.tx_id not in batch:
                        rows[r.tx_id] = Seen(r.tx_id, r.occurred_at // NS_PER_SECOND, r.src,
                                             r.dst, _major(r.amount_minor, r.currency),
                                             r.currency)  # fmt: skip
        state.load(wanted, rows.values())

    def _store(self, conn: Connection, tenant: str, state: StreamState, params: AmlParams) -> None:
        state.evict()
        now = state.now_t
        conn.execute(
            delete(aml_stream_paths).where(_P.tenant == tenant, _P.expires_t < now)
        )  # fmt: skip
        conn.execute(
            delete(aml_stream_episodes).where(_E.tenant == tenant, _E.expires_t < now)
        )  # fmt: skip
        added = [
            {"tenant": tenant, "path_id": _path_id(p), "expires_t": p.end_t + params.hop_s,
             "body": json.dumps(_path_body(p))}
            for p in state.added_paths if state.path_alive(p)
        ]  # fmt: skip
        if added:
            conn.execute(aml_stream_paths.insert(), added)
        changed = [e for e in state.changed.values() if state.episode_alive(e)]
        if changed:
            conn.execute(
                delete(aml_stream_episodes).where(
                    _E.tenant == tenant,
                    _E.typology == bindparam("k_typology"),
                    _E.subject == bindparam("k_subject"),
                    _E.currency == bindparam("k_currency"),
                ),
                [{"k_typology": e.typology, "k_subject": e.subject, "k_currency": e.currency}
                 for e in changed],
            )  # fmt: skip
            conn.execute(
                aml_stream_episodes.insert(),
                [{"tenant": tenant, "typology": e.typology, "subject": e.subject,
                  "currency": e.currency, "expires_t": e.last_anchor + _window(e, params),
                  "body": json.dumps(_episode_body(e))} for e in changed],
            )  # fmt: skip
        version = secrets.token_hex(16)
        values = {"version": version, "params_digest": _digest(params),
                  "since_t": state.since_t, "through_t": now}  # fmt: skip
        if not insert_if_absent(conn, aml_stream_state, {"tenant": tenant, **values}):
            conn.execute(aml_stream_state.update().where(_S.tenant == tenant).values(**values))
        if len(state.windows) <= self.max_windows:
            self._states[tenant] = (version, state)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for first in range(0, len(items), _CHUNK):
        yield items[first : first + _CHUNK]


_EXPONENTS: dict[str, int] = {}


def _major(amount_minor: int, code: str) -> Decimal:
    exponent = _EXPONENTS.get(code)
    if exponent is None:
        exponent = _EXPONENTS[code] = currency_of(code).exponent
    return Decimal(amount_minor).scaleb(-exponent)


def _window(episode: Episode, params: AmlParams) -> int:
    if episode.typology in ("fan_in", "fan_out"):
        return int(params.fan_window_s)
    return int(params.structuring_window_s)


def _path_id(path: Path) -> str:
    return hashlib.sha1("\x1f".join(path.rows).encode(), usedforsecurity=False).hexdigest()


def _path_body(path: Path) -> dict[str, Any]:
    body = asdict(path)
    body["amounts"] = [format(a, "f") for a in path.amounts]
    return body


def _path(body: dict[str, Any]) -> Path:
    return Path(
        rows=tuple(body["rows"]),
        amounts=tuple(Decimal(a) for a in body["amounts"]),
        accounts=tuple(body["accounts"]),
        start_t=int(body["start_t"]),
        end_t=int(body["end_t"]),
        currency=body["currency"],
        closed=bool(body["closed"]),
    )


def _episode_body(e: Episode) -> dict[str, Any]:
    return {
        "start_t": e.start_t,
        "last_anchor": e.last_anchor,
        "top": e.top,
        "expected": e.expected,
        "reported": e.reported,
        "rows": [[tx, t, other, format(a, "f")] for tx, (t, other, a) in e.rows.items()],
    }


def _episode(typology: str, subject: str, currency: str, body: dict[str, Any]) -> Episode:
    return Episode(
        typology, subject, currency, int(body["start_t"]), int(body["last_anchor"]),
        {tx: (int(t), other, Decimal(a)) for tx, t, other, a in body["rows"]},
        int(body["top"]), float(body["expected"]), bool(body["reported"]),
    )  # fmt: skip
