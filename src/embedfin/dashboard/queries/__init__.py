"""What the dashboard shows: a read model over several contexts, for one tenant (read-only).

Every figure comes from the same rows the services write, read here so that no route function
holds SQL: orders for GMV and settlement timing (``sales``), ledger balances for escrow and
safeguarding (``safeguarding``), payment attempts, wallet movements and payouts (``payments``),
loans (``credit``), the outbox (``events``) and the invariant checker (``health``); the pages'
records are composed from them (``overview``, ``merchant``, ``bill``). Where an owning service
already answers a question (an order, a merchant, an account's balance), the query asks it
instead of reading its tables. Amounts are integer minor units per currency; nothing is
converted.
"""
