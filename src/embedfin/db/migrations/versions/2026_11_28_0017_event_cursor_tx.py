"""outbox: consumer cursors remember the transaction id as well as the position

Revision ID: 0017_event_cursor_tx
Revises: 0016_aftersales
Create Date: 2026-11-28

On PostgreSQL events are read in (transaction id, position) order (see core/events.py); a cursor
saved before this revision gets the transaction id of the event it points at.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_event_cursor_tx"
down_revision = "0016_aftersales"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_cursors") as batch:
        batch.add_column(sa.Column("tx_id", sa.BigInteger, nullable=False, server_default="0"))
    op.execute(
        "UPDATE event_cursors SET tx_id = COALESCE((SELECT e.tx_id FROM outbox_events e"
        " WHERE e.position = event_cursors.position), 0)"
    )
    op.create_index("ix_outbox_events_tx_position", "outbox_events", ["tx_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_outbox_events_tx_position", "outbox_events")
    with op.batch_alter_table("event_cursors") as batch:
        batch.drop_column("tx_id")
