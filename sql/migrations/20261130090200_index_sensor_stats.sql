-- migrate:up
CREATE INDEX sensor_stats_sensor_idx ON sensor_stats (sensor);

-- migrate:down
DROP INDEX sensor_stats_sensor_idx;
