"""taken_at index, with a wrong downgrade (used only by tests/clients/alembic_client.py)

Its upgrade works; its downgrade drops the index and then the table, forgetting the views
that still read it, so the DROP TABLE fails (SQLSTATE 2BP01) and the transaction alembic
runs the downgrade in must keep the index too.

Revision ID: e3a1b5c7d904
Revises: 9c4f6e8a1d03
Create Date: 2026-12-01 09:30:00.000000
"""

from alembic import op

revision = "e3a1b5c7d904"
down_revision = "9c4f6e8a1d03"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("alembic_readings_taken_idx", "alembic_readings", ["taken_at"])


def downgrade():
    op.drop_index("alembic_readings_taken_idx", table_name="alembic_readings")
    op.drop_table("alembic_readings")
