-- Nexmark q11: User Sessions. How many bids did a user make in each session they were
-- active? Illustrates session windows (a session ends after a 10-second gap).
-- Source: Flink's version (nexmark-flink queries/q11.sql), RisingWave and Feldera publish none.
-- Adaptations: Flink's GROUP BY SESSION(B.dateTime, INTERVAL '10' SECOND) with SESSION_START /
-- SESSION_END is written with Freshet's SESSION(rel, time_col, gap, key_col) table function,
-- keyed by bidder, whose window_start / window_end are the session's start and end (last
-- bid plus the gap, as Flink's SESSION_END). Flink's blackhole sink becomes the view q11.
CREATE MATERIALIZED VIEW q11 AS
SELECT B.bidder,
       count(*) AS bid_count,
       B.window_start AS starttime,
       B.window_end AS endtime
FROM SESSION(bid, date_time, INTERVAL '10' SECOND, bidder) AS B
GROUP BY B.bidder, B.window_start, B.window_end;
