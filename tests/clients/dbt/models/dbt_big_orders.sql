-- Paid orders of 10 or more, as a view over the view dbt_paid_orders: each run replaces
-- dbt_paid_orders and drops its old copy with `drop view ... cascade`, which drops this view
-- too, and dbt (knowing so from pg_depend) then creates it anew.
{{ config(materialized='view') }}

select id, customer, amount
from {{ ref('dbt_paid_orders') }}
where amount >= 10
