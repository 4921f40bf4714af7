#!/usr/bin/env bash
# Creates the topics, produces sample records, then runs quickstart.sql against Freshet
# (psql from Debian's postgresql-client inside the Redpanda image).
set -euo pipefail
rpk() { command rpk -X brokers=redpanda:9092 "$@"; }
rpk topic create orders customers -p 2 || true
for i in $(seq 1 1000); do
    echo "{\"id\": $i, \"customer_id\": $((i % 10)), \"amount\": $((i % 97)).50}"
done | rpk topic produce orders
for c in $(seq 0 9); do
    echo "$c {\"name\": \"customer-$c\"}"
done | rpk topic produce customers --format '%k %v\n'
apt-get update -qq && apt-get install -y -qq postgresql-client > /dev/null
until psql -h freshet -p 6875 -U freshet -d freshet -c 'SELECT 1' > /dev/null 2>&1; do sleep 1; done
psql -h freshet -p 6875 -U freshet -d freshet -v ON_ERROR_STOP=1 -f /quickstart.sql
