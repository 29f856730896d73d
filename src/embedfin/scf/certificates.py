"""Receivable certificates (应收账款电子凭证), pure: what may be issued, split, transferred,
discounted and settled, and the money of each step in exact minor units.

A core enterprise issues a certificate for a confirmed payable to its supplier. Its holder may
split it into parts that sum exactly to it (the parent is retired), transfer a part to its own
supplier down the tiers, or discount it with a funder for cash before maturity; at maturity the
core enterprise pays every holder what it holds.

* **Term.** The People's Bank of China and five other departments' April 2025 notice on
  regulating supply-chain finance (关于规范供应链金融业务 引导供应链信息服务机构更好服务中小企业融资
  有关事宜的通知) sets a receivable e-certificate's term at six months in principle and one year
  at most: :data:`MAX_TERM_DAYS` refuses longer ones; :func:`term_note` says when a term is past
  the six months the notice expects to be the rule.
* **Discount.** The interest a funder keeps is ``face × annual rate × days to maturity ÷ basis``
  (``basis`` 360, as Chinese bill discounting counts, or 365), rounded half-even to the minor
  unit; the holder receives the rest. Discounting is for days before maturity only.
* **Overdue.** A certificate unpaid at maturity is overdue from the next day; its holders are
  owed the face plus late interest at the overdue rate for each day late, computed the same way.

Nothing here touches a database; the service keeps certificates as ledger balances, so their
parts can never exceed the payable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from embedfin.core.errors import InvalidInput

MAX_TERM_DAYS = 365
PRINCIPLE_TERM_DAYS = 183  # six months
MAX_PARTS = 100
MAX_FACE_MINOR = 10**15
#: Annual rates above this are refused as typing errors (36% is the ceiling PRC courts apply to
#: private lending; no funder discounts a core enterprise's paper near it).
MAX_RATE = Decimal("0.36")
BASES = (360, 365)


class CertificateRefused(InvalidInput):
    code = "certificate_refused"


@dataclass(frozen=True, slots=True)
class Discount:
    days: int
    interest_minor: int
    price_minor: int


def check_face(face_minor: object) -> int:
    if isinstance(face_minor, bool) or not isinstance(face_minor, int):
        raise CertificateRefused("a certificate's face is a whole number of minor units")
    if not 0 < face_minor <= MAX_FACE_MINOR:
        raise CertificateRefused(f"a certificate's face is 1 to {MAX_FACE_MINOR:,} minor units")
    return face_minor


def check_term(issued_on: date, matures_on: date) -> int:
    """The term in days, or ``CertificateRefused`` past one year (the April 2025 notice)."""
    days = (matures_on - issued_on).days
    if days < 1:
        raise CertificateRefused("a certificate matures after the day it is issued")
    if days > MAX_TERM_DAYS:
        raise CertificateRefused(
            f"a certificate's term is at most one year ({MAX_TERM_DAYS} days), not {days}: "
            "PBoC et al., April 2025 notice on supply-chain finance"
        )
    return days


def term_note(days: int) -> str | None:
    """A warning for a term past six months (allowed, but the notice's exception)."""
    if days > PRINCIPLE_TERM_DAYS:
        return f"a term of {days} days is past the six months the April 2025 notice expects"
    return None


def split(face_minor: int, parts: list[int]) -> list[int]:
    """The parts of a split, checked: two to :data:`MAX_PARTS` positive whole amounts that sum
    exactly to the face (the parent is retired; nothing is created or lost)."""
    if not isinstance(parts, list) or not 2 <= len(parts) <= MAX_PARTS:
        raise CertificateRefused(f"a split makes 2 to {MAX_PARTS} parts")
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, int) or part <= 0:
            raise CertificateRefused("every part is a positive whole number of minor units")
    if sum(parts) != face_minor:
        raise CertificateRefused(
            f"the parts sum to {sum(parts):,}, not the certificate's {face_minor:,}"
        )
    return list(parts)


def check_rate(rate: object, name: str) -> Decimal:
    if not isinstance(rate, Decimal) or not rate.is_finite():
        raise CertificateRefused(f"the {name} is a decimal annual rate, e.g. 0.035")
    if not Decimal(0) <= rate <= MAX_RATE:
        raise CertificateRefused(f"the {name} must be between 0 and {MAX_RATE}")
    return rate


def _interest(face_minor: int, rate: Decimal, days: int, basis: int) -> int:
    if basis not in BASES:
        raise CertificateRefused(f"the day-count basis is 360 or 365, not {basis}")
    exact = Decimal(face_minor) * rate * days / basis
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def discount(
    face_minor: int, rate: Decimal, on: date, matures_on: date, basis: int = 360
) -> Discount:
    """What a funder pays for a certificate on ``on``: the face less interest to maturity."""
    days = (matures_on - on).days
    if days < 1:
        raise CertificateRefused("a certificate is discounted before its maturity date only")
    interest = _interest(check_face(face_minor), check_rate(rate, "discount rate"), days, basis)
    return Discount(days, interest, face_minor - interest)


def owed_at(
    face_minor: int, matures_on: date, on: date, overdue_rate: Decimal, basis: int = 360
) -> int:
    """What the core enterprise owes a holder of ``face_minor`` on ``on``: the face, plus late
    interest for each day past maturity."""
    late = max((on - matures_on).days, 0)
    return face_minor + _interest(check_face(face_minor), check_rate(overdue_rate, "overdue rate"),
                                  late, basis)  # fmt: skip
