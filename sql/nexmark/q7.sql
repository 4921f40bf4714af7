-- Nexmark q7: Highest Bid. What are the highest bids per period (10-second windows)?
-- Deliberately implemented using a side input to illustrate fanout.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q7.sql).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q7.
CREATE MATERIALIZED VIEW q7 AS
SELECT B.auction,
       B.price,
       B.bidder,
       B.date_time
FROM bid B
         JOIN (SELECT MAX(price) AS maxprice,
                      window_end AS date_time
               FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND)
               GROUP BY window_end) B1 ON B.price = B1.maxprice
WHERE B.date_time BETWEEN B1.date_time - INTERVAL '10' SECOND
          AND B1.date_time;
