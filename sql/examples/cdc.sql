-- A CDC-style materialized view: the current state of rows from a stream of change events.
--
-- Change events (as a Debezium-style connector emits them: an operation, the key, the new
-- values and a sequence number) land in an append-only table. The view folds them into the
-- current state of each order: the latest event per key, unless it was a delete. Reading it
-- is reading the table as of now; SUBSCRIBE to it for a change stream of the state.
-- Try: SELECT * FROM orders_current ORDER BY id;

CREATE TABLE order_events (
  op text NOT NULL,          -- 'c' create, 'u' update, 'd' delete
  id bigint NOT NULL,
  status text,
  amount numeric(10,2),
  seq bigint NOT NULL
);

CREATE MATERIALIZED VIEW orders_current AS
SELECT id, status, amount
FROM (
  SELECT id, op, status, amount,
         row_number() OVER (PARTITION BY id ORDER BY seq DESC) AS newest
  FROM order_events
) latest
WHERE newest = 1 AND op <> 'd';

CREATE MATERIALIZED VIEW orders_by_status AS
SELECT status, count(*) AS orders, sum(amount) AS total
FROM orders_current GROUP BY status;

INSERT INTO order_events VALUES
  ('c', 1, 'new', 10.00, 1),
  ('c', 2, 'new', 25.50, 2),
  ('u', 1, 'paid', 10.00, 3),
  ('c', 3, 'new', 7.25, 4),
  ('d', 2, NULL, NULL, 5),
  ('u', 3, 'paid', 8.00, 6);
