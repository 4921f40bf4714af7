"""reading unit column

Revision ID: a3c5e7f9b102
Revises: 5b8f2c1d9e01
Create Date: 2026-12-01 09:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "a3c5e7f9b102"
down_revision = "5b8f2c1d9e01"
branch_labels = None
depends_on = None


def upgrade():
    # ALTER TABLE ... ADD COLUMN unit TEXT DEFAULT 'celsius' NOT NULL
    op.add_column(
        "alembic_readings",
        sa.Column("unit", sa.Text, nullable=False, server_default="celsius"),
    )


def downgrade():
    # ALTER TABLE ... DROP COLUMN unit
    op.drop_column("alembic_readings", "unit")
