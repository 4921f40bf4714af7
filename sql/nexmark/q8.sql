-- Nexmark q8: Monitor New Users. Select people who have entered the system and created
-- auctions in the last period (10-second tumbling windows). Illustrates a simple join.
-- Source: RisingWave's version (ci/scripts/sql/nexmark/q8.sql).
-- Adaptations: RisingWave's blackhole CREATE SINK becomes the materialized view q8.
CREATE MATERIALIZED VIEW q8 AS
SELECT P.id,
       P.name,
       P.starttime
FROM (SELECT id,
             name,
             window_start AS starttime,
             window_end   AS endtime
      FROM TUMBLE(person, date_time, INTERVAL '10' SECOND)
      GROUP BY id,
               name,
               window_start,
               window_end) P
         JOIN (SELECT seller,
                      window_start AS starttime,
                      window_end   AS endtime
               FROM TUMBLE(auction, date_time, INTERVAL '10' SECOND)
               GROUP BY seller,
                        window_start,
                        window_end) A ON P.id = A.seller
    AND P.starttime = A.starttime
    AND P.endtime = A.endtime;
