-- Nexmark q18: Find last bid. What's a's last bid for bidder to auction? Illustrates a
-- deduplication query (the latest bid per bidder and auction).
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q18.sql).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q18.
CREATE MATERIALIZED VIEW q18 AS
SELECT auction, bidder, price, channel, url, date_time
FROM (SELECT *,
             ROW_NUMBER() OVER (
                 PARTITION BY bidder, auction
                 ORDER BY date_time DESC
                 ) AS rank_number
      FROM bid)
WHERE rank_number <= 1;
