-- Nexmark q21: Add channel id. Add a channel_id column to the bid table, illustrates a
-- 'CASE WHEN' + 'REGEXP_EXTRACT' SQL.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q21.sql), which writes Flink's
-- REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) as (regexp_match(url, ...))[2].
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q21.
CREATE MATERIALIZED VIEW q21 AS
SELECT auction,
       bidder,
       price,
       channel,
       CASE
           WHEN LOWER(channel) = 'apple' THEN '0'
           WHEN LOWER(channel) = 'google' THEN '1'
           WHEN LOWER(channel) = 'facebook' THEN '2'
           WHEN LOWER(channel) = 'baidu' THEN '3'
           ELSE (regexp_match(url, '(&|^)channel_id=([^&]*)'))[2]
           END
           AS channel_id
FROM bid
WHERE (regexp_match(url, '(&|^)channel_id=([^&]*)'))[2] IS NOT NULL
   OR LOWER(channel) IN ('apple', 'google', 'facebook', 'baidu');
