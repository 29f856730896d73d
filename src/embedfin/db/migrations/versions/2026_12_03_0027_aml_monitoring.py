"""compliance: transaction monitoring — the journal, same-day totals, alerts and reports

Filed reports are immutable in the database itself: a trigger refuses any UPDATE or DELETE of a
row whose status is ``filed`` (PostgreSQL: a PL/pgSQL function; SQLite: RAISE(ABORT)).

Revision ID: 0027_aml_monitoring
Revises: 0026_aml_screening
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_aml_monitoring"
down_revision = "0026_aml_screening"
branch_labels = None
depends_on = None

_MESSAGE = "aml_reports: a filed report cannot be changed or deleted; file a correction"


def upgrade() -> None:
    op.create_table(
        "aml_settings",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("pack", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_aml_settings")),
    )
    op.create_table(
        "aml_transactions",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("tx_id", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("src", sa.String(length=96), nullable=False),
        sa.Column("dst", sa.String(length=96), nullable=False),
        sa.Column("src_kind", sa.String(length=8), nullable=False),
        sa.Column("dst_kind", sa.String(length=8), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("cross_border", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "tx_id", name=op.f("pk_aml_transactions")),
    )
    op.create_index(
        "ix_aml_transactions_time", "aml_transactions", ["tenant", "occurred_at"], unique=False
    )
    op.create_index("ix_aml_transactions_src", "aml_transactions", ["tenant", "src", "occurred_at"])
    op.create_index("ix_aml_transactions_dst", "aml_transactions", ["tenant", "dst", "occurred_at"])
    op.create_table(
        "aml_threshold_totals",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("report_key", sa.String(length=300), nullable=False),
        sa.Column("total_micros", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "report_key", name=op.f("pk_aml_threshold_totals")),
    )
    op.create_table(
        "aml_alerts",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.String(length=40), nullable=False),
        sa.Column("alert_key", sa.String(length=64), nullable=False),
        sa.Column("typology", sa.String(length=32), nullable=False),
        sa.Column("accounts", sa.Text(), nullable=False),
        sa.Column("transactions", sa.Text(), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("window_end", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "alert_id", name=op.f("pk_aml_alerts")),
        sa.UniqueConstraint("tenant", "alert_key", name="uq_aml_alerts_tenant_key"),
    )
    op.create_index("ix_aml_alerts_case", "aml_alerts", ["tenant", "case_id"], unique=False)
    op.create_table(
        "aml_reports",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.String(length=40), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=96), nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("business_day", sa.String(length=10), nullable=True),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("transactions", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("due_on", sa.String(length=10), nullable=False),
        sa.Column("calendar", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("filed_at", sa.BigInteger(), nullable=True),
        sa.Column("filed_by", sa.String(length=128), nullable=True),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("corrects", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "report_id", name=op.f("pk_aml_reports")),
        sa.UniqueConstraint("tenant", "dedupe_key", name="uq_aml_reports_tenant_key"),
    )
    op.create_index(
        "ix_aml_reports_status", "aml_reports", ["tenant", "status", "due_on"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""CREATE FUNCTION aml_reports_immutable() RETURNS trigger AS $$
            BEGIN
                IF OLD.status = 'filed' THEN
                    RAISE EXCEPTION '{_MESSAGE}';
                END IF;
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql"""
        )
        op.execute(
            "CREATE TRIGGER aml_reports_immutable BEFORE UPDATE OR DELETE ON aml_reports"
            " FOR EACH ROW EXECUTE FUNCTION aml_reports_immutable()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"""CREATE TRIGGER aml_reports_immutable_{event.lower()} BEFORE {event}
                ON aml_reports FOR EACH ROW WHEN OLD.status = 'filed'
                BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"""
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS aml_reports_immutable ON aml_reports")
        op.execute("DROP FUNCTION IF EXISTS aml_reports_immutable()")
    op.drop_index("ix_aml_reports_status", table_name="aml_reports")
    op.drop_table("aml_reports")
    op.drop_index("ix_aml_alerts_case", table_name="aml_alerts")
    op.drop_table("aml_alerts")
    op.drop_table("aml_threshold_totals")
    op.drop_index("ix_aml_transactions_dst", table_name="aml_transactions")
    op.drop_index("ix_aml_transactions_src", table_name="aml_transactions")
    op.drop_index("ix_aml_transactions_time", table_name="aml_transactions")
    op.drop_table("aml_transactions")
    op.drop_table("aml_settings")
