-- Nexmark q17: Auction Statistics Report. How many bids on an auction are made a day, and
-- what is the price? Illustrates an unbounded group aggregation.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q17.sql).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q17.
CREATE MATERIALIZED VIEW q17 AS
SELECT auction,
       to_char(date_time, 'YYYY-MM-DD')                           AS day,
       count(*)                                                   AS total_bids,
       count(*) FILTER (WHERE price < 10000)                      AS rank1_bids,
       count(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
       count(*) FILTER (WHERE price >= 1000000)                   AS rank3_bids,
       min(price)                                                 AS min_price,
       max(price)                                                 AS max_price,
       avg(price)                                                 AS avg_price,
       sum(price)                                                 AS sum_price
FROM bid
GROUP BY to_char(date_time, 'YYYY-MM-DD'), auction;
