-- Change detection: sensors whose latest reading differs from the one before it.
--
-- Readings arrive in a table (from any writer). For each sensor the view compares the
-- newest reading with the previous one and keeps the sensors whose value changed, with
-- both values; it updates as soon as a new reading lands.
-- Try: INSERT INTO readings VALUES ('s1', now(), 22.0); SELECT * FROM changed_sensors;

CREATE TABLE readings (sensor text NOT NULL, at timestamptz NOT NULL, value numeric(10,2));

CREATE VIEW ranked_readings AS
SELECT sensor, at, value,
       row_number() OVER (PARTITION BY sensor ORDER BY at DESC) AS recency
FROM readings;

CREATE MATERIALIZED VIEW changed_sensors AS
SELECT cur.sensor, prev.value AS previous_value, cur.value AS current_value, cur.at AS changed_at
FROM ranked_readings cur
JOIN ranked_readings prev ON prev.sensor = cur.sensor
WHERE cur.recency = 1 AND prev.recency = 2 AND cur.value IS DISTINCT FROM prev.value;

INSERT INTO readings VALUES
  ('s1', '2026-01-01 10:00:00+00', 21.5),
  ('s1', '2026-01-01 10:01:00+00', 21.5),
  ('s2', '2026-01-01 10:00:00+00', 18.0),
  ('s2', '2026-01-01 10:01:00+00', 19.25);
