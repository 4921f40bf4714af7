-- Nexmark q1: Currency Conversion. Convert each bid value from dollars to euros.
-- Illustrates a simple transformation.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q1.sql).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q1.
CREATE MATERIALIZED VIEW q1 AS
SELECT auction,
       bidder,
       0.908 * price AS price,
       date_time
FROM bid;
