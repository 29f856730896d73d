"""Seeded AMLSim-style data: ordinary transfers with laundering typologies injected, and the
ground truth kept apart (the scan never reads it).

Ordinary traffic: accounts pay each other at random times over ``days`` days; amounts are
log-normal (median 200), receivers follow a Zipf law (a few accounts — shops, landlords — are
paid by thousands). The typologies, each instance on accounts that also trade normally:

================  ===========================================================================
fan_out           one account pays 8–15 others within two days, similar amounts
fan_in            8–15 accounts pay one within two days
cycle             3–7 accounts pass an amount round and back, each keeping 1–4%
scatter_gather    one account splits an amount over 3–6 middlemen who each pass it to one
gather_scatter    5–9 accounts pay one, which then pays 5–9 others most of it
bipartite         3–5 senders each pay the same 3–5 receivers
stack             three layers of 3–4 accounts, each paying every account of the next
pass_through      AMLSim's "random": an amount passed along a chain of 4–7 accounts
structuring       one account sends 3–7 transfers each just under the 10,000 threshold
smurfing          4–8 accounts each pay one account an amount under the threshold
================  ===========================================================================

The eight AMLSim patterns (fan-out, fan-in, cycle, bipartite, stack, random, scatter-gather,
gather-scatter) plus structuring and smurfing.
"""

from __future__ import annotations

import csv
import math
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from embedfin.compliance.aml.alerts import TYPOLOGIES
from embedfin.core.errors import InvalidInput

DAY = 86_400
HOUR = 3_600
START = 1_767_225_600  # 2026-01-01T00:00:00Z
THRESHOLD = 10_000


@dataclass(slots=True)
class Generated:
    """Rows (tx_id, src, dst, amount in cents, t) and the truth: tx_id → (typology, instance)."""

    rows: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    truth: dict[str, tuple[str, int]] = field(default_factory=dict)
    instances: dict[str, int] = field(default_factory=dict)


class _Builder:
    def __init__(self, rng: random.Random, accounts: int, days: int) -> None:
        self.rng = rng
        self.accounts = accounts
        self.days = days
        self.out = Generated()
        self.used: set[int] = set()

    def account(self) -> str:
        """A fresh account for a typology (it also trades normally)."""
        while True:
            n = self.rng.randrange(self.accounts)
            if n not in self.used:
                self.used.add(n)
                return f"A{n}"

    def when(self, margin_days: int = 5) -> int:
        return START + self.rng.randrange(0, (self.days - margin_days) * DAY)

    def pay(self, src: str, dst: str, cents: int, t: int, truth: tuple[str, int] | None) -> None:
        tx_id = f"T{len(self.out.rows) + 1}"
        self.out.rows.append((tx_id, src, dst, max(cents, 1), t))
        if truth is not None:
            self.out.truth[tx_id] = truth


def _amount(rng: random.Random, median: float = 200.0, sigma: float = 1.0) -> int:
    return int(math.exp(rng.gauss(math.log(median), sigma)) * 100)


def _background(b: _Builder, n: int) -> None:
    rng = b.rng
    weights_cut = [1.0 / (k + 1) ** 1.1 for k in range(b.accounts)]
    popular = list(range(b.accounts))
    rng.shuffle(popular)
    receivers = rng.choices(popular, weights=weights_cut, k=n)
    for dst in receivers:
        src = rng.randrange(b.accounts)
        if src == dst:
            src = (src + 1) % b.accounts
        b.pay(f"A{src}", f"A{dst}", _amount(rng), START + rng.randrange(b.days * DAY), None)


def _fan(b: _Builder, tag: tuple[str, int], inward: bool) -> None:
    rng = b.rng
    hub, t0 = b.account(), b.when()
    base = _amount(rng, 900, 0.3)
    for _ in range(rng.randint(8, 15)):
        other = b.account()
        cents = int(base * rng.uniform(0.9, 1.1))
        t = t0 + rng.randrange(2 * DAY)
        b.pay(other, hub, cents, t, tag) if inward else b.pay(hub, other, cents, t, tag)


def _chain(b: _Builder, tag: tuple[str, int], length: int, closed: bool) -> None:
    rng = b.rng
    members = [b.account() for _ in range(length)]
    cents, t = _amount(rng, 5_000, 0.5), b.when()
    hops = length if closed else length - 1
    for i in range(hops):
        b.pay(members[i], members[(i + 1) % length], cents, t, tag)
        cents = int(cents * rng.uniform(0.96, 0.99))
        t += rng.randrange(HOUR, 12 * HOUR)


