-- p95 latency per endpoint over the last 5 minutes, maintained incrementally.
--
-- percentile_cont(0.95) WITHIN GROUP (ORDER BY ...) is PostgreSQL's syntax; the view keeps
-- it current as requests arrive and age out of the window.
-- Try: SELECT * FROM endpoint_latency ORDER BY p95_ms DESC;

CREATE SOURCE requests FROM LOAD GENERATOR CLICKS (AS OF 300);

CREATE MATERIALIZED VIEW endpoint_latency AS
SELECT url AS endpoint,
       count(*) AS requests,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_ms,
       max(latency_ms) AS max_ms
FROM requests
WHERE created_at > now() - INTERVAL '5 minutes'
GROUP BY url;
