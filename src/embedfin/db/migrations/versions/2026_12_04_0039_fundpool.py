"""fundpool: funds, holdings, subscriptions, redemptions, accrued days, the portfolio and the
commands' request ids

Revision ID: 0039_fundpool
Revises: 0038_scf_documents
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039_fundpool"
down_revision = "0038_scf_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fundpool_assets",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("accrued_minor", sa.BigInteger(), nullable=False),
        sa.Column("bought_on", sa.String(length=10), nullable=False),
        sa.Column("matures_on", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "asset_id", name=op.f("pk_fundpool_assets")),
    )
    with op.batch_alter_table("fundpool_assets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fundpool_assets_fund", ["tenant", "fund_id", "status", "matures_on"], unique=False
        )

    op.create_table(
        "fundpool_commands",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "request_id", name=op.f("pk_fundpool_commands")),
    )
    op.create_table(
        "fundpool_days",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("income_minor", sa.BigInteger(), nullable=False),
        sa.Column("fees_minor", sa.BigInteger(), nullable=False),
        sa.Column("units_minor", sa.BigInteger(), nullable=False),
        sa.Column("holders", sa.Integer(), nullable=False),
        sa.Column("rate_nano", sa.BigInteger(), nullable=False),
        sa.Column("distributed_minor", sa.BigInteger(), nullable=False),
        sa.Column("residue_nano", sa.BigInteger(), nullable=False),
        sa.Column("per_10k", sa.String(length=24), nullable=False),
        sa.Column("yield_7d", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "fund_id", "day", name=op.f("pk_fundpool_days")),
    )
    op.create_table(
        "fundpool_funds",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("carry_method", sa.String(length=16), nullable=False),
        sa.Column("fast_cap_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_threshold", sa.String(length=16), nullable=True),
        sa.Column("fee_rate", sa.String(length=16), nullable=True),
        sa.Column("residue_nano", sa.BigInteger(), nullable=False),
        sa.Column("fees_pending_minor", sa.BigInteger(), nullable=False),
        sa.Column("accrued_through", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "fund_id", name=op.f("pk_fundpool_funds")),
    )
    op.create_table(
        "fundpool_holdings",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("holder_id", sa.String(length=64), nullable=False),
        sa.Column("units_minor", sa.BigInteger(), nullable=False),
        sa.Column("carry_nano", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "fund_id", "holder_id", name=op.f("pk_fundpool_holdings")
        ),
    )
    op.create_table(
        "fundpool_redemptions",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("redemption_id", sa.String(length=64), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("holder_id", sa.String(length=64), nullable=False),
        sa.Column("speed", sa.String(length=8), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("on_date", sa.String(length=10), nullable=False),
        sa.Column("settles_on", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "redemption_id", name=op.f("pk_fundpool_redemptions")),
    )
    with op.batch_alter_table("fundpool_redemptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fundpool_redemptions_due",
            ["tenant", "fund_id", "status", "settles_on"],
            unique=False,
        )
        batch_op.create_index(
            "ix_fundpool_redemptions_holder",
            ["tenant", "fund_id", "holder_id", "on_date"],
            unique=False,
        )

    op.create_table(
        "fundpool_subscriptions",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("subscription_id", sa.String(length=64), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("holder_id", sa.String(length=64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("on_date", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "subscription_id", name=op.f("pk_fundpool_subscriptions")
        ),
    )
    with op.batch_alter_table("fundpool_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fundpool_subscriptions_day", ["tenant", "fund_id", "on_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fundpool_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_fundpool_subscriptions_day")

    op.drop_table("fundpool_subscriptions")
    with op.batch_alter_table("fundpool_redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_fundpool_redemptions_holder")
        batch_op.drop_index("ix_fundpool_redemptions_due")

    op.drop_table("fundpool_redemptions")
    op.drop_table("fundpool_holdings")
    op.drop_table("fundpool_funds")
    op.drop_table("fundpool_days")
    op.drop_table("fundpool_commands")
    with op.batch_alter_table("fundpool_assets", schema=None) as batch_op:
        batch_op.drop_index("ix_fundpool_assets_fund")

    op.drop_table("fundpool_assets")
