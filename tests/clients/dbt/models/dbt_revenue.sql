-- Paid revenue per customer, as a materialized view over the source table. (Over the view
-- dbt_paid_orders, each run would drop it with the view's old copy, `drop view ... cascade`,
-- and create it anew, instead of refreshing it.)
{{ config(materialized='materialized_view') }}

select customer, count(*) as orders, sum(amount) as total
from {{ source('shop', 'dbt_orders') }}
where status = 'paid'
group by customer
