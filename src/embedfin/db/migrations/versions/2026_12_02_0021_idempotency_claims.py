"""api: Idempotency-Keys claimed in the database before the effect (state, owner, lease)

Revision ID: 0021_idempotency_claims
Revises: 0020_parked_events
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_idempotency_claims"
down_revision = "0020_parked_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("state", sa.String(8), nullable=False, server_default="done"))
        batch.add_column(sa.Column("owner", sa.String(32)))
        batch.add_column(sa.Column("lease_until", sa.BigInteger))
        batch.alter_column("status_code", existing_type=sa.Integer, nullable=True)
        batch.alter_column("response_body", existing_type=sa.Text, nullable=True)
        batch.create_check_constraint(
            op.f("ck_idempotency_keys_answered"),
            "state = 'running' OR (status_code IS NOT NULL AND response_body IS NOT NULL)",
        )
        batch.create_check_constraint(
            op.f("ck_idempotency_keys_state"), "state IN ('running', 'done')"
        )


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys WHERE state = 'running'")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_constraint(op.f("ck_idempotency_keys_state"), type_="check")
        batch.drop_constraint(op.f("ck_idempotency_keys_answered"), type_="check")
        batch.alter_column("response_body", existing_type=sa.Text, nullable=False)
        batch.alter_column("status_code", existing_type=sa.Integer, nullable=False)
        batch.drop_column("lease_until")
        batch.drop_column("owner")
        batch.drop_column("state")
