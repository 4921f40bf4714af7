"""fails halfway (used only by tests/clients/alembic_client.py)

It creates a table and drops a view, then fails with a division by zero (SQLSTATE 22012),
so the transaction alembic runs the upgrade in must leave no trace of either, nor of the
revisions run before it in the same upgrade.

Revision ID: f5c2d8e0a105
Revises: e3a1b5c7d904
Create Date: 2026-12-01 09:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "f5c2d8e0a105"
down_revision = "e3a1b5c7d904"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("alembic_doomed", sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
    op.execute("DROP VIEW alembic_high_readings")
    op.execute("SELECT 1 / 0")


def downgrade():
    op.drop_table("alembic_doomed")
