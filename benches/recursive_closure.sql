-- Transitive closure of a 500-node chain as a WITH RECURSIVE materialized view, then
-- single-edge changes. Run against a release server:
--   cargo run --release -- serve --listen 127.0.0.1:7021 --data-dir /tmp/fbench &
--   psql -h 127.0.0.1 -p 7021 -U materialize -X -q -f benches/recursive_closure.sql
-- Each `SELECT count(*)` waits until the view includes the write before it.
\timing on
CREATE TABLE edges (src integer, dst integer);
INSERT INTO edges SELECT g, g + 1 FROM generate_series(1, 500) AS g;
CREATE MATERIALIZED VIEW reach AS
  WITH RECURSIVE r(src, dst) AS (
    SELECT src, dst FROM edges
    UNION
    SELECT r.src, e.dst FROM r JOIN edges e ON r.dst = e.src)
  SELECT * FROM r;
SELECT count(*) FROM reach;
INSERT INTO edges VALUES (501, 502);
SELECT count(*) FROM reach;
INSERT INTO edges VALUES (1000, 1001);
SELECT count(*) FROM reach;
DELETE FROM edges WHERE src = 250;
SELECT count(*) FROM reach;
INSERT INTO edges VALUES (250, 251);
SELECT count(*) FROM reach;
