"""Commission by merchant category, rounded explicitly (half-up to the minor unit)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from embedfin.core.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class CommissionSchedule:
    """Commission rates in basis points (1 bp = 0.01%) by merchant category."""

    by_category_bp: Mapping[str, int] = field(
        default_factory=lambda: {"electronics": 300, "apparel": 500, "virtual": 800}
    )
    default_bp: int = 400

    def __post_init__(self) -> None:
        for rate in (*self.by_category_bp.values(), self.default_bp):
            if not 0 <= rate <= 10_000:
                raise ConfigurationError(f"commission rate {rate} bp is not within 0-10,000")

    def rate_bp(self, category: str) -> int:
        return self.by_category_bp.get(category, self.default_bp)

    def commission_minor(self, amount_minor: int, category: str) -> int:
        """Commission on ``amount_minor``: exact product, rounded half-up once, at posting."""
        exact = Decimal(amount_minor) * self.rate_bp(category) / Decimal(10_000)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
