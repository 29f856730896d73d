"""Sanctions and PEP screening: does a party's name match an entry of a watchlist, and why.

A list is a FollowTheMoney file (``watchlist.read_ftm``: one entity per line, the format of
OpenSanctions' ``entities.ftm.json``). A party (:class:`Subject`) is compared with every name and
alias of every person or organisation on it:

1. **Names** (``names.normal_form``: transliterated, folded, without titles and legal forms) are
   compared with Jaro–Winkler similarity (rapidfuzz) by three rules, the best counting:
   *spelling* (the whole names, spaces ignored), *word order* (the same with the words rotated
   or sorted — family name first or last), and *tokens* (word by word, each of the shorter
   name's words against its best partner in the longer one, a missing middle name costing a
   little: ``score × (0.8 + 0.2 × shorter/longer)``; names of two words or more).
2. **Tie-breakers** move the name score: a date of birth the entry lists (to its precision:
   a year, a month or a day) adds ``dob_match``; one whose year differs from all the entry's
   takes ``dob_year_mismatch`` off (a same-year different day ``dob_day_mismatch``); the
   party's country among the entry's countries adds ``country_match``, one outside them takes
   ``country_mismatch`` off. Only a name already at ``name_floor`` or above can become a hit.
3. A **hit** is a final score at ``threshold`` or above, with the reasons that made it.

Persons are compared with person entries and organisations with organisation entries; a party
of unknown kind with both. Pure: no I/O; the service around it is ``screening_service``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from embedfin.compliance.aml.names import NameForm, normal_form
from embedfin.core.errors import InvalidInput

PartyKind = Literal["person", "organization"]
PERSON_SCHEMAS = frozenset({"Person"})
ORGANIZATION_SCHEMAS = frozenset({"Organization", "Company", "LegalEntity", "PublicBody"})


@dataclass(frozen=True, slots=True)
class ScreeningParams:
    """The thresholds of a screening; every one configurable (``from_mapping``)."""

    threshold: float = 0.90
    name_floor: float = 0.85
    dob_match: float = 0.05
    dob_day_mismatch: float = 0.05
    dob_year_mismatch: float = 0.15
    country_match: float = 0.02
    country_mismatch: float = 0.05

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"screening {name} must be a number")
            if not 0.0 <= float(value) <= 1.0:
                raise InvalidInput(f"screening {name} must be between 0 and 1, not {value}")
        if self.name_floor > self.threshold:
            raise InvalidInput("screening name_floor must not be above threshold")

    @classmethod
    def from_mapping(cls, values: dict[str, object]) -> ScreeningParams:
        unknown = set(values) - set(cls.__slots__)
        if unknown:
            raise InvalidInput(f"unknown screening parameters: {', '.join(sorted(unknown))}")
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class WatchEntry:
    """One person or organisation on a list (FollowTheMoney properties, flattened).

    Attributes:
        topics: FollowTheMoney topics (``sanction``, ``role.pep``, ``crime``, …).
        birth_dates: ISO dates to their precision (``1961``, ``1961-02``, ``1961-02-03``).
        countries: ISO 3166-1 alpha-2 codes, lower-case.
    """

    entity_id: str
    schema: str
    caption: str
    names: tuple[str, ...]
    birth_dates: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()

    @property
    def category(self) -> str:
        """``sanction``, ``pep`` or ``watchlist`` (what a hit on it means)."""
        if any(t.startswith(("sanction", "export.control")) for t in self.topics):
            return "sanction"
        if any(t in ("role.pep", "role.rca") for t in self.topics):
            return "pep"
        return "watchlist"

    @property
    def kind(self) -> PartyKind | None:
        if self.schema in PERSON_SCHEMAS:
            return "person"
        if self.schema in ORGANIZATION_SCHEMAS:
            return "organization"
        return None


@dataclass(frozen=True, slots=True)
class Subject:
    """The party screened: its name, and what breaks ties.

    Attributes:
        birth_date: ``YYYY-MM-DD`` (persons), or ``None``.
        country: ISO 3166-1 alpha-2, or ``None``.
        kind: ``person``, ``organization``, or ``None`` (compared with both).
    """

    name: str
    birth_date: str | None = None
    country: str | None = None
    kind: PartyKind | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """A match at or above the threshold, and why.

    Attributes:
        score: the final score (name score with the tie-breakers), 0..1.
        name_score: the best name similarity, and ``rule`` the rule that gave it.
        matched_name: the list's name (or alias) that matched.
        reasons: one sentence per step of the score, for the analyst.
    """

    entity_id: str
    caption: str
    category: str
    score: float
    name_score: float
    rule: str
    matched_name: str
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "entity_id": self.entity_id,
            "caption": self.caption,
            "category": self.category,
            "score": self.score,
            "name_score": self.name_score,
            "rule": self.rule,
            "matched_name": self.matched_name,
            "reasons": list(self.reasons),
        }


def _jw(a: str, b: str) -> float:
    return float(JaroWinkler.similarity(a, b))


def _rotations(tokens: tuple[str, ...]) -> list[str]:
    return ["".join(tokens[i:] + tokens[:i]) for i in range(1, len(tokens))]


def _token_score(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 2:
        return 0.0
    left = list(long)
    total = 0.0
    for token in short:
        best = max(range(len(left)), key=lambda i: _jw(token, left[i]))
        total += _jw(token, left.pop(best))
    return total / len(short) * (0.8 + 0.2 * len(short) / len(long))


def name_similarity(a: NameForm, b: NameForm) -> tuple[float, str]:
    """The best of the three rules, and its name."""
    if not a.tokens or not b.tokens:
        return 0.0, "spelling"
    scores = [(_jw(a.joined, b.joined), "spelling")]
    reordered = [_jw(a.ordered, b.ordered)]
    reordered += [_jw(r, b.joined) for r in _rotations(a.tokens)]
    reordered += [_jw(a.joined, r) for r in _rotations(b.tokens)]
    scores.append((max(reordered), "word order"))
    scores.append((_token_score(a.tokens, b.tokens), "tokens"))
    best = max(score for score, _ in scores)
    return best, next(rule for score, rule in scores if score == best)


def _date_adjustment(
    subject: Subject, entry: WatchEntry, params: ScreeningParams
) -> tuple[float, str | None]:
    if subject.birth_date is None or not entry.birth_dates:
        return 0.0, None
    listed = ", ".join(entry.birth_dates)
    if any(subject.birth_date.startswith(d) for d in entry.birth_dates):
        return params.dob_match, f"birth date {subject.birth_date} fits the listed {listed}"
    if any(subject.birth_date[:4] == d[:4] for d in entry.birth_dates):
        return -params.dob_day_mismatch, (
            f"birth date {subject.birth_date}: same year as the listed {listed}, another day"
        )
    return -params.dob_year_mismatch, f"birth date {subject.birth_date}, listed {listed}"


def _country_adjustment(
    subject: Subject, entry: WatchEntry, params: ScreeningParams
) -> tuple[float, str | None]:
    if subject.country is None or not entry.countries:
        return 0.0, None
    country = subject.country.lower()
    listed = ", ".join(entry.countries)
    if country in entry.countries:
        return params.country_match, f"country {country} is listed ({listed})"
    return -params.country_mismatch, f"country {country}, listed {listed}"


def _kinds_meet(subject: Subject, entry: WatchEntry) -> bool:
    return subject.kind is None or entry.kind is None or subject.kind == entry.kind


@dataclass(slots=True)
class Watchlist:
    """A list ready to screen against: every name of every entry in normal form."""

    entries: Sequence[WatchEntry]
    params: ScreeningParams = field(default_factory=ScreeningParams)
    _forms: list[NameForm] = field(init=False, repr=False)
    _owners: list[int] = field(init=False, repr=False)
    _names: list[str] = field(init=False, repr=False)
    _joined: list[str] = field(init=False, repr=False)
    _ordered: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._forms, self._owners, self._names = [], [], []
        for index, entry in enumerate(self.entries):
            for name in entry.names:
                form = normal_form(name)
                if form.tokens:
                    self._forms.append(form)
                    self._owners.append(index)
                    self._names.append(name)
        self._joined = [f.joined for f in self._forms]
        self._ordered = [f.ordered for f in self._forms]

    def _candidates(self, form: NameForm) -> set[int]:
        """The names close enough on a whole-string measure to be worth every rule (the
        rapidfuzz scan in C; a generous cut so no rule's match is lost)."""
        cutoff = max(0.0, self.params.name_floor - 0.2)
        found: set[int] = set()
        for query, choices in ((form.joined, self._joined), (form.ordered, self._ordered)):
            for _, _, index in process.extract(
                query, choices, scorer=JaroWinkler.similarity, score_cutoff=cutoff, limit=None
            ):
                found.add(index)
        return found

    def screen(self, subject: Subject) -> list[Hit]:
        """Every entry the subject hits, best first (one hit per entry: its best name)."""
        form = normal_form(subject.name)
        if not form.tokens:
            raise InvalidInput("a screened name needs at least one letter or digit")
        best: dict[int, tuple[float, str, int]] = {}
        for index in self._candidates(form):
            owner = self._owners[index]
            if not _kinds_meet(subject, self.entries[owner]):
                continue
            score, rule = name_similarity(form, self._forms[index])
            if owner not in best or score > best[owner][0]:
                best[owner] = (score, rule, index)
        hits = [
            hit
            for owner, (score, rule, index) in best.items()
            if (hit := self._hit(subject, self.entries[owner], score, rule, index)) is not None
        ]
        return sorted(hits, key=lambda h: (-h.score, h.entity_id))

    def _hit(
        self, subject: Subject, entry: WatchEntry, name_score: float, rule: str, index: int
    ) -> Hit | None:
        if name_score < self.params.name_floor:
            return None
        matched = self._names[index]
        reasons = [f"name {subject.name!r} ~ {matched!r}: {rule} similarity {name_score:.3f}"]
        score = name_score
        for adjust, reason in (
            _date_adjustment(subject, entry, self.params),
            _country_adjustment(subject, entry, self.params),
        ):
            if reason is not None:
                score += adjust
                reasons.append(f"{reason} ({adjust:+.2f})")
        score = min(1.0, max(0.0, score))
        if score < self.params.threshold:
            return None
        reasons.append(
            f"score {score:.3f} ≥ threshold {self.params.threshold:.2f}: "
            f"{entry.category} entry {entry.entity_id}"
        )
        return Hit(
            entry.entity_id,
            entry.caption,
            entry.category,
            round(score, 4),
            round(name_score, 4),
            rule,
            matched,
            tuple(reasons),
        )

    def screen_all(self, subjects: Iterable[Subject]) -> list[list[Hit]]:
        return [self.screen(s) for s in subjects]
