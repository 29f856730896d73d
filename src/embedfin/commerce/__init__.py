"""Commerce: the scene finance is embedded in — merchants, orders and their lifecycle.

Owns the ``merchants``, ``orders`` and ``order_lines`` tables. Pure rules (state machines,
totals) live here; money for an order moves only through ``payments`` and the ledger.
"""
