"""create readings

Revision ID: 5b8f2c1d9e01
Revises:
Create Date: 2026-12-01 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "5b8f2c1d9e01"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # An integer primary key: SQLAlchemy declares it BIGSERIAL (a sequence owned by the column).
    op.create_table(
        "alembic_readings",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("sensor", sa.Text, nullable=False),
        sa.Column("value", sa.Numeric(10, 2), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("alembic_readings_sensor_idx", "alembic_readings", ["sensor"])


def downgrade():
    op.drop_index("alembic_readings_sensor_idx", table_name="alembic_readings")
    op.drop_table("alembic_readings")
