"""The merchant category catalogue: the categories a merchant may register under.

A category decides the commission rate (``payments.fees.CommissionSchedule``: electronics,
apparel and virtual goods have their own rates, the others the default) and which credit plans
are offered (``lending.products``: ``electronics_12_free``). A category outside the catalogue
is a typo ("bookz") that would silently fall back to the default rate and miss every
category-bound plan, so the API refuses it. Extend the catalogue here when a new rate or plan
needs a new category.
"""

from __future__ import annotations

MERCHANT_CATEGORIES: tuple[str, ...] = (
    "apparel",
    "beauty",
    "books",
    "electronics",
    "food",
    "home",
    "sports",
    "toys",
    "virtual",
)


def is_merchant_category(category: str) -> bool:
    return category in MERCHANT_CATEGORIES
