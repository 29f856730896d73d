"""transparency: the verifiable log — logs, entries, complete nodes, checkpoints, cosignatures

Entries and nodes are immutable in the database itself: triggers refuse any UPDATE or DELETE
(PostgreSQL: a PL/pgSQL function; SQLite: RAISE(ABORT)). A log that changed a past entry would
show anyway — its old checkpoints would not verify — but the store refuses to be the way.

Revision ID: 0029_transparency_log
Revises: 0028_aml_diligence
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029_transparency_log"
down_revision = "0028_aml_diligence"
branch_labels = None
depends_on = None

_IMMUTABLE = ("tlog_entries", "tlog_nodes")
_MESSAGE = "a log entry or node cannot be changed or deleted"


def upgrade() -> None:
    op.create_table(
        "tlog_logs",
        sa.Column("log_key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("log_id", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log_key", name=op.f("pk_tlog_logs")),
        sa.UniqueConstraint("origin", name=op.f("uq_tlog_logs_origin")),
        sa.UniqueConstraint("tenant", "log_id", name="uq_tlog_logs_tenant_log"),
    )
    op.create_table(
        "tlog_entries",
        sa.Column("log_key", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("appended_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log_key", "idx", name=op.f("pk_tlog_entries")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "tlog_nodes",
        sa.Column("log_key", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("log_key", "level", "idx", name=op.f("pk_tlog_nodes")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "tlog_checkpoints",
        sa.Column("log_key", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log_key", "size", name=op.f("pk_tlog_checkpoints")),
    )
    op.create_table(
        "tlog_cosignatures",
        sa.Column("log_key", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log_key", "size", "witness", name=op.f("pk_tlog_cosignatures")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""CREATE FUNCTION tlog_immutable() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '%: {_MESSAGE}', TG_TABLE_NAME;
            END $$ LANGUAGE plpgsql"""
        )
        for table in _IMMUTABLE:
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION tlog_immutable()"
            )
    else:
        for table in _IMMUTABLE:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"""CREATE TRIGGER {table}_immutable_{event.lower()} BEFORE {event}
                    ON {table} FOR EACH ROW
                    BEGIN SELECT RAISE(ABORT, '{table}: {_MESSAGE}'); END"""
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _IMMUTABLE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tlog_immutable()")
    op.drop_table("tlog_cosignatures")
    op.drop_table("tlog_checkpoints")
    op.drop_table("tlog_nodes")
    op.drop_table("tlog_entries")
    op.drop_table("tlog_logs")
