-- Nexmark q4: Average Price for a Category. Select the average of the winning bid prices for
-- all auctions in each category. Illustrates complex join and aggregation.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q4.sql).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q4.
CREATE MATERIALIZED VIEW q4 AS
SELECT Q.category,
       AVG(Q.final) AS avg
FROM (SELECT MAX(B.price) AS final,
             A.category
      FROM auction A,
           bid B
      WHERE A.id = B.auction
        AND B.date_time BETWEEN A.date_time AND A.expires
      GROUP BY A.id, A.category) Q
GROUP BY Q.category;
