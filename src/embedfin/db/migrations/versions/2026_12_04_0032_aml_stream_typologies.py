"""compliance: streaming typologies — the tenant's parameters, the stream's state, and which
alert each transaction is in (existing alerts' transactions filled in)

Revision ID: 0032_aml_stream_typologies
Revises: 0030_scf_certificates
Create Date: 2026-12-04
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0032_aml_stream_typologies"
down_revision = "0030_scf_certificates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    links = op.create_table(
        "aml_alert_transactions",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("typology", sa.String(length=32), nullable=False),
        sa.Column("tx_id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "typology", "tx_id", "alert_id", name=op.f("pk_aml_alert_transactions")
        ),
    )
    op.create_table(
        "aml_typology_params",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_aml_typology_params")),
    )
    op.create_table(
        "aml_stream_state",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("params_digest", sa.String(length=64), nullable=False),
        sa.Column("since_t", sa.BigInteger(), nullable=False),
        sa.Column("through_t", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_aml_stream_state")),
    )
    op.create_table(
        "aml_stream_paths",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("path_id", sa.String(length=40), nullable=False),
        sa.Column("expires_t", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "path_id", name=op.f("pk_aml_stream_paths")),
    )
    op.create_index(
        "ix_aml_stream_paths_expiry", "aml_stream_paths", ["tenant", "expires_t"], unique=False
    )
    op.create_table(
        "aml_stream_episodes",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("typology", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=96), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expires_t", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "typology", "subject", "currency", name=op.f("pk_aml_stream_episodes")
        ),
    )
    op.create_index(
        "ix_aml_stream_episodes_expiry",
        "aml_stream_episodes",
        ["tenant", "expires_t"],
        unique=False,
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT tenant, alert_id, typology, transactions FROM aml_alerts")
    ).all()
    found = {
        (tenant, typology, tx_id, alert_id)
        for tenant, alert_id, typology, transactions in rows
        for tx_id in json.loads(transactions)
    }
    if found:
        op.bulk_insert(
            links,
            [{"tenant": a, "typology": b, "tx_id": c, "alert_id": d} for a, b, c, d in found],
        )


def downgrade() -> None:
    op.drop_index("ix_aml_stream_episodes_expiry", table_name="aml_stream_episodes")
    op.drop_table("aml_stream_episodes")
    op.drop_index("ix_aml_stream_paths_expiry", table_name="aml_stream_paths")
    op.drop_table("aml_stream_paths")
    op.drop_table("aml_stream_state")
    op.drop_table("aml_typology_params")
    op.drop_table("aml_alert_transactions")
