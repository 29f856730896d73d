"""Reconciling the books with the outside: parsing channel and bank statements
(``statements``) and matching them against the ledger (``matching``).
"""
