-- Enrichment: join a stream with reference data, and push the result to a consumer.
--
-- Clicks carry only a URL; a small reference table (written with ordinary INSERTs, and
-- changeable at any time) gives each page its category and owning team. The enriched view
-- is what a downstream system consumes. Until Kafka sinks exist, a consumer reads its
-- changes with SUBSCRIBE:  COPY (SUBSCRIBE enriched_clicks WITH (SNAPSHOT = false)) TO STDOUT;

CREATE SOURCE page_clicks FROM LOAD GENERATOR CLICKS (AS OF 60);

CREATE TABLE pages (url text NOT NULL, category text, team text);
INSERT INTO pages VALUES
  ('/', 'landing', 'web'),
  ('/home', 'landing', 'web'),
  ('/search', 'discovery', 'search'),
  ('/product', 'catalog', 'catalog'),
  ('/cart', 'checkout', 'payments'),
  ('/checkout', 'checkout', 'payments'),
  ('/login', 'account', 'identity'),
  ('/api/items', 'api', 'catalog');

CREATE MATERIALIZED VIEW enriched_clicks AS
SELECT c.user_id, c.url, p.category, p.team, c.status, c.latency_ms, c.created_at
FROM page_clicks c JOIN pages p ON p.url = c.url;

CREATE MATERIALIZED VIEW clicks_per_team AS
SELECT team, count(*) AS clicks, sum(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS errors
FROM enriched_clicks GROUP BY team;
