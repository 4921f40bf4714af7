-- Alerting: 5 failed logins in 1 minute from the same IP address.
--
-- Every minute the CLICKS generator has one outside address try /login eight times and
-- fail. The view holds the addresses over the threshold right now; an alerting service
-- subscribes to it and is pushed each new alert (and its retraction a minute later) the
-- moment it happens:
--   COPY (SUBSCRIBE failed_login_alerts WITH (SNAPSHOT = false)) TO STDOUT;

CREATE SOURCE logins FROM LOAD GENERATOR CLICKS (AS OF 60);

CREATE MATERIALIZED VIEW failed_login_alerts AS
SELECT ip, count(*) AS failures, max(created_at) AS last_failure
FROM logins
WHERE url = '/login' AND status = 401
  AND created_at > now() - INTERVAL '1 minute'
GROUP BY ip
HAVING count(*) >= 5;
