-- Fails on purpose: dbt_orders has refunded orders, and a singular test fails when its query
-- returns rows. tests/clients/dbt_client.py runs it alone and expects it to fail.
{{ config(tags=['deliberately_failing']) }}

select id, status
from {{ source('shop', 'dbt_orders') }}
where status = 'refunded'
