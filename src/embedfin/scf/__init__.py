"""Supply-chain finance: receivable certificates a core enterprise issues down its supply chain,
order and inventory financing (issue 15, being built). Owns the ``scf_*`` tables and the ledger
block of certificates; appends every certificate event to the tenant's verifiable ``scf`` log
(``transparency``). ``certificates.py`` is pure.
"""
