"""high readings view

Revision ID: 7d2e4a6c3b02
Revises: a3c5e7f9b102
Create Date: 2026-12-01 09:10:00.000000
"""

from alembic import op

revision = "7d2e4a6c3b02"
down_revision = "a3c5e7f9b102"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "CREATE VIEW alembic_high_readings AS "
        "SELECT id, sensor, value, taken_at FROM alembic_readings WHERE value > 100"
    )


def downgrade():
    op.execute("DROP VIEW alembic_high_readings")
