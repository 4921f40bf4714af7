-- Nexmark q12: Processing Time Windows. How many bids does a user make within a fixed
-- processing time limit? Counts each bidder's bids per 10-second window.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q12.sql).
-- Adaptations: RisingWave windows on a processing-time column p_time (Flink: PROCTIME()).
-- Freshet has no processing-time attribute, so the window is on the event time date_time
-- instead, as Feldera's published version does. RisingWave's blackhole sink becomes the view q12.
CREATE MATERIALIZED VIEW q12 AS
SELECT bidder, count(*) AS bid_count, window_start, window_end
FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND)
GROUP BY bidder, window_start, window_end;
