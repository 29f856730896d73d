"""embedfin: an embedded-finance platform for e-commerce.

Packages: ``core`` (money, ids, clock, errors), ``db`` (engines, tables, migrations) and
``ledger`` (the double-entry ledger every other package moves money through).
"""

__version__ = "0.1.0"
