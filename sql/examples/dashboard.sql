-- Real-time dashboard: clicks per user in the last 5 minutes.
--
-- The CLICKS load generator makes web traffic (5 clicks a second; AS OF 300 also makes the
-- last five minutes of history at once). The view is the one a dashboard polls; rows expire
-- by themselves as they leave the 5-minute window (a temporal filter), with no cron job.
-- Try: SELECT * FROM clicks_per_user_5m ORDER BY click_count DESC LIMIT 10;

CREATE SOURCE clicks FROM LOAD GENERATOR CLICKS (AS OF 300);

CREATE MATERIALIZED VIEW clicks_per_user_5m AS
SELECT user_id, COUNT(*) AS click_count
FROM clicks
WHERE created_at > now() - INTERVAL '5 minutes'
GROUP BY user_id;

-- Point lookups for one user are served from an index.
CREATE INDEX clicks_per_user_5m_user ON clicks_per_user_5m (user_id);
