"""risk: rule-set versions, decisions, online signals, challenges, cases; orders' risk hold

Revision ID: 0023_risk
Revises: 0022_audit_key_id
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_risk"
down_revision = "0022_audit_key_id"
branch_labels = None
depends_on = None

TABLES = (
    "risk_case_events",
    "risk_cases",
    "risk_challenges",
    "risk_decisions",
    "risk_links",
    "risk_observations",
    "risk_rule_sets",
)


def upgrade() -> None:
    op.create_table(
        "risk_case_events",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "case_id", "seq", name=op.f("pk_risk_case_events")),
    )
    op.create_table(
        "risk_cases",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("decision_id", sa.String(length=64), nullable=True),
        sa.Column("buyer_id", sa.String(length=64), nullable=True),
        sa.Column("merchant_id", sa.String(length=64), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("assignee", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_reason", sa.String(length=500), nullable=True),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "case_id", name=op.f("pk_risk_cases")),
    )
    op.create_index("ix_risk_cases_order", "risk_cases", ["tenant", "order_id"], unique=False)
    op.create_index(
        "ix_risk_cases_queue", "risk_cases", ["tenant", "status", "due_at"], unique=False
    )
    op.create_table(
        "risk_challenges",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("challenge_id", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "challenge_id", name=op.f("pk_risk_challenges")),
    )
    op.create_index(
        "ix_risk_challenges_reference", "risk_challenges", ["tenant", "reference"], unique=False
    )
    op.create_table(
        "risk_decisions",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=True),
        sa.Column("merchant_id", sa.String(length=64), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_method", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("live_hits", sa.Text(), nullable=False),
        sa.Column("shadow_hits", sa.Text(), nullable=False),
        sa.Column("rule_set_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "decision_id", name=op.f("pk_risk_decisions")),
    )
    op.create_index(
        "ix_risk_decisions_created", "risk_decisions", ["tenant", "created_at"], unique=False
    )
    op.create_index(
        "ix_risk_decisions_reference", "risk_decisions", ["tenant", "reference"], unique=False
    )
    op.create_table(
        "risk_links",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_key", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=72), nullable=False),
        sa.Column("first_at", sa.BigInteger(), nullable=False),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "entity", "entity_key", "account", name=op.f("pk_risk_links")
        ),
    )
    op.create_index(
        "ix_risk_links_account",
        "risk_links",
        ["tenant", "account", "entity", "last_at"],
        unique=False,
    )
    op.create_table(
        "risk_observations",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("observation_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("payment_method", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=True),
        sa.Column("merchant_id", sa.String(length=64), nullable=True),
        sa.Column("token", sa.String(length=32), nullable=True),
        sa.Column("device", sa.String(length=32), nullable=True),
        sa.Column("ip", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "observation_id", name=op.f("pk_risk_observations")),
    )
    op.create_index(
        "ix_risk_obs_address", "risk_observations", ["tenant", "address", "at"], unique=False
    )
    op.create_index("ix_risk_obs_at", "risk_observations", ["at"], unique=False)
    op.create_index(
        "ix_risk_obs_buyer", "risk_observations", ["tenant", "buyer_id", "at"], unique=False
    )
    op.create_index(
        "ix_risk_obs_device", "risk_observations", ["tenant", "device", "at"], unique=False
    )
    op.create_index("ix_risk_obs_ip", "risk_observations", ["tenant", "ip", "at"], unique=False)
    op.create_index(
        "ix_risk_obs_merchant", "risk_observations", ["tenant", "merchant_id", "at"], unique=False
    )
    op.create_index(
        "ix_risk_obs_token", "risk_observations", ["tenant", "token", "at"], unique=False
    )
    op.create_table(
        "risk_rule_sets",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("change", sa.String(length=300), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("backtest", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "version", name=op.f("pk_risk_rule_sets")),
    )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("risk_hold", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("risk_hold")
    for table in TABLES:
        op.drop_table(table)
