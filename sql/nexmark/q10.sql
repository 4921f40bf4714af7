-- Nexmark q10: Log to File System. Log all events to a file system, partitioned by date and
-- time of day. Illustrates windows streaming data into a partitioned file system.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q10.sql).
-- Adaptations: RisingWave's blackhole CREATE SINK (Flink's partitioned filesystem sink)
-- becomes the materialized view q10 over the same SELECT, the partition columns are
-- computed with TO_CHAR exactly as RisingWave publishes them ('HH:MI', as written there).
CREATE MATERIALIZED VIEW q10 AS
SELECT auction,
       bidder,
       price,
       date_time,
       TO_CHAR(date_time, 'YYYY-MM-DD') AS date,
       TO_CHAR(date_time, 'HH:MI')      AS time
FROM bid;
