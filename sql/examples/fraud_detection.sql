-- Fraud and anomaly detection on an auction house.
--
-- The AUCTION load generator opens an auction every second and places bids on open ones.
-- Two views flag what a fraud team would look at: users who bid on their own auctions
-- (shill bidding), and bids far above the usual amount for the same item.
-- Try: SELECT * FROM shill_bids; SELECT * FROM outlier_bids ORDER BY ratio DESC LIMIT 5;

CREATE SOURCE auction_house FROM LOAD GENERATOR AUCTION (AS OF 120) FOR ALL TABLES;

CREATE MATERIALIZED VIEW shill_bids AS
SELECT b.id AS bid_id, b.buyer, a.id AS auction_id, a.item, b.amount
FROM bids b JOIN auctions a ON a.id = b.auction_id
WHERE b.buyer = a.seller;

CREATE MATERIALIZED VIEW item_bid_stats AS
SELECT a.item, avg(b.amount) AS mean_amount, count(*) AS bids
FROM bids b JOIN auctions a ON a.id = b.auction_id
GROUP BY a.item;

CREATE MATERIALIZED VIEW outlier_bids AS
SELECT b.id AS bid_id, a.item, b.amount, s.mean_amount, b.amount / s.mean_amount AS ratio
FROM bids b
JOIN auctions a ON a.id = b.auction_id
JOIN item_bid_stats s ON s.item = a.item
WHERE s.bids >= 10 AND b.amount > 1.8 * s.mean_amount;
