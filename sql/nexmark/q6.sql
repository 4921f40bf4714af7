-- Nexmark q6: Average Selling Price by Seller. What is the average selling price per seller
-- for their last 10 closed auctions? Shares the same 'winning bids' core as q4.
-- Source: Flink's version (nexmark-flink queries/q6.sql) in the flattened form RisingWave
-- publishes as q6_group_top1 (ci/scripts/sql/nexmark/q6-group-top1.sql). Flink's own text
-- ranks in a derived table but names A and B outside their scope (it is marked "not supported
-- yet in Flink SQL"), so RisingWave's single-level subquery is used.
-- Adaptations: the winning bid is ranked ORDER BY B.price DESC as in Flink's version
-- (RisingWave's text orders ascending, which picks each auction's lowest bid, not its selling
-- price). As in both published versions the frame is ROWS BETWEEN 10 PRECEDING AND CURRENT ROW.
-- The sink becomes the materialized view q6.
-- Note: many winning bids of one seller share a date_time in the generated data, so the
-- window's ORDER BY Q.date_time leaves the frame order (and so some averages) undefined, in
-- every engine.
CREATE MATERIALIZED VIEW q6 AS
SELECT Q.seller,
       AVG(Q.final) OVER
           (PARTITION BY Q.seller ORDER BY Q.date_time ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)
           AS avg
FROM (
    SELECT ROW_NUMBER() OVER (PARTITION BY A.id, A.seller ORDER BY B.price DESC) AS rank,
           A.seller,
           B.price AS final,
           B.date_time
    FROM auction AS A, bid AS B
    WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
) AS Q
WHERE Q.rank <= 1;
