-- Nexmark q3: Local Item Suggestion. Who is selling in OR, ID or CA in category 10, and for
-- what auction ids? Illustrates an incremental join and filter.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q3.sql). Its lower-case state codes
-- ('or', 'id', 'ca') match the generator's data (Flink writes 'OR', 'ID', 'CA').
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q3.
CREATE MATERIALIZED VIEW q3 AS
SELECT P.name,
       P.city,
       P.state,
       A.id
FROM auction AS A
         INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10
  AND (P.state = 'or' OR P.state = 'id' OR P.state = 'ca');
