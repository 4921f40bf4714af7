-- Window functions over one 200,000-row partition, then single-row writes: what a change
-- costs when the function reads nearby rows (lag, a sliding ROWS frame), numbers rows
-- (row_number), runs from the partition's start (a running sum), or reads the whole
-- partition (cume_dist). Run against a release server:
--   cargo run --release -- serve --listen 127.0.0.1:7022 --data-dir /tmp/fwindow &
--   psql -h 127.0.0.1 -p 7022 -U materialize -X -q -f benches/window_partition.sql
-- Each `SELECT count(*)` waits until its view includes the write before it; the first count
-- of each view after its creation is the time to build it. The last line of each group is
-- a count with no write before it: what reading the view alone costs.
\timing on
CREATE TABLE ticks (id bigint, price bigint);
INSERT INTO ticks SELECT g, g % 97 FROM generate_series(1, 200000) AS g;

\echo lag(price) OVER (ORDER BY id)
CREATE MATERIALIZED VIEW with_lag AS
  SELECT id, price, lag(price) OVER (ORDER BY id) AS previous FROM ticks;
SELECT count(*) FROM with_lag;
INSERT INTO ticks VALUES (200001, 5);
SELECT count(*) FROM with_lag;
INSERT INTO ticks VALUES (100000, 7);
SELECT count(*) FROM with_lag;
DELETE FROM ticks WHERE id = 50000;
SELECT count(*) FROM with_lag;
SELECT count(*) FROM with_lag;
DROP MATERIALIZED VIEW with_lag;

\echo sum(price) OVER (ORDER BY id ROWS BETWEEN 9 PRECEDING AND CURRENT ROW)
CREATE MATERIALIZED VIEW sliding AS
  SELECT id, sum(price) OVER (ORDER BY id ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS s
  FROM ticks;
SELECT count(*) FROM sliding;
INSERT INTO ticks VALUES (200002, 5);
SELECT count(*) FROM sliding;
INSERT INTO ticks VALUES (100000, 8);
SELECT count(*) FROM sliding;
DELETE FROM ticks WHERE id = 60000;
SELECT count(*) FROM sliding;
SELECT count(*) FROM sliding;
DROP MATERIALIZED VIEW sliding;

\echo sum(price) OVER (ORDER BY id): a running total
CREATE MATERIALIZED VIEW running AS
  SELECT id, sum(price) OVER (ORDER BY id) AS total FROM ticks;
SELECT count(*) FROM running;
INSERT INTO ticks VALUES (200005, 5);
SELECT count(*) FROM running;
INSERT INTO ticks VALUES (199000, 3);
SELECT count(*) FROM running;
SELECT count(*) FROM running;
DROP MATERIALIZED VIEW running;

\echo row_number() OVER (ORDER BY id)
CREATE MATERIALIZED VIEW numbered AS
  SELECT id, row_number() OVER (ORDER BY id) AS n FROM ticks;
SELECT count(*) FROM numbered;
INSERT INTO ticks VALUES (200003, 5);
SELECT count(*) FROM numbered;
INSERT INTO ticks VALUES (190000, 9);
SELECT count(*) FROM numbered;
SELECT count(*) FROM numbered;
DROP MATERIALIZED VIEW numbered;

\echo cume_dist() OVER (ORDER BY id), which reads the whole partition
CREATE MATERIALIZED VIEW distributed AS
  SELECT id, cume_dist() OVER (ORDER BY id) AS d FROM ticks;
SELECT count(*) FROM distributed;
INSERT INTO ticks VALUES (200004, 5);
SELECT count(*) FROM distributed;
SELECT count(*) FROM distributed;
DROP MATERIALIZED VIEW distributed;
