"""security: the audit log's entries name the HMAC key that chains them

Rows written before this revision keep ``key_id`` NULL: they are the legacy, unkeyed SHA-256
prefix of the chain, which ``embedfin audit verify`` still checks in the old scheme up to the
first keyed entry (see ``embedfin.security.audit_chain``). No secret is stored here.

Revision ID: 0022_audit_key_id
Revises: 0021_idempotency_claims
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_audit_key_id"
down_revision = "0021_idempotency_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("key_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("key_id")
