"""A writer process for the crash test: posts batches forever and logs what was acknowledged.

Usage: python -m tests.ledger.crash_writer DATABASE_URL ACK_FILE SEED

After each ``create_transfers`` returns, the ids of the transfers answered ``ok`` are appended
to ACK_FILE and fsynced, so the file never claims more than the ledger acknowledged.
"""

from __future__ import annotations

import os
import random
import sys

from embedfin.core.ids import new_id
from embedfin.ledger.service import Ledger
from embedfin.ledger.types import AMOUNT_MAX, CreateTransferResult, Transfer, TransferFlags

USD = 840
ACCOUNTS = list(range(2, 22))


def main(url: str, ack_path: str, seed: int) -> None:
    rng = random.Random(seed)
    ledger = Ledger(url)
    holds: list[int] = []
    with open(ack_path, "a", encoding="ascii") as ack:
        while True:
            batch: list[Transfer] = []
            while len(batch) < 1_000:
                dr, cr = rng.sample(ACCOUNTS, 2)
                roll = rng.random()
                if roll < 0.1:
                    batch.append(Transfer(new_id(), 1, dr, rng.randint(100, 5_000), USD, 1))
                elif roll < 0.2:
                    hold = new_id()
                    holds.append(hold)
                    batch.append(
                        Transfer(hold, dr, cr, rng.randint(1, 300), USD, 2, TransferFlags.PENDING)
                    )
                elif roll < 0.25 and holds:
                    batch.append(
                        Transfer(
                            new_id(),
                            0,
                            0,
                            AMOUNT_MAX,
                            0,
                            0,
                            TransferFlags.POST_PENDING_TRANSFER,
                            pending_id=holds.pop(0),
                        )
                    )
                elif roll < 0.3:
                    batch.append(Transfer(new_id(), dr, cr, 5, USD, 3, TransferFlags.LINKED))
                    batch.append(Transfer(new_id(), cr, dr, 2, USD, 3))
                else:
                    batch.append(Transfer(new_id(), dr, cr, rng.randint(1, 300), USD, 4))
            results = ledger.create_transfers(batch)
            done = [
                f"{t.id:032x}\n"
                for t, r in zip(batch, results, strict=True)
                if r is CreateTransferResult.OK
            ]
            ack.writelines(done)
            ack.flush()
            os.fsync(ack.fileno())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
