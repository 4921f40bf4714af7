-- The Kafka quickstart: two topics as sources, a view joining them, kept fresh.
CREATE CONNECTION IF NOT EXISTS redpanda TO KAFKA (BROKER 'redpanda:9092');

CREATE SOURCE IF NOT EXISTS orders (id int, customer_id int, amount numeric(10,2))
    FROM KAFKA CONNECTION redpanda (TOPIC 'orders')
    FORMAT JSON;

CREATE SOURCE IF NOT EXISTS customers (name text)
    FROM KAFKA CONNECTION redpanda (TOPIC 'customers')
    KEY FORMAT TEXT VALUE FORMAT JSON ENVELOPE UPSERT;

CREATE MATERIALIZED VIEW IF NOT EXISTS revenue_by_customer AS
    SELECT c.name, count(*) AS orders, sum(o.amount) AS revenue
    FROM orders o JOIN customers c ON o.customer_id::text = c.key
    GROUP BY c.name;

SELECT * FROM revenue_by_customer ORDER BY name;
