-- migrate:up
CREATE VIEW high_readings AS
    SELECT id, sensor, value, taken_at FROM readings WHERE value > 100;

CREATE MATERIALIZED VIEW sensor_stats AS
    SELECT sensor, count(*) AS readings, max(value) AS max_value
    FROM readings
    GROUP BY sensor;

-- migrate:down
DROP MATERIALIZED VIEW sensor_stats;
DROP VIEW high_readings;
