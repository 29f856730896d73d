"""Payments: wallets, escrow checkout, settlement, channels, FX and reconciliation.

Owns the ``payment_accounts`` table (which ledger account belongs to whom) and, as they land,
the payment tables. Moves money only by asking the ledger for transfers, inside one unit of work
with its own rows and domain events. Never writes the ledger's tables.
"""
