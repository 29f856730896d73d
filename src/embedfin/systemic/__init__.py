"""Systemic risk: how a loss at one party travels to the others.

Owns the exposure network (who owes whom, from the books: ``exposures.py`` maps balances to
nodes and edges, ``export.py`` writes and reads them as Parquet) and the contagion models that
run on it: Eisenberg–Noe clearing and its Rogers–Veraart extension with default costs
(``clearing.py``), and DebtRank (``debtrank.py``), all on a validated ``network.py``. The models
are pure: numbers in, payments, defaults and stress out — exact fractions for the small
published examples, sparse float64 for networks of many thousand nodes.

Must not touch: money, or any other context's tables. The books are read through the ledger
and the owners' read models (``payments.accounts``, lending's and supply-chain finance's
services); nothing here writes to the database. Its ledger block (accounts 6000–6999,
transfers 10000–10999 as reserved in ``ledger/chart.py``) stays unused until stress scenarios
book anything.
"""
