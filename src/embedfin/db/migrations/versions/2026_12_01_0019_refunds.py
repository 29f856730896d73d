"""payments: one record per refund, split by where the money went back

Replaces ``order_refunds`` (every booked refund) and ``channel_refunds`` (refunds through a
channel) with ``refunds``: one row per refund request, whatever the reason (refund, cancel,
dispute, return, chargeback), with the share that went to the loan, the channel and the wallet.
Existing rows are carried over; refunds that older versions booked without a record (cancels and
disputes resolved for the buyer, always to the wallet) get a ``legacy:<order>`` row so that
``embedfin check`` can judge them.

Revision ID: 0019_refunds
Revises: 0018_dashboard_sessions
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_refunds"
down_revision = "0018_dashboard_sessions"
branch_labels = None
depends_on = None

_COLUMNS = (
    "tenant, request_id, order_id, reason, currency, amount_minor, loan_minor, channel_minor,"
    " wallet_minor, channel, loan_id, status, after_release, channel_ref, decline_code,"
    " created_at, updated_at"
)


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(255), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("loan_minor", sa.BigInteger, nullable=False),
        sa.Column("channel_minor", sa.BigInteger, nullable=False),
        sa.Column("wallet_minor", sa.BigInteger, nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("loan_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("after_release", sa.Integer, nullable=False),
        sa.Column("channel_ref", sa.String(64)),
        sa.Column("decline_code", sa.String(32)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.CheckConstraint(
            "amount_minor = loan_minor + channel_minor + wallet_minor"
            " AND loan_minor >= 0 AND channel_minor >= 0 AND wallet_minor >= 0",
            name=op.f("ck_refunds_split"),
        ),
        sa.Index("ix_refunds_order", "tenant", "order_id"),
    )
    op.execute(
        f"INSERT INTO refunds ({_COLUMNS})"
        " SELECT c.tenant, c.request_id, c.order_id, 'refund', c.currency,"
        " c.amount_minor + c.wallet_minor, 0, c.amount_minor, c.wallet_minor, c.channel, NULL,"
        " c.status, COALESCE(o.after_release, 0), c.channel_ref, c.decline_code, c.created_at,"
        " c.updated_at"
        " FROM channel_refunds c LEFT JOIN order_refunds o"
        " ON o.tenant = c.tenant AND o.request_id = c.request_id"
    )
    op.execute(
        f"INSERT INTO refunds ({_COLUMNS})"
        " SELECT o.tenant, o.request_id, o.order_id, 'refund', d.currency, o.amount_minor,"
        " COALESCE(e.principal_minor, 0), 0, o.amount_minor - COALESCE(e.principal_minor, 0),"
        " NULL, e.loan_id, 'succeeded', o.after_release, NULL, NULL, o.created_at, o.created_at"
        " FROM order_refunds o JOIN orders d ON d.tenant = o.tenant AND d.order_id = o.order_id"
        " LEFT JOIN loan_events e ON e.tenant = o.tenant AND e.request_id = o.request_id"
        " AND e.kind = 'refund'"
        " WHERE NOT EXISTS (SELECT 1 FROM channel_refunds c"
        " WHERE c.tenant = o.tenant AND c.request_id = o.request_id)"
    )
    op.execute(
        f"INSERT INTO refunds ({_COLUMNS})"
        " SELECT d.tenant, 'legacy:' || d.order_id, d.order_id, 'cancel', d.currency,"
        " d.refunded_minor - COALESCE(s.booked, 0), 0, 0, d.refunded_minor - COALESCE(s.booked, 0),"
        " NULL, NULL, 'succeeded', 0, NULL, NULL, d.closed_at, d.closed_at"
        " FROM orders d LEFT JOIN (SELECT tenant, order_id, SUM(amount_minor) AS booked"
        " FROM refunds WHERE status = 'succeeded' GROUP BY tenant, order_id) s"
        " ON s.tenant = d.tenant AND s.order_id = d.order_id"
        " WHERE d.refunded_minor > COALESCE(s.booked, 0)"
    )
    op.drop_table("channel_refunds")
    op.drop_table("order_refunds")


def downgrade() -> None:
    op.create_table(
        "order_refunds",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(255), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("after_release", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "channel_refunds",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(255), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("wallet_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel_ref", sa.String(64)),
        sa.Column("decline_code", sa.String(32)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Index("ix_channel_refunds_order", "tenant", "order_id"),
    )
    op.execute(
        "INSERT INTO order_refunds (tenant, request_id, order_id, amount_minor, after_release,"
        " created_at) SELECT tenant, request_id, order_id, amount_minor, after_release, created_at"
        " FROM refunds WHERE status = 'succeeded' AND request_id NOT LIKE 'legacy:%'"
    )
    op.execute(
        "INSERT INTO channel_refunds (tenant, request_id, order_id, channel, amount_minor,"
        " wallet_minor, currency, status, channel_ref, decline_code, created_at, updated_at)"
        " SELECT tenant, request_id, order_id, channel, channel_minor, wallet_minor, currency,"
        " status, channel_ref, decline_code, created_at, updated_at FROM refunds"
        " WHERE channel IS NOT NULL"
    )
    op.drop_table("refunds")
