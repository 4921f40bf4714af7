-- The paid orders, as a view: always what dbt_orders holds now.
{{ config(materialized='view') }}

select id, customer, amount
from {{ source('shop', 'dbt_orders') }}
where status = 'paid'
