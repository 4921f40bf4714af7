-- Nexmark q14: Calculation. Converts bid timestamps into types and filters by price,
-- counting the 'c' characters of `extra`. Illustrates a stateless projection with a UDF.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q14.sql).
-- Adaptations: Freshet has no user-defined functions, so RisingWave's SQL UDF
-- count_char(s, c) = LENGTH(s) - LENGTH(REPLACE(s, c, '')) is inlined as that expression.
-- RisingWave's blackhole sink becomes the view q14.
CREATE MATERIALIZED VIEW q14 AS
SELECT auction,
       bidder,
       0.908 * price AS price,
       CASE
           WHEN
               extract(hour FROM date_time) >= 8 AND
               extract(hour FROM date_time) <= 18
               THEN 'dayTime'
           WHEN
               extract(hour FROM date_time) <= 6 OR
               extract(hour FROM date_time) >= 20
               THEN 'nightTime'
           ELSE 'otherTime'
           END AS bidTimeType,
       date_time,
       LENGTH(extra) - LENGTH(REPLACE(extra, 'c', '')) AS c_counts
FROM bid
WHERE 0.908 * price > 1000000
  AND 0.908 * price < 50000000;
