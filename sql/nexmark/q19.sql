-- Nexmark q19: Auction TOP-10 Price. What's the top price 10 bids of an auction?
-- Illustrates a TOP-N query.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q19.sql).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q19.
CREATE MATERIALIZED VIEW q19 AS
SELECT *
FROM (SELECT *,
             ROW_NUMBER() OVER (
                 PARTITION BY auction
                 ORDER BY price DESC
                 ) AS rank_number
      FROM bid)
WHERE rank_number <= 10;
