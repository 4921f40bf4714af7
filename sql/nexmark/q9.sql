-- Nexmark q9: Winning Bids. Find the winning bid for each auction (the highest bid made
-- between the auction's start and its expiry, earliest first on ties).
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q9.sql).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q9.
CREATE MATERIALIZED VIEW q9 AS
SELECT id,
       item_name,
       description,
       initial_bid,
       reserve,
       date_time,
       expires,
       seller,
       category,
       auction,
       bidder,
       price,
       bid_date_time
FROM (SELECT A.*,
             B.auction,
             B.bidder,
             B.price,
             B.date_time                                                                  AS bid_date_time,
             ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.date_time ASC) AS rownum
      FROM auction A,
           bid B
      WHERE A.id = B.auction
        AND B.date_time BETWEEN A.date_time AND A.expires) tmp
WHERE rownum <= 1;
