-- ALTER TABLE ... ADD COLUMN / DROP COLUMN on 100,000 and 1,000,000 rows: each rewrites every
-- row in one durable write, during which other statements wait. Run against a release server:
--   cargo run --release -- serve --listen 127.0.0.1:7023 --data-dir /tmp/falter &
--   psql -h 127.0.0.1 -p 7023 -U materialize -X -q -f benches/alter_table.sql
\timing on
CREATE TABLE big (id int, name text, v float8);
INSERT INTO big SELECT g, 'name ' || g, g * 1.5 FROM generate_series(1, 100000) g;
\echo ADD COLUMN, 100,000 rows
ALTER TABLE big ADD COLUMN c int DEFAULT 7;
\echo DROP COLUMN, 100,000 rows
ALTER TABLE big DROP COLUMN c;
INSERT INTO big SELECT g, 'name ' || g, g * 1.5 FROM generate_series(100001, 1000000) g;
\echo ADD COLUMN, 1,000,000 rows
ALTER TABLE big ADD COLUMN c int DEFAULT 7;
\echo DROP COLUMN, 1,000,000 rows
ALTER TABLE big DROP COLUMN c;
DROP TABLE big;
