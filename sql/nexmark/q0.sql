-- Nexmark q0: Pass Through. Measures the monitoring overhead of the SQL implementation
-- including the source generator, selects every bid.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q0.sql, e2e_test/streaming/nexmark/views/q0).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q0.
-- (Flink's and Feldera's versions also select `extra`, RisingWave's does not.)
CREATE MATERIALIZED VIEW q0 AS
SELECT auction, bidder, price, date_time
FROM bid;
