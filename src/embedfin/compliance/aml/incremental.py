"""The typologies as movements arrive (pure: no database, no clock): fan-in, fan-out,
structuring, smurfing, cycles and pass-through, with the batch detectors' parameters
(``AmlParams``). The service (``stream.py``) loads the state, hands the movements over in time
order and keeps what comes back.

How each follows the batch scan over the same movements:

* **Episodes** (the fans, structuring, smurfing). An *anchor* is a movement's time ``t`` at
  which the hub's movements in ``[t, t + window]`` qualify (``fan_degree`` distinct
  counterparties in a burst; ``structuring_min_count`` transfers — or ``smurfing_min_sources``
  senders — just below the line adding up past it). The batch sees every anchor at once; the
  stream finds each as soon as the movement that makes it qualify arrives, so every anchor is
  found once the window after it has passed. Anchors within a window of each other make one
  episode whose movements are those of ``[first anchor, last anchor + window]`` — the batch's.
  The episode's finding grows as it does; the store adds to the alert it opened.
* **Hops** (cycles, pass-through). An incoming transfer followed within ``hop_s`` by an
  outgoing one of nearly the same amount through a quiet account (``detectors.py``). Paths of
  hops grow as each outgoing transfer arrives; a path back to where it started is a cycle the
  moment it closes, one of ``chain_min_transactions`` or more a pass-through.

Where the stream differs, because it decides when a movement arrives and never waits:

* **The fans' burst test.** The batch sets a window against the hub's other transactions over
  the whole file, before and after it, and asks the chance across every account of the file.
  The stream sets it against the hub's previous :data:`BASELINE_WINDOWS` windows (since the
  stream began, while it is younger than that) and asks the chance across those windows of the
  hub alone, so it is laxer on quiet accounts. It calls no fan in its first window (every
  account would be new, its baseline empty).
* **Quiet accounts.** An account's inflows are those known when the outgoing transfer arrives
  (the batch also counts later ones within ``hop_s``): the stream's hops include the batch's.
* **Pass-through.** Every chain is raised when it reaches ``chain_min_transactions``, not only
  the longest from each first transaction, and one that later closes into a ring stays raised
  (the batch leaves out chains made only of a cycle's transactions): every batch pass-through
  alert is inside a stream one, and every stream one meets a batch one or lies inside cycles.
* **Order.** Movements count in the order they arrive. One older than the state's window
  (``horizon_s``) or arriving after a later movement it would have made a hop or an anchor
  with is judged with what is still held.

``tests/compliance/test_aml_stream.py`` proves the agreements on random graphs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from embedfin.compliance.aml.alerts import strength_score
from embedfin.compliance.aml.detectors import DAY_S, KEEP, AmlParams, poisson_tail

#: The fans' baseline: a window is compared with this many windows before it.
BASELINE_WINDOWS = 4
EPISODE_TYPOLOGIES = ("fan_in", "fan_out", "structuring", "smurfing")


@dataclass(frozen=True, slots=True)
class Seen:
    """A movement as the stream keeps it: ``t`` in whole seconds (the batch scan's ``t``),
    ``amount`` in major units."""

    tx_id: str
    t: int
    src: str
    dst: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Finding:
    """An alert as the stream finds it; ``amounts`` are the transactions', in their order.

    Attributes:
        typology: ``fan_in``, ``fan_out``, ``structuring``, ``smurfing``, ``cycle`` or
            ``pass_through``.
        accounts: the accounts involved, sorted.
        tx_ids: the transactions, sorted.
        start_t, end_t: the window, Unix seconds.
        amount: the transactions' total in ``currency``.
        score: 0..1 (``alerts.strength_score``).
        reasons: why, with the figures.
    """

    typology: str
    accounts: tuple[str, ...]
    tx_ids: tuple[str, ...]
    amounts: tuple[Decimal, ...]
    start_t: int
    end_t: int
    amount: Decimal
    currency: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Path:
    """A chain of hops: its transactions in time order, the accounts from the origin on."""

    rows: tuple[str, ...]
    amounts: tuple[Decimal, ...]
    accounts: tuple[str, ...]
    start_t: int
    end_t: int
    currency: str
    closed: bool


@dataclass(slots=True)
class Episode:
    """An open episode of a hub (grows as anchors are found; ``top``/``expected``: the most
    counterparties in one anchor's window and what the baseline expected there)."""

    typology: str
    subject: str
    currency: str
    start_t: int
    last_anchor: int
    rows: dict[str, tuple[int, str, Decimal]] = field(default_factory=dict)
    top: int = 0
    expected: float = 1.0
    reported: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.typology, self.subject, self.currency)


def _at(row: Seen) -> tuple[int, str]:
    return (row.t, row.tx_id)


def _t(row: Seen) -> int:
    return row.t


class Window:
    """One account's movements in one currency within the horizon, oldest first."""

    __slots__ = ("ins", "outs")

    def __init__(self) -> None:
        self.ins: list[Seen] = []
        self.outs: list[Seen] = []

    @staticmethod
    def add(rows: list[Seen], row: Seen) -> None:
        if not rows or _at(rows[-1]) < _at(row):
            rows.append(row)
        else:
            insort(rows, row, key=_at)

    def evict(self, cutoff_t: int) -> None:
        for rows in (self.ins, self.outs):
            cut = bisect_left(rows, cutoff_t, key=_t)
            if cut:
                del rows[:cut]


def _between(rows: list[Seen], low_t: int, high_t: int) -> list[Seen]:
    """The rows with ``low_t <= t <= high_t``."""
    return rows[bisect_left(rows, low_t, key=_t) : bisect_right(rows, high_t, key=_t)]


def _count(rows: list[Seen], low_t: int, before_t: int) -> int:
    """How many rows have ``low_t <= t < before_t``."""
    return bisect_left(rows, before_t, key=_t) - bisect_left(rows, low_t, key=_t)


def horizon_s(p: AmlParams) -> int:
    """How far back the state holds movements: the fans' window and its baseline, an inflow's
    quiet test either side of it, the structuring window."""
    return max(p.fan_window_s * (1 + BASELINE_WINDOWS), 2 * p.hop_s, p.structuring_window_s)


def _decimal(x: float) -> Decimal:
    return Decimal(repr(x))


class StreamState:
    """The incremental state of one tenant and what to write back after each batch.

    ``windows`` (movements by account and currency) are re-read from the journal after a
    restart; ``paths`` and ``episodes`` are the stream's own and kept by the service
    (``added_paths``, ``changed``), all of them dropped once past the window (:meth:`evict`).
    """

    def __init__(self, params: AmlParams, since_t: int, now_t: int | None = None) -> None:
        self.p = params
        self.since_t = since_t
        self.now_t = since_t if now_t is None else now_t
        self.windows: dict[tuple[str, str], Window] = {}
        self.loaded: set[str] = set()
        #: every movement since ``since_t`` went through this copy: nothing to read back
        self.complete = False
        self.paths: dict[str, list[Path]] = {}
        self.episodes: dict[tuple[str, str, str], Episode] = {}
        self.added_paths: list[Path] = []
        self.changed: dict[tuple[str, str, str], Episode] = {}
        self._dirty: dict[int, Episode] = {}
        self._found: dict[tuple[object, ...], Finding] = {}
        self._evicted_t = self.now_t
        self._longest = max(params.cycle_max_transactions, params.chain_max_transactions)
        self._low_structuring = params.structuring_threshold * (
            1 - _decimal(params.structuring_margin)
        )
        self._low_smurfing = params.structuring_threshold * (1 - _decimal(params.smurfing_margin))
        self._pass_low = 1 - _decimal(params.pass_tolerance)
        self._pass_high = 1 + _decimal(KEEP)

    # --- loading ------------------------------------------------------------------------------
    def window(self, account: str, currency: str) -> Window:
        found = self.windows.get((account, currency))
        if found is None:
            found = self.windows[(account, currency)] = Window()
        return found

    def load(self, accounts: Iterable[str], rows: Iterable[Seen]) -> None:
        """The journal's movements of ``accounts`` (as :meth:`observe` would have kept them)."""
        wanted = set(accounts) - self.loaded
        for row in rows:
            if row.src in wanted:
                Window.add(self.window(row.src, row.currency).outs, row)
            if row.dst in wanted:
                Window.add(self.window(row.dst, row.currency).ins, row)
        self.loaded |= wanted

    def restore(self, paths: Iterable[Path], episodes: Iterable[Episode]) -> None:
        for path in paths:
            self.paths.setdefault(path.rows[-1], []).append(path)
        for episode in episodes:
            self.episodes[episode.key] = episode

    # --- the stream ---------------------------------------------------------------------------
    def observe(self, movements: Sequence[Seen]) -> list[Finding]:
        """Take ``movements`` (in time order) and return what they raised or made grow."""
        self._found = {}
        self._dirty = {}
        self.added_paths = []
        self.changed = {}
        for m in sorted(movements, key=_at):
            out = self.window(m.src, m.currency)
            into = self.window(m.dst, m.currency)
            Window.add(out.outs, m)
            Window.add(into.ins, m)
            self.now_t = max(self.now_t, m.t)
            if m.src != m.dst:
                self._hops(m, out.ins)
            self._fan("fan_in", m.dst, into.ins, m, "src")
            self._fan("fan_out", m.src, out.outs, m, "dst")
            p = self.p
            if p.structuring_threshold > m.amount >= self._low_structuring:
                self._below(
                    "structuring", m.src, out.outs, m, self._low_structuring,
                    p.structuring_min_count, distinct=False,
                )  # fmt: skip
            if p.structuring_threshold > m.amount >= self._low_smurfing:
                self._below(
                    "smurfing", m.dst, into.ins, m, self._low_smurfing,
                    p.smurfing_min_sources, distinct=True,
                )  # fmt: skip
        for ident, episode in self._dirty.items():
            if episode.reported:
                self._found[("episode", ident)] = self._episode(episode)
        return list(self._found.values())

    def evict(self) -> int:
        """Drop what is past the window at the latest time seen (``now_t``); returns the cutoff
        the service removes its stored paths and episodes by."""
        horizon = horizon_s(self.p)
        cutoff = self.now_t - horizon
        if self.now_t - self._evicted_t < horizon // 8:
            return cutoff  # what is held past the window changes nothing: drop it now and then
        self._evicted_t = self.now_t
        for key in [k for k, w in self.windows.items() if not _recent(w, cutoff)]:
            del self.windows[key]
        for window in self.windows.values():
            window.evict(cutoff)
        self.loaded = {a for a, _ in self.windows}
        for last in [k for k, paths in self.paths.items() if not self.path_alive(paths[0])]:
            del self.paths[last]
        for ended in [k for k, e in self.episodes.items() if not self.episode_alive(e)]:
            del self.episodes[ended]
        return cutoff

    def path_alive(self, path: Path) -> bool:
        """A path can still grow: a hop from its last transaction may still come."""
        return path.end_t + self.p.hop_s >= self.now_t

    def episode_alive(self, episode: Episode) -> bool:
        return episode.last_anchor + self._window(episode.typology) >= self.now_t

    def _window(self, typology: str) -> int:
        if typology in ("fan_in", "fan_out"):
            return int(self.p.fan_window_s)
        return int(self.p.structuring_window_s)

    # --- hops: cycles and pass-through --------------------------------------------------------
    def _hops(self, b: Seen, inflows: list[Seen]) -> None:
        if not inflows or inflows[0].t >= b.t:
            return
        p = self.p
        first = bisect_left(inflows, b.t - p.hop_s, key=_t)
        last = bisect_left(inflows, b.t, lo=first, key=_t)
        for i in range(first, last):
            a = inflows[i]
            if a.src == a.dst or not a.amount * self._pass_low <= b.amount:
                continue
            if b.amount > a.amount * self._pass_high or not self._quiet(a, inflows):
                continue
            self._hop(a, b)

    def _quiet(self, a: Seen, inflows: list[Seen]) -> bool:
        """The account received little else around ``a`` (``hop_max_inflows``), or ``a`` is at
        least half of what came in then — of the inflows known now."""
        around = _between(inflows, a.t - self.p.hop_s, a.t + self.p.hop_s)
        return len(around) <= self.p.hop_max_inflows or a.amount * 2 >= sum(
            (r.amount for r in around), Decimal(0)
        )

    def _hop(self, a: Seen, b: Seen) -> None:
        grown = [
            Path((a.tx_id, b.tx_id), (a.amount, b.amount), (a.src, a.dst, b.dst), a.t, b.t,
                 b.currency, b.dst == a.src)
        ]  # fmt: skip
        for path in self.paths.get(a.tx_id, ()):
            origin = path.accounts[0]
            if path.closed or len(path.rows) >= self._longest:
                continue
            if b.dst == origin or b.dst not in path.accounts:
                grown.append(
                    Path(path.rows + (b.tx_id,), path.amounts + (b.amount,),
                         path.accounts + (b.dst,), path.start_t, b.t, b.currency,
                         b.dst == origin)
                )  # fmt: skip
        for path in grown:
            if not path.closed and len(path.rows) < self._longest:
                self.paths.setdefault(b.tx_id, []).append(path)
                self.added_paths.append(path)
            if path.closed:
                self._found[("cycle", tuple(sorted(path.rows)))] = self._cycle(path)
            elif len(path.rows) >= self.p.chain_min_transactions:
                self._found[("pass_through", path.rows)] = self._chain(path)

    def _cycle(self, path: Path) -> Finding:
        p = self.p
        kept = float(path.amounts[-1]) / float(path.amounts[0]) if path.amounts[0] else 0.0
        reason = (
            f"money went round {len(path.rows)} accounts and back to {path.accounts[0]} in "
            f"{(path.end_t - path.start_t) / 3600:.1f} h, {kept:.0%} of it arriving (each hop "
            f"within {p.hop_s / 3600:g} h, passing on at least {1 - p.pass_tolerance:.0%})"
        )
        score = strength_score(len(path.rows) / 2)
        return _finding("cycle", path.accounts, path.rows, path.amounts, path.start_t,
                        path.end_t, path.currency, score, reason)  # fmt: skip

    def _chain(self, path: Path) -> Finding:
        p = self.p
        arrived = float(path.amounts[-1]) / float(path.amounts[0]) if path.amounts[0] else 0.0
        reason = (
            f"{len(path.rows)} transfers in a row, each passing on at least "
            f"{1 - p.pass_tolerance:.0%} of what its sender had just received within "
            f"{p.hop_s / 3600:g} h, over {(path.end_t - path.start_t) / 3600:.1f} h "
            f"({arrived:.0%} arrived)"
        )
        score = strength_score(len(path.rows) / p.chain_min_transactions)
        return _finding("pass_through", path.accounts, path.rows, path.amounts, path.start_t,
                        path.end_t, path.currency, score, reason)  # fmt: skip

    # --- episodes: fans and below the line ----------------------------------------------------
    def _fan(self, typology: str, hub: str, rows: list[Seen], m: Seen, other: str) -> None:
        p = self.p
        w = int(p.fan_window_s)
        episode = self.episodes.get((typology, hub, m.currency))
        anchors: list[tuple[int, int, float]] = []
        recent: list[Seen] = []
        if m.t - self.since_t >= w:  # an anchor needs a window of baseline before it
            high = len(rows) if rows[-1].t <= m.t else bisect_right(rows, m.t, key=_t)
            low = bisect_left(rows, m.t - w, key=_t)
            enough = high - bisect_left(rows, self.since_t + w, lo=low, hi=high, key=_t)
            if enough >= p.fan_degree and self._may_burst(rows, high - low, m.t, w):
                recent = rows[low:high]
                anchors = self._fan_anchors(rows, recent, other, w)
        if episode is not None or anchors:
            self._grow(typology, m.currency, hub, m, recent, anchors, episode, w, other)

    def _may_burst(self, rows: list[Seen], count: int, t: int, w: int) -> bool:
        """A cheap bound: no anchor of this window can be a burst if even all its ``count``
        movements against the least baseline any of its anchors has are not."""
        baseline = BASELINE_WINDOWS * w
        least = _count(rows, t - baseline, t - w)
        span = max(min(baseline, t - self.since_t), w)
        return count / max(least * w / span, 1.0) >= self.p.burst_ratio

    def _fan_anchors(
        self, rows: list[Seen], recent: list[Seen], other: str, w: int
    ) -> list[tuple[int, int, float]]:
        """Every anchor in the window ending now: (time, distinct counterparties from it on,
        what the baseline expected there) — scanned from the newest movement back."""
        p = self.p
        baseline = BASELINE_WINDOWS * w
        seen: set[str] = set()
        found = []
        for i in range(len(recent) - 1, -1, -1):
            row = recent[i]
            seen.add(row.src if other == "src" else row.dst)
            if i and recent[i - 1].t == row.t:
                continue  # the anchor's window holds every movement of its second
            n = len(seen)
            if n < p.fan_degree or row.t - self.since_t < w:
                continue  # too few; or no window of baseline yet (everyone is new at first)
            before = _count(rows, row.t - baseline, row.t)
            span = max(min(baseline, row.t - self.since_t), w)
            expected = max(before * w / span, 1.0)
            if n / expected >= p.burst_ratio:
                found.append((row.t, n, expected))
        found.reverse()
        return found

    def _below(
        self, typology: str, party: str, rows: list[Seen], m: Seen, low: Decimal, minimum: int,
        *, distinct: bool,
    ) -> None:  # fmt: skip
        p = self.p
        w = int(p.structuring_window_s)
        threshold = p.structuring_threshold
        recent = [r for r in _between(rows, m.t - w, m.t) if threshold > r.amount >= low]
        episode = self.episodes.get((typology, party, m.currency))
        anchors: list[tuple[int, int, float]] = []
        if len(recent) >= minimum:
            senders: set[str] = set()
            total = Decimal(0)
            for i in range(len(recent) - 1, -1, -1):
                row = recent[i]
                senders.add(row.src)
                total += row.amount
                if i and recent[i - 1].t == row.t:
                    continue
                n = len(senders) if distinct else len(recent) - i
                if n >= minimum and total >= threshold:
                    anchors.append((row.t, n, 1.0))
            anchors.reverse()
        other = "src" if distinct else "dst"
        self._grow(typology, m.currency, party, m, recent, anchors, episode, w, other)

    def _grow(
        self, typology: str, currency: str, hub: str, m: Seen, recent: list[Seen],
        anchors: list[tuple[int, int, float]], episode: Episode | None, w: int, other: str,
    ) -> None:  # fmt: skip
        """Fold the anchors found now into the hub's episode (a new one past its window), and
        the window's movements inside it into its rows."""
        for at, n, expected in anchors:
            if episode is None or at > episode.last_anchor + w:
                episode = Episode(typology, hub, currency, at, at)
                self.episodes[episode.key] = episode
            episode.start_t = min(episode.start_t, at)
            episode.last_anchor = max(episode.last_anchor, at)
            if n > episode.top:
                episode.top, episode.expected = n, expected
            elif n == episode.top:
                episode.expected = min(episode.expected, expected)
        if episode is None:
            return
        low, high = episode.start_t, episode.last_anchor + w
        before = len(episode.rows)
        for row in recent if anchors else (m,):
            if low <= row.t <= high and row.tx_id not in episode.rows:
                episode.rows[row.tx_id] = (row.t, row.src if other == "src" else row.dst,
                                           row.amount)  # fmt: skip
        if len(episode.rows) == before and not anchors:
            return
        self.changed[episode.key] = episode
        self._dirty[id(episode)] = episode
        if not episode.reported and self._reportable(episode):
            episode.reported = True

    def _reportable(self, episode: Episode) -> bool:
        """The fans' chance test (the stream's: across the hub's own windows)."""
        if episode.typology not in ("fan_in", "fan_out"):
            return True
        chance = poisson_tail(episode.top, episode.expected)
        return chance * (BASELINE_WINDOWS + 1) <= self.p.burst_false_alarms

    def _episode(self, e: Episode) -> Finding:
        p = self.p
        items = sorted(e.rows.items())
        others = {other for _, (_, other, _) in items}
        amounts = tuple(amount for _, (_, _, amount) in items)
        end = max(t for _, (t, _, _) in items)
        total = sum(amounts, Decimal(0))
        if e.typology in ("fan_in", "fan_out"):
            who = "senders" if e.typology == "fan_in" else "receivers"
            ratio = e.top / e.expected
            reason = (
                f"{e.top} distinct {who} within {p.fan_window_s / DAY_S:g} days of {e.subject}: "
                f"{ratio:.1f}× what its previous {BASELINE_WINDOWS} windows would bring, a "
                f"chance of {poisson_tail(e.top, e.expected):.1e} at its rate (at least "
                f"{p.fan_degree} and {p.burst_ratio:g}×)"
            )
            score = strength_score(min(e.top / p.fan_degree, ratio / p.burst_ratio))
        else:
            low = self._low_structuring if e.typology == "structuring" else self._low_smurfing
            line = f"{p.structuring_threshold:,} (from {low:,.2f}) within "
            line += f"{p.structuring_window_s / 3600:g} h: {total:,.2f} in all"
            if e.typology == "structuring":
                n, minimum = len(items), p.structuring_min_count
                reason = f"{e.subject} sent {n} transfers each just below {line}"
            else:
                n, minimum = len(others), p.smurfing_min_sources
                reason = f"{n} senders each paid {e.subject} less than {line}"
            score = strength_score(n / minimum)
        return Finding(e.typology, tuple(sorted({e.subject, *others})),
                       tuple(tx for tx, _ in items), amounts, e.start_t, end, total,
                       e.currency, score, (reason,))  # fmt: skip


def _recent(window: Window, cutoff_t: int) -> bool:
    return bool(
        (window.ins and window.ins[-1].t >= cutoff_t)
        or (window.outs and window.outs[-1].t >= cutoff_t)
    )


def _finding(
    typology: str, accounts: Sequence[str], rows: Sequence[str], amounts: Sequence[Decimal],
    start_t: int, end_t: int, currency: str, score: float, reason: str,
) -> Finding:  # fmt: skip
    order = sorted(range(len(rows)), key=lambda i: rows[i])
    return Finding(typology, tuple(sorted(set(accounts))), tuple(rows[i] for i in order),
                   tuple(amounts[i] for i in order), start_t, end_t,
                   sum(amounts, Decimal(0)), currency, score, (reason,))  # fmt: skip


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """Findings of a typology that share a transaction, as one (the store's rule: an alert that
    meets a stored one of its typology adds to it): accounts and transactions together, the
    widest window, the highest score, the reasons of the largest."""
    groups: dict[int, list[Finding]] = {}
    owner: dict[tuple[str, str], int] = {}
    parent: list[int] = []

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    listed = list(findings)
    for i, found in enumerate(listed):
        parent.append(i)
        for tx_id in found.tx_ids:
            key = (found.typology, tx_id)
            if key in owner:
                parent[find(i)] = find(owner[key])
            else:
                owner[key] = i
    for i, found in enumerate(listed):
        groups.setdefault(find(i), []).append(found)
    merged = []
    for group in groups.values():
        if len(group) == 1:
            merged.append(group[0])
            continue
        amounts = {tx: a for f in group for tx, a in zip(f.tx_ids, f.amounts, strict=True)}
        ids = tuple(sorted(amounts))
        largest = max(group, key=lambda f: (len(f.tx_ids), f.end_t))
        merged.append(
            Finding(largest.typology, tuple(sorted({a for f in group for a in f.accounts})),
                    ids, tuple(amounts[tx] for tx in ids), min(f.start_t for f in group),
                    max(f.end_t for f in group), sum(amounts.values(), Decimal(0)),
                    largest.currency, max(f.score for f in group), largest.reasons)
        )  # fmt: skip
    return merged
