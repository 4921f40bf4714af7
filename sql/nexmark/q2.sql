-- Nexmark q2: Selection. Find bids with specific auction ids and show their bid price.
-- Illustrates a simple filter.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q2.sql), which lists five auction ids
-- instead of Flink's `MOD(auction, 123) = 0`.
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q2.
CREATE MATERIALIZED VIEW q2 AS
SELECT auction, price
FROM bid
WHERE auction = 1007
   OR auction = 1020
   OR auction = 2001
   OR auction = 2019
   OR auction = 2087;
