"""Supply-chain finance: receivable certificates a core enterprise issues down its supply chain
(issue 15; order and inventory financing are still to come).

Owns the ``scf_*`` tables and the ledger block of certificates (``chart.py``); appends every
certificate event to the tenant's verifiable ``scf`` log (``transparency``) in the command's
unit of work. ``certificates.py`` (the rules) and ``chart.py`` are pure; ``store.py`` maps the
rows, ``book.py`` the ledger legs, ``service.py`` the commands, ``check.py`` the invariants.
It moves money only through ledger transfers with its own codes, and never writes another
context's tables.
"""