def _scatter_gather(b: _Builder, tag: tuple[str, int]) -> None:
    rng = b.rng
    origin, target = b.account(), b.account()
    k = rng.randint(3, 6)
    total, t0 = _amount(rng, 8_000, 0.4), b.when()
    for _ in range(k):
        mid = b.account()
        part = int(total / k * rng.uniform(0.95, 1.05))
        t = t0 + rng.randrange(6 * HOUR)
        b.pay(origin, mid, part, t, tag)
        b.pay(mid, target, int(part * rng.uniform(0.95, 0.99)), t + rng.randrange(HOUR, DAY), tag)


def _gather_scatter(b: _Builder, tag: tuple[str, int]) -> None:
    rng = b.rng
    hub, t0 = b.account(), b.when()
    total = 0
    for _ in range(rng.randint(5, 9)):
        cents = _amount(rng, 1_200, 0.3)
        total += cents
        b.pay(b.account(), hub, cents, t0 + rng.randrange(DAY), tag)
    k = rng.randint(5, 9)
    out_at = t0 + DAY + rng.randrange(12 * HOUR)
    for _ in range(k):
        b.pay(hub, b.account(), int(total * 0.95 / k), out_at + rng.randrange(6 * HOUR), tag)


def _complete(b: _Builder, tag: tuple[str, int], senders: list[str], receivers: list[str],
              t0: int) -> None:  # fmt: skip
    rng = b.rng
    base = _amount(rng, 1_500, 0.3)
    for s in senders:
        for r in receivers:
            b.pay(s, r, int(base * rng.uniform(0.9, 1.1)), t0 + rng.randrange(DAY), tag)


def _bipartite(b: _Builder, tag: tuple[str, int]) -> None:
    rng = b.rng
    senders = [b.account() for _ in range(rng.randint(3, 5))]
    receivers = [b.account() for _ in range(rng.randint(3, 5))]
    _complete(b, tag, senders, receivers, b.when())


def _stack(b: _Builder, tag: tuple[str, int]) -> None:
    rng = b.rng
    layers = [[b.account() for _ in range(rng.randint(3, 4))] for _ in range(3)]
    t0 = b.when()
    _complete(b, tag, layers[0], layers[1], t0)
    _complete(b, tag, layers[1], layers[2], t0 + DAY + rng.randrange(12 * HOUR))


def _structuring(b: _Builder, tag: tuple[str, int]) -> None:
    rng = b.rng
    src, t0 = b.account(), b.when()
    for _ in range(rng.randint(3, 7)):
        cents = rng.randrange(int(THRESHOLD * 0.9 * 100), THRESHOLD * 100)
        b.pay(src, b.account(), cents, t0 + rng.randrange(20 * HOUR), tag)


def _smurfing(b: _Builder, tag: tuple[str, int]) -> None:
    rng = b.rng
    dst, t0 = b.account(), b.when()
    for _ in range(rng.randint(4, 8)):
        cents = rng.randrange(int(THRESHOLD * 0.5 * 100), THRESHOLD * 100)
        b.pay(b.account(), dst, cents, t0 + rng.randrange(20 * HOUR), tag)


_INJECT: dict[str, Callable[[_Builder, tuple[str, int]], None]] = {
    "fan_out": lambda b, tag: _fan(b, tag, inward=False),
    "fan_in": lambda b, tag: _fan(b, tag, inward=True),
    "cycle": lambda b, tag: _chain(b, tag, b.rng.randint(3, 7), closed=True),
    "scatter_gather": _scatter_gather,
    "gather_scatter": _gather_scatter,
    "bipartite": _bipartite,
    "stack": _stack,
    "pass_through": lambda b, tag: _chain(b, tag, b.rng.randint(4, 7), closed=False),
    "structuring": _structuring,
    "smurfing": _smurfing,
}
assert set(_INJECT) == set(TYPOLOGIES)


