"""The comparison ledger for PostgreSQL: one transfer per call through a PL/pgSQL function.

This is how many ledgers are built: each API request calls a stored procedure that locks the
two accounts, checks the limit, updates both balances and inserts the transfer, in its own
transaction. ``embedfin bench ledger --sp-clients N`` measures it with N concurrent clients on
the same server in the same run, so the batch ledger's figure can be read as a ratio to it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import psycopg

from embedfin.ledger.types import Transfer, TransferFlags

_FUNCTION = """
CREATE FUNCTION sp_transfer(p_id uuid, p_dr uuid, p_cr uuid, p_amount bigint, p_ledger int,
                            p_code int, p_ts bigint) RETURNS text AS $$
DECLARE
  d accounts%ROWTYPE;
  c accounts%ROWTYPE;
BEGIN
  IF p_amount <= 0 THEN RETURN 'amount_must_not_be_zero'; END IF;
  PERFORM 1 FROM accounts WHERE id IN (p_dr, p_cr) ORDER BY id FOR UPDATE;
  SELECT * INTO d FROM accounts WHERE id = p_dr;
  SELECT * INTO c FROM accounts WHERE id = p_cr;
  IF d.id IS NULL THEN RETURN 'debit_account_not_found'; END IF;
  IF c.id IS NULL THEN RETURN 'credit_account_not_found'; END IF;
  IF d.ledger <> p_ledger OR c.ledger <> p_ledger THEN RETURN 'ledger_mismatch'; END IF;
  IF EXISTS (SELECT 1 FROM transfers WHERE id = p_id) THEN RETURN 'exists'; END IF;
  IF (d.flags & 2) <> 0 AND d.debits_pending + d.debits_posted + p_amount > d.credits_posted
  THEN RETURN 'exceeds_credits'; END IF;
  UPDATE accounts SET debits_posted = debits_posted + p_amount WHERE id = p_dr;
  UPDATE accounts SET credits_posted = credits_posted + p_amount WHERE id = p_cr;
  INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, user_data_64,
                         user_data_32, timeout, ledger, code, flags, timestamp)
  VALUES (p_id, p_dr, p_cr, p_amount, 0, 0, 0, p_ledger, p_code, 0, p_ts);
  RETURN 'ok';
END $$ LANGUAGE plpgsql;
"""


def measure(dsn: str, transfers: Sequence[Transfer], clients: int) -> tuple[float, int]:
    """Post the single-phase ``transfers`` one per call from ``clients`` threads.

    Returns (transfers per second, how many were ok).
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(_FUNCTION)
    single = [t for t in transfers if not int(t.flags) & ~int(TransferFlags.LINKED) and t.amount]
    shares = [single[i::clients] for i in range(clients)]
    ok = [0] * clients
    barrier = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            barrier.wait()
            for n, t in enumerate(shares[index]):
                row = conn.execute(
                    "SELECT sp_transfer(%s::uuid, %s::uuid, %s::uuid, %s, %s, %s, %s)",
                    (
                        f"{t.id:032x}",
                        f"{t.debit_account_id:032x}",
                        f"{t.credit_account_id:032x}",
                        t.amount,
                        t.ledger,
                        t.code,
                        n,
                    ),
                ).fetchone()
                ok[index] += row is not None and row[0] == "ok"

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(single) / elapsed, sum(ok)
