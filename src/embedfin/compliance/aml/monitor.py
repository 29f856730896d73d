"""Transaction monitoring in the platform: the journal, the stream, the batch, the alerts.

* **Streaming** (:meth:`Monitoring.record`, called by the outbox consumer ``aml-monitor``):
  every movement of money (``journal.py``) goes into the journal ``aml_transactions`` and adds
  to the tenant's rule pack's same-day totals (``sameday.py``) in the same unit of work; a
  total at a line makes a large-value report (or CTR) due (``reports.py``) with every movement
  of that account, side and day the rule selects, read back from the journal. Incremental and
  idempotent: a movement is keyed by its event and adds to the totals only when it is new.
  With the consumer's :class:`stream.StreamTypologies`, the new movements also go through the
  streaming typologies (``incremental.py``: fans, structuring, smurfing, cycles, pass-through)
  in the same unit of work.
* **Batch** (:meth:`Monitoring.scan`, ``embedfin aml monitor`` and ``POST /v1/aml/monitor``):
  the journal's last days are exported to Parquet and every typology detector runs over it
  (``scan.py``, DuckDB).
* **Alerts**, from either (:meth:`Monitoring.keep`): one that shares a transaction with a stored
  alert of its typology adds its transactions, accounts and window to it (the stream's episode
  as it grows, the batch finding what the stream found); any other is stored and opens an
  ``aml_alert`` case in the shared queue, with the accounts, transactions, window and reasons as
  evidence. Both read the tenant's parameters (:meth:`Monitoring.params`).
* **Decisions**: an ``aml_alert`` case decided ``release`` is a false positive; ``reject``
  confirms it suspicious and makes a suspicious-transaction report (or SAR) due from that day.

The tenant's rule pack is the PRC pack until one is set (:meth:`Monitoring.set_pack`); foreign
currencies convert at the ECB reference rate of the business day (``payments/rates.py``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from embedfin.compliance.aml import rulepacks, sameday
from embedfin.compliance.aml.alerts import Alert
from embedfin.compliance.aml.detectors import AmlParams
from embedfin.compliance.aml.incremental import Finding
from embedfin.compliance.aml.journal import Movement
from embedfin.compliance.aml.reports import Report, Reports
from embedfin.compliance.aml.rulepacks import RulePack
from embedfin.compliance.aml.sameday import RateSource
from embedfin.compliance.aml.stream import StreamTypologies, params_json
from embedfin.core.clock import Clock
from embedfin.core.errors import InvalidInput, NotFound, UnknownCurrency
from embedfin.core.money import currency as currency_of
from embedfin.db.statements import (
    add_many,
    insert_if_absent,
    insert_many_ignoring_present,
    insert_new,
)
from embedfin.db.tables import (
    aml_alert_transactions,
    aml_alerts,
    aml_settings,
    aml_threshold_totals,
    aml_transactions,
    aml_typology_params,
)
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.progress import Progress, no_progress
from embedfin.risk.cases import Cases
from embedfin.security.crypto import mask

DAY_NS = 86_400 * 1_000_000_000
DEFAULT_PACK = "prc"
_A = aml_alerts.c
_J = aml_transactions.c
_G = aml_threshold_totals.c
_S = aml_settings.c
_L = aml_alert_transactions.c
_T = aml_typology_params.c
#: transactions per ``IN (…)`` when an alert's are looked up
_CHUNK = 500


def ecb_rates(base: str, quote: str, day: date) -> Decimal:
    """Units of ``quote`` per ``base`` at the ECB reference rate of ``day`` (or the last before)."""
    from embedfin.payments.rates import ReferenceRates

    return ReferenceRates.bundled().rate(base, quote, day)[0]


@lru_cache(maxsize=64)
def _parsed_pack(stored: str | None) -> RulePack:
    """A stored pack parsed once per text (every batch of the stream reads it)."""
    if stored is None:
        return rulepacks.load(DEFAULT_PACK)
    return rulepacks.parse(json.loads(stored), "the stored pack")


@lru_cache(maxsize=64)
def _parsed_params(stored: str | None) -> AmlParams:
    return AmlParams() if stored is None else AmlParams.from_mapping(json.loads(stored))


@dataclass(frozen=True, slots=True)
class StoredAlert:
    alert_id: str
    typology: str
    accounts: tuple[str, ...]
    transactions: tuple[str, ...]
    window_start: int
    window_end: int
    amount: Decimal
    currency: str
    score: float
    reasons: tuple[str, ...]
    case_id: str
    created_at: int


@dataclass(frozen=True, slots=True)
class MonitorRun:
    """A batch run: what it read and what it found."""

    transactions: int
    alerts: int
    new_alerts: int
    by_typology: dict[str, int]
    seconds: dict[str, float]


def _alert(row: Any) -> StoredAlert:
    return StoredAlert(
        alert_id=row.alert_id,
        typology=row.typology,
        accounts=tuple(json.loads(row.accounts)),
        transactions=tuple(json.loads(row.transactions)),
        window_start=row.window_start,
        window_end=row.window_end,
        amount=Decimal(row.amount),
        currency=row.currency,
        score=row.score,
        reasons=tuple(json.loads(row.reasons)),
        case_id=row.case_id,
        created_at=row.created_at,
    )


def _journal_row(tenant: str, m: Movement) -> dict[str, object]:
    return {
        "tenant": tenant,
        "tx_id": m.tx_id,
        "occurred_at": m.occurred_at,
        "kind": m.kind,
        "src": m.src,
        "dst": m.dst,
        "src_kind": m.src_kind,
        "dst_kind": m.dst_kind,
        "amount_minor": m.amount_minor,
        "currency": m.currency,
        "channel": m.channel,
        "cross_border": int(m.cross_border),
        "reference": m.reference,
    }


def _movement(row: Any) -> Movement:
    return Movement(
        tx_id=row.tx_id,
        occurred_at=row.occurred_at,
        kind=row.kind,
        src=row.src,
        dst=row.dst,
        src_kind=row.src_kind,
        dst_kind=row.dst_kind,
        amount_minor=row.amount_minor,
        currency=row.currency,
        reference=row.reference,
        channel=row.channel,
        cross_border=bool(row.cross_border),
    )


class Monitoring:
    """One tenant's transaction monitoring."""

    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        cases: Cases,
        reports: Reports,
        rates: RateSource = ecb_rates,
        clock: Clock | None = None,
        typologies: StreamTypologies | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.cases = cases
        self.reports = reports
        self.rates = rates
        self.clock = clock or ledger.clock
        self.typologies = typologies

    # --- the rule pack -----------------------------------------------------------------------
    def pack(self, conn: Connection | None = None) -> RulePack:
        """The tenant's threshold rule pack (the PRC pack until one is set)."""
        if conn is None:
            with self.ledger.reader() as reader:
                return self.pack(reader)
        stored = conn.execute(select(_S.pack).where(_S.tenant == self.tenant)).scalar()
        return _parsed_pack(stored)

    def set_pack(self, pack: RulePack, actor: str) -> RulePack:
        """Make ``pack`` the tenant's (validated already); totals from now on follow it."""
        body = json.dumps(pack.model_dump(mode="json"), ensure_ascii=False)
        with self.ledger.transaction() as tx:
            values = {"pack_id": pack.id, "pack": body, "updated_at": self.clock.now_ns(),
                      "updated_by": actor}  # fmt: skip
            if not insert_if_absent(tx.conn, aml_settings, {"tenant": self.tenant, **values}):
                tx.conn.execute(
                    aml_settings.update().where(_S.tenant == self.tenant).values(**values)
                )
            tx.emit(self.tenant, "aml_rule_pack_set", "aml_settings", self.tenant,
                    {"pack_id": pack.id, "actor": actor})  # fmt: skip
        return pack

    # --- the typologies' parameters ----------------------------------------------------------
    def params(self, conn: Connection | None = None) -> AmlParams:
        """The tenant's typology parameters (the defaults until some are set): the batch scan's
        and the stream's."""
        if conn is None:
            with self.ledger.reader() as reader:
                return self.params(reader)
        stored = conn.execute(select(_T.params).where(_T.tenant == self.tenant)).scalar()
        return _parsed_params(stored)

    def set_params(self, params: AmlParams, actor: str) -> AmlParams:
        """Make ``params`` the tenant's; the stream starts its state again with them."""
        with self.ledger.transaction() as tx:
            values = {"params": params_json(params), "updated_at": self.clock.now_ns(),
                      "updated_by": actor}  # fmt: skip
            if not insert_if_absent(tx.conn, aml_typology_params, {"tenant": self.tenant,
                                                                    **values}):  # fmt: skip
                tx.conn.execute(
                    aml_typology_params.update().where(_T.tenant == self.tenant).values(**values)
                )
            tx.emit(self.tenant, "aml_typology_params_set", "aml_typology_params", self.tenant,
                    {"actor": actor})  # fmt: skip
        return params

    # --- the stream --------------------------------------------------------------------------
    def record(self, tx: LedgerTransaction, movements: Sequence[Movement]) -> int:
        """Journal ``movements`` and add them to the same-day totals; new movements count.

        A batch is two statements whatever its size: the journal rows inserted many at a time
        (a row already there is skipped: the movement was read before, its amounts are in),
        then every touched total added to and read back in one upsert."""
        pack = self.pack(tx.conn)
        rows = {m.tx_id: _journal_row(self.tenant, m) for m in movements}
        new = insert_new(tx.conn, aml_transactions, list(rows.values()))  # others: read before
        touched: dict[str, sameday.Leg] = {}
        added: dict[str, int] = {}
        for m in movements:
            if m.tx_id not in new:
                continue
            for leg in sameday.legs(pack, m, self.rates):
                added[leg.report_key] = added.get(leg.report_key, 0) + leg.amount_micros
                touched[leg.report_key] = leg
        totals = add_many(
            tx.conn,
            aml_threshold_totals,
            [{"tenant": self.tenant, "report_key": k, "total_micros": v}
             for k, v in sorted(added.items())],
            "total_micros",
        )  # fmt: skip
        for _tenant, key, total in totals:
            leg = touched[str(key)]
            if sameday.crossed(leg.rule, int(str(total))):
                legs = self._day_legs(tx.conn, pack, leg)
                self.reports.threshold_total(
                    tx, pack, leg.rule, str(key), leg.account, leg.day, legs
                )
        if self.typologies is not None:
            arrived = [m for m in movements if m.tx_id in new]
            now = self.clock.now_ns()
            found = self.typologies.observe(tx.conn, self.tenant, arrived, self.params(tx.conn))
            for finding in found:
                self.keep(tx, finding, now, "aml-monitor")
        return len(new)

    def _day_legs(
        self, conn: Connection, pack: RulePack, leg: sameday.Leg
    ) -> list[tuple[str, int]]:
        """Every movement of the total's account, side and business day that the total's rule
        selects, with what it adds (the journal is the record; totals only say when to look)."""
        side = _J.src if leg.side == "out" else _J.dst
        start, end = sameday.day_bounds_ns(pack, leg.day)
        rows = conn.execute(
            select(aml_transactions).where(
                _J.tenant == self.tenant,
                side == leg.account,
                _J.occurred_at >= start,
                _J.occurred_at < end,
            )
        )
        return sorted(
            (row.tx_id, found.amount_micros)
            for row in rows
            for found in sameday.legs(pack, _movement(row), self.rates)
            if found.report_key == leg.report_key
        )

    def journal(self, since_ns: int | None = None, until_ns: int | None = None) -> list[Movement]:
        query = select(aml_transactions).where(_J.tenant == self.tenant)
        if since_ns is not None:
            query = query.where(_J.occurred_at >= since_ns)
        if until_ns is not None:
            query = query.where(_J.occurred_at < until_ns)
        with self.ledger.reader() as conn:
            return [_movement(row) for row in conn.execute(query.order_by(_J.occurred_at))]

    # --- the batch ---------------------------------------------------------------------------
    def export(self, path: Path, since_ns: int | None = None, until_ns: int | None = None) -> int:
        """The journal as a Parquet file ``embedfin aml scan`` reads; how many rows."""
        import duckdb
        import pandas as pd

        rows = [_file_row(m) for m in self.journal(since_ns, until_ns)]
        frame = pd.DataFrame(rows, columns=list(_FILE_COLUMNS), dtype="string")
        conn = duckdb.connect(":memory:")
        try:
            conn.register("journal", frame)
            quoted = str(path).replace("'", "''")
            conn.execute(f"COPY (SELECT * FROM journal) TO '{quoted}' (FORMAT parquet)")
        finally:
            conn.close()
        return len(rows)

    def scan(
        self,
        days: int = 30,
        params: AmlParams | None = None,
        actor: str = "aml-monitor",
        progress: Progress = no_progress,
    ) -> MonitorRun:
        """Every typology over the journal's last ``days`` days; each new alert opens a case."""
        from embedfin.compliance.aml.scan import scan as scan_file

        if not 1 <= days <= 400:
            raise InvalidInput("days must be between 1 and 400")
        now = self.clock.now_ns()
        with tempfile.TemporaryDirectory(prefix="embedfin-aml-monitor-") as folder:
            path = Path(folder) / "journal.parquet"
            rows = self.export(path, now - days * DAY_NS, now + 1)
            if rows == 0:
                return MonitorRun(0, 0, 0, {}, {})
            result = scan_file(path, params or self.params(), progress=progress)
        tx_ids = result.tx_ids or {}
        by_typology: dict[str, int] = {}
        new = 0
        with self.ledger.transaction() as tx:
            for alert in result.alerts:
                by_typology[alert.typology] = by_typology.get(alert.typology, 0) + 1
                new += self.keep(tx, _finding(alert, tx_ids), now, actor)
        seconds = {k: round(v, 3) for k, v in result.seconds.items()}
        return MonitorRun(rows, len(result.alerts), new, by_typology, seconds)

    def keep(self, tx: LedgerTransaction, found: Finding, now: int, actor: str) -> int:
        """Store an alert (1: it opened a case), or add it to the stored alert of its typology it
        shares a transaction with (0)."""
        met = self._alerts_meeting(tx.conn, found)
        if met:
            self._grow(tx, met[0], found)
            return 0
        ids = found.tx_ids
        key = hashlib.sha256("\x1f".join((found.typology, *sorted(ids))).encode()).hexdigest()
        alert_id = f"aml_{secrets.token_hex(12)}"
        case_id = f"case_{alert_id}"
        inserted = insert_if_absent(
            tx.conn,
            aml_alerts,
            {"tenant": self.tenant, "alert_id": alert_id, "alert_key": key,
             "typology": found.typology, "accounts": json.dumps(list(found.accounts)),
             "transactions": json.dumps(list(ids)), "window_start": found.start_t,
             "window_end": found.end_t, "amount": format(found.amount, "f"),
             "currency": found.currency or "XXX", "score": found.score,
             "reasons": json.dumps(list(found.reasons), ensure_ascii=False),
             "case_id": case_id, "created_at": now},
        )  # fmt: skip
        if not inserted:
            return 0  # found by an earlier run: its case is open or decided already
        self._link(tx.conn, found.typology, ids, alert_id)
        buyers = [a.split(":", 1)[1] for a in found.accounts if a.startswith("buyer:")]
        merchants = [a.split(":", 1)[1] for a in found.accounts if a.startswith("merchant:")]
        shown = ", ".join(mask(a, 6) for a in found.accounts[:4])
        more = f" and {len(found.accounts) - 4} more" if len(found.accounts) > 4 else ""
        self.cases.open(
            tx,
            kind="aml_alert",
            case_id=case_id,
            summary=(
                f"{found.typology.replace('_', ' ')}: {len(ids)} transactions between"
                f" {shown}{more}; {found.reasons[0]}"
            )[:500],  # fmt: skip
            amount_minor=_minor(found.amount, found.currency),
            currency=found.currency or "XXX",
            buyer_id=buyers[0] if buyers else None,
            merchant_id=merchants[0] if merchants else None,
        )
        tx.emit(self.tenant, "aml_alert_raised", "aml_alert", alert_id,
                {"typology": found.typology, "case_id": case_id, "actor": actor,
                 "transactions": len(ids)})  # fmt: skip
        return 1

    def _alerts_meeting(self, conn: Connection, found: Finding) -> list[Any]:
        """The stored alerts of ``found``'s typology sharing a transaction with it, oldest
        first."""
        ids = list(found.tx_ids)
        query = select(_L.alert_id).where(
            _L.tenant == self.tenant,
            _L.typology == found.typology,
            _L.tx_id.in_(bindparam("ids", expanding=True)),
        )
        alert_ids = {
            a for first in range(0, len(ids), _CHUNK)
            for a in conn.execute(query, {"ids": ids[first : first + _CHUNK]}).scalars()
        }  # fmt: skip
        if not alert_ids:
            return []
        return list(
            conn.execute(
                select(aml_alerts)
                .where(_A.tenant == self.tenant, _A.alert_id.in_(sorted(alert_ids)))
                .order_by(_A.created_at, _A.alert_id)
            )
        )

    def _grow(self, tx: LedgerTransaction, row: Any, found: Finding) -> None:
        """Add ``found``'s transactions, accounts and window to the stored alert ``row``."""
        before = set(json.loads(row.transactions))
        added = set(found.tx_ids) - before
        if not added:
            return
        ids = sorted(before | added)
        if set(found.tx_ids) >= before:
            amount = found.amount
        else:
            amount = self._journal_total(tx.conn, ids, row.currency)
        grown = len(found.tx_ids) >= len(before)
        tx.conn.execute(
            aml_alerts.update()
            .where(_A.tenant == self.tenant, _A.alert_id == row.alert_id)
            .values(
                accounts=json.dumps(sorted(set(json.loads(row.accounts)) | set(found.accounts))),
                transactions=json.dumps(ids),
                window_start=min(row.window_start, found.start_t),
                window_end=max(row.window_end, found.end_t),
                amount=format(amount, "f"),
                score=max(row.score, found.score),
                reasons=(json.dumps(list(found.reasons), ensure_ascii=False)
                         if grown else row.reasons),
            )
        )  # fmt: skip
        self._link(tx.conn, found.typology, sorted(added), row.alert_id)

    def _link(self, conn: Connection, typology: str, ids: Sequence[str], alert_id: str) -> None:
        insert_many_ignoring_present(
            conn,
            aml_alert_transactions,
            [{"tenant": self.tenant, "typology": typology, "tx_id": tx_id, "alert_id": alert_id}
             for tx_id in ids],
        )  # fmt: skip

    def _journal_total(self, conn: Connection, ids: Sequence[str], code: str) -> Decimal:
        total = Decimal(0)
        query = select(_J.amount_minor, _J.currency).where(
            _J.tenant == self.tenant, _J.tx_id.in_(bindparam("ids", expanding=True))
        )
        for first in range(0, len(ids), _CHUNK):
            for amount_minor, currency in conn.execute(query, {"ids": ids[first : first + _CHUNK]}):
                if currency == code:
                    total += Decimal(amount_minor).scaleb(-currency_of(currency).exponent)
        return total

    # --- decisions ---------------------------------------------------------------------------
    def decided(self, tx: LedgerTransaction, case_id: str, outcome: str) -> Report | None:
        """An ``aml_alert`` case decided: ``reject`` (confirmed) makes a suspicious report due."""
        row = tx.conn.execute(
            select(aml_alerts).where(_A.tenant == self.tenant, _A.case_id == case_id)
        ).first()
        if row is None:
            raise NotFound(f"no monitoring alert for case {case_id}")
        alert = _alert(row)
        tx.emit(self.tenant, "aml_alert_decided", "aml_alert", alert.alert_id,
                {"case_id": case_id, "outcome": outcome})  # fmt: skip
        if outcome != "reject":
            return None
        pack = self.pack(tx.conn)
        parties = [a for a in alert.accounts if a.startswith(("buyer:", "merchant:"))]
        subject = parties[0] if parties else alert.accounts[0]
        confirmed = datetime.fromtimestamp(self.clock.now_ns() // 1_000_000_000, UTC)
        return self.reports.suspicious(
            tx,
            pack,
            case_id,
            subject,
            alert.transactions,
            int(alert.amount.scaleb(6)),
            alert.currency,
            (f"{alert.typology}: {alert.reasons[0]}", *alert.reasons[1:],
             f"accounts involved: {', '.join(alert.accounts)}"),
            sameday.local_day(pack, confirmed),
        )  # fmt: skip

    # --- reading -----------------------------------------------------------------------------
    def alerts(self, typology: str | None = None, limit: int = 100) -> list[StoredAlert]:
        query = select(aml_alerts).where(_A.tenant == self.tenant)
        if typology is not None:
            query = query.where(_A.typology == typology)
        query = query.order_by(_A.created_at.desc(), _A.alert_id).limit(max(1, min(limit, 1000)))
        with self.ledger.reader() as conn:
            return [_alert(row) for row in conn.execute(query)]

    def case_alert(self, case_id: str) -> StoredAlert | None:
        with self.ledger.reader() as conn:
            row = conn.execute(
                select(aml_alerts).where(_A.tenant == self.tenant, _A.case_id == case_id)
            ).first()
        return None if row is None else _alert(row)

    def journal_size(self) -> int:
        with self.ledger.reader() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(aml_transactions)
                    .where(_J.tenant == self.tenant)
                ).scalar_one()
            )


_FILE_COLUMNS = ("tx_id", "src", "dst", "amount", "currency", "timestamp", "channel",
                 "src_kind", "dst_kind", "cross_border")  # fmt: skip


def _file_row(m: Movement) -> tuple[str, ...]:
    at = datetime.fromtimestamp(m.occurred_at // 1_000_000_000, UTC)
    return (m.tx_id, m.src, m.dst, format(m.amount, "f"), m.currency,
            at.strftime("%Y-%m-%dT%H:%M:%SZ"), m.channel, m.src_kind, m.dst_kind,
            "true" if m.cross_border else "false")  # fmt: skip


def _finding(alert: Alert, tx_ids: dict[int, str]) -> Finding:
    """A batch alert as the store keeps it: its transactions by id."""
    ids = tuple(sorted(tx_ids[r] for r in alert.rows))
    return Finding(alert.typology, alert.accounts, ids, (), alert.start_t, alert.end_t,
                   alert.amount, alert.currency, alert.score, alert.reasons)  # fmt: skip


def _minor(amount: Decimal, code: str) -> int:
    if not code:
        return 0
    try:
        exponent = currency_of(code).exponent
    except UnknownCurrency:
        return 0
    return int(amount.scaleb(exponent).to_integral_value())