def generate(
    transactions: int,
    seed: int = 7,
    *,
    days: int = 30,
    per_typology: int | None = None,
    background: bool = True,
) -> Generated:
    """About ``transactions`` rows: ordinary traffic plus ``per_typology`` instances of each
    typology (by default one per 20,000 rows, at least 5), sorted by time. Without
    ``background`` only the typologies' rows (``write_parquet`` adds the traffic in DuckDB)."""
    if not 1_000 <= transactions <= 200_000_000:
        raise InvalidInput("transactions must be 1,000-200,000,000")
    if not 7 <= days <= 3_650:
        raise InvalidInput("days must be 7-3,650")
    rng = random.Random(seed)
    accounts = max(1_000, transactions // 10)
    b = _Builder(rng, accounts, days)
    count = per_typology if per_typology is not None else max(5, transactions // 20_000)
    for typology in TYPOLOGIES:
        for instance in range(count):
            _INJECT[typology](b, (typology, instance))
        b.out.instances[typology] = count
    if background:
        _background(b, max(transactions - len(b.out.rows), 0))
    order = sorted(range(len(b.out.rows)), key=lambda i: b.out.rows[i][4])
    truth = b.out.truth
    rows, renamed = [], {}
    for new, i in enumerate(order, start=1):
        tx_id, src, dst, cents, t = b.out.rows[i]
        renamed[tx_id] = f"T{new}"
        rows.append((f"T{new}", src, dst, cents, t))
    return Generated(rows, {renamed[k]: v for k, v in truth.items()}, b.out.instances)


#: With channels, about this share of ordinary transfers is cash (``channel`` column).
CASH_SHARE = 0.1
_CASH_TYPOLOGIES = ("structuring", "smurfing")


def channel(data: Generated, tx_id: str) -> str:
    """``cash`` for structuring and smurfing (cash deposits kept under the reporting line) and
    for a fixed tenth of ordinary transfers (chosen by a hash of the id, so the rows drawn stay
    those of the seed), ``transfer`` otherwise."""
    typology = data.truth.get(tx_id, ("", 0))[0]
    if typology in _CASH_TYPOLOGIES:
        return "cash"
    if typology:
        return "transfer"
    return "cash" if zlib.crc32(tx_id.encode()) % 1000 < CASH_SHARE * 1000 else "transfer"


def write_csv(
    data: Generated,
    path: Path,
    *,
    steps: bool = False,
    currency: str | None = None,
    channels: bool = False,
) -> None:
    """The transactions as the scan reads them (``tx_id, src, dst, amount, timestamp`` or
    ``step``), amounts in units with two decimals; with a ``currency``, a currency column; with
    ``channels``, a ``channel`` column (:func:`channel`)."""
    from datetime import UTC, datetime

    with path.open("w", newline="") as f:
        out = csv.writer(f)
        header = ["tx_id", "src", "dst", "amount", "step" if steps else "timestamp"]
        out.writerow(header + ["currency"] * bool(currency) + ["channel"] * channels)
        tail = [currency] if currency else []
        for tx_id, src, dst, cents, t in data.rows:
            when: str | int = (
                (t - START) // DAY
                if steps
                else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            )
            extra = [*tail, channel(data, tx_id)] if channels else tail
            out.writerow([tx_id, src, dst, f"{cents // 100}.{cents % 100:02d}", when, *extra])


def write_truth(data: Generated, path: Path) -> None:
    """The ground truth: ``tx_id, typology, instance`` of every laundering transaction."""
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["tx_id", "typology", "instance"])
        for tx_id, (typology, instance) in sorted(data.truth.items()):
            out.writerow([tx_id, typology, instance])


def write_parquet(transactions: int, seed: int, path: Path, *, days: int = 30) -> Generated:
    """A large file fast: the typologies from :func:`generate`, the ordinary traffic drawn in
    DuckDB (same shape: log-normal amounts, power-law receivers), sorted by time, as Parquet
    with ``tx_id, src, dst, amount, timestamp``. The returned truth names the typologies'
    rows by their ``tx_id``."""
    import duckdb

    data = generate(transactions, seed, days=days, background=False)
    accounts = max(1_000, transactions // 10)
    rest = max(transactions - len(data.rows), 0)
    conn = duckdb.connect(":memory:")
    try:
        conn.execute("SET memory_limit = '1500MB'")
        conn.execute(f"SELECT setseed({(seed % 1000) / 1000})")
        conn.execute(
            "CREATE TABLE inj (tx_id VARCHAR, src VARCHAR, dst VARCHAR, cents BIGINT, t BIGINT)"
        )
        conn.executemany("INSERT INTO inj VALUES (?, ?, ?, ?, ?)", data.rows)
        quoted = str(path).replace("'", "''")
        conn.execute(
            f"""COPY (
            WITH bg AS (
                SELECT 'B' || i AS tx_id,
                    'A' || CAST(floor(random() * {accounts}) AS BIGINT) AS src,
                    'A' || CAST(floor({accounts} * pow(random(), 3)) AS BIGINT) AS dst,
                    greatest(CAST(exp(ln(200) + sqrt(-2 * ln(1 - random()))
                        * cos(2 * pi() * random())) * 100 AS BIGINT), 1) AS cents,
                    {START} + CAST(floor(random() * {days * DAY}) AS BIGINT) AS t
                FROM range({rest}) r(i)),
            alltx AS (SELECT * FROM bg WHERE src <> dst UNION ALL SELECT * FROM inj)
            SELECT tx_id, src, dst, CAST(cents AS DECIMAL(18, 2)) / 100 AS amount,
                make_timestamptz(t * 1000000) AS timestamp FROM alltx ORDER BY t, tx_id
            ) TO '{quoted}' (FORMAT parquet)"""
        )
    finally:
        conn.close()
    return data
