-- Nexmark q22: Get URL Directories. What is the directory structure of the URL?
-- Illustrates a SPLIT_INDEX SQL.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q22.sql), which writes Flink's
-- SPLIT_INDEX(url, '/', 3..5) as split_part(url, '/', 4..6) (1-based).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q22.
CREATE MATERIALIZED VIEW q22 AS
SELECT auction,
       bidder,
       price,
       channel,
       split_part(url, '/', 4) AS dir1,
       split_part(url, '/', 5) AS dir2,
       split_part(url, '/', 6) AS dir3
FROM bid;
