"""Consumer lending inside checkout: products, APR, schedules, servicing, collections.

Owns the loan tables; moves money only through the ledger; implements the refund policy's
``Financing`` port for financed orders. Its invariants are listed in ``embedfin.bootstrap``.
"""
