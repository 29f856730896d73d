"""risk observations: the token, device, IP and address indexes keep only rows naming one

Revision ID: 0040_risk_compact
Revises: 0039_fundpool
Create Date: 2026-12-04 04:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040_risk_compact"
down_revision = "0039_fundpool"
branch_labels = None
depends_on = None

#: Every read of these columns asks for one value (``col = :key``), which no NULL matches.
_COLUMNS = ("token", "device", "ip", "address")


def upgrade() -> None:
    for column in _COLUMNS:
        op.drop_index(f"ix_risk_obs_{column}", table_name="risk_observations")
        op.create_index(
            f"ix_risk_obs_{column}",
            "risk_observations",
            ["tenant", column, "at"],
            unique=False,
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )


def downgrade() -> None:
    for column in _COLUMNS:
        op.drop_index(f"ix_risk_obs_{column}", table_name="risk_observations")
        op.create_index(
            f"ix_risk_obs_{column}", "risk_observations", ["tenant", column, "at"], unique=False
        )
