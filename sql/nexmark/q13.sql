-- Nexmark q13: Bounded Side Input Join. Joins a stream to a bounded side input, modeling
-- basic stream enrichment.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q13.sql): side_input(key, value) with
-- keys 0 .. N-1, joined on mod(B.auction, N) = S.key.
-- Adaptations: N (RisingWave's ${BENCHMARK_NEXMARK_RISINGWAVE_Q13_SIDE_INPUT_ROW_COUNT}) is
-- 10000, Flink's mod(B.auction, 10000). RisingWave's lookup join
-- `side_input FOR SYSTEM_TIME AS OF PROCTIME() S` is written as a plain join: FOR SYSTEM_TIME
-- AS OF is not PostgreSQL syntax, and with a side input that never changes the two are equal.
-- RisingWave's blackhole sink becomes the view q13.
CREATE TABLE side_input (
    key BIGINT PRIMARY KEY,
    value VARCHAR
);
INSERT INTO side_input SELECT v, v::varchar FROM generate_series(0, 10000 - 1) AS s(v);
CREATE MATERIALIZED VIEW q13 AS
SELECT B.auction, B.bidder, B.price, B.date_time, S.value
FROM bid B
         JOIN side_input S ON mod(B.auction, 10000) = S.key;
