-- Nexmark q16: Channel Statistics Report. How many distinct users join the bidding for
-- different levels of price per channel? Illustrates multiple distinct aggregations with filters.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q16.sql), including its
-- to_char(date_time, 'HH:mm') as published (in PostgreSQL's to_char, 'mm' is the month,
-- so "minute" is hour:month there, e.g. '06:12').
-- Adaptations: RisingWave's SET rw_force_split_distinct_agg / rw_force_two_phase_agg planner
-- settings are dropped (RisingWave-specific, no effect on the result), its blackhole sink
-- becomes the view q16.
CREATE MATERIALIZED VIEW q16 AS
SELECT channel,
       to_char(date_time, 'YYYY-MM-DD')                                          AS "day",
       max(to_char(date_time, 'HH:mm'))                                          AS "minute",
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
GROUP BY to_char(date_time, 'YYYY-MM-DD'), channel;
