"""sensor stats materialized view

Revision ID: 9c4f6e8a1d03
Revises: 7d2e4a6c3b02
Create Date: 2026-12-01 09:20:00.000000
"""

from alembic import op

revision = "9c4f6e8a1d03"
down_revision = "7d2e4a6c3b02"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "CREATE MATERIALIZED VIEW alembic_sensor_stats AS "
        "SELECT sensor, count(*) AS readings, max(value) AS max_value "
        "FROM alembic_readings GROUP BY sensor"
    )
    op.create_index("alembic_sensor_stats_sensor_idx", "alembic_sensor_stats", ["sensor"])


def downgrade():
    op.drop_index("alembic_sensor_stats_sensor_idx", table_name="alembic_sensor_stats")
    op.execute("DROP MATERIALIZED VIEW alembic_sensor_stats")
