-- Nexmark q5: Hot Items. Which auctions have seen the most bids in the last period?
-- Illustrates sliding windows and combiners (10-second windows sliding every 2 seconds).
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q5.sql).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q5.
CREATE MATERIALIZED VIEW q5 AS
SELECT AuctionBids.auction, AuctionBids.num
FROM (
    SELECT bid.auction,
           count(*) AS num,
           window_start AS starttime
    FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
    GROUP BY bid.auction,
             window_start
) AS AuctionBids
JOIN (
    SELECT max(CountBids.num) AS maxn,
           CountBids.starttime_c
    FROM (
        SELECT count(*) AS num,
               window_start AS starttime_c
        FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
        GROUP BY bid.auction,
                 window_start
    ) AS CountBids
    GROUP BY CountBids.starttime_c
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime_c AND
   AuctionBids.num >= MaxBids.maxn;
