-- Nexmark q15: Bidding Statistics Report. How many distinct users join the bidding for
-- different levels of price? Illustrates multiple distinct aggregations with filters.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q15.sql).
-- Adaptations: RisingWave's SET rw_force_split_distinct_agg / rw_force_two_phase_agg planner
-- settings are dropped (RisingWave-specific, no effect on the result), its blackhole sink
-- becomes the view q15.
CREATE MATERIALIZED VIEW q15 AS
SELECT to_char(date_time, 'YYYY-MM-DD')                                          AS "day",
       count(*)                                                                  AS total_bids,
       count(*) FILTER (WHERE price < 10000)                                     AS rank1_bids,
       count(*) FILTER (WHERE price >= 10000 AND price < 1000000)                AS rank2_bids,
       count(*) FILTER (WHERE price >= 1000000)                                  AS rank3_bids,
       count(DISTINCT bidder)                                                    AS total_bidders,
       count(DISTINCT bidder) FILTER (WHERE price < 10000)                       AS rank1_bidders,
       count(DISTINCT bidder) FILTER (WHERE price >= 10000 AND price < 1000000)  AS rank2_bidders,
       count(DISTINCT bidder) FILTER (WHERE price >= 1000000)                    AS rank3_bidders,
       count(DISTINCT auction)                                                   AS total_auctions,
       count(DISTINCT auction) FILTER (WHERE price < 10000)                      AS rank1_auctions,
       count(DISTINCT auction) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_auctions,
       count(DISTINCT auction) FILTER (WHERE price >= 1000000)                   AS rank3_auctions
FROM bid
GROUP BY to_char(date_time, 'YYYY-MM-DD');
