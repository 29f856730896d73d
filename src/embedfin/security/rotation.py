"""Re-encrypt every encrypted field under the primary data key (``embedfin keys rotate-data``).

Run after putting a new key first in ``EMBEDFIN_DATA_KEYS`` (old keys stay listed until this has
finished); afterwards the old key can be removed.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from embedfin.api.webhooks import secrets_context
from embedfin.commerce.customers import rotate_customers
from embedfin.compliance.aml.service import rotate_parties
from embedfin.db.tables import merchant_bank_accounts, wallet_movements, webhook_endpoints
from embedfin.payments.payouts.batches import bank_token_context
from embedfin.payments.wallets import bank_token_context as movement_context
from embedfin.security.crypto import FieldCipher, load_cipher


def rotate_all(conn: Connection, cipher: FieldCipher | None = None) -> int:
    cipher = cipher or load_cipher()
    changed = rotate_customers(conn, cipher) + rotate_parties(conn, cipher)
    t = merchant_bank_accounts
    for row in conn.execute(select(t)).all():
        if cipher.needs_rotation(row.bank_token):
            context = bank_token_context(row.tenant, row.merchant_id)
            conn.execute(
                update(t)
                .where(t.c.tenant == row.tenant, t.c.merchant_id == row.merchant_id)
                .values(bank_token=cipher.rotate(row.bank_token, context))
            )
            changed += 1
    w = wallet_movements
    for row in conn.execute(select(w).where(w.c.bank_token.is_not(None))).all():
        if cipher.needs_rotation(row.bank_token):
            context = movement_context(row.tenant, row.transfer_id)
            conn.execute(
                update(w)
                .where(w.c.transfer_id == row.transfer_id)
                .values(bank_token=cipher.rotate(row.bank_token, context))
            )
            changed += 1
    e = webhook_endpoints
    for row in conn.execute(select(e)).all():
        if cipher.needs_rotation(row.secrets_enc):
            context = secrets_context(row.endpoint_id)
            conn.execute(
                update(e)
                .where(e.c.endpoint_id == row.endpoint_id)
                .values(secrets_enc=cipher.rotate(row.secrets_enc, context))
            )
            changed += 1
    return changed
