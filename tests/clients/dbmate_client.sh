#!/usr/bin/env bash
# dbmate (the migration tool, npm package `dbmate`) applies the project's migrations in
# sql/migrations to the server at $FRESHET_URL.
#
# Usage: FRESHET_URL=postgres://USER@HOST:PORT/DB [DBMATE=/path/to/dbmate] bash tests/clients/dbmate_client.sh
# (or FRESHET_NODE_MODULES=.test-env/node/node_modules instead of DBMATE)
#
# Prints `ok NAME` or `FAIL NAME: ERROR` per check and exits 1 if any check failed. dbmate
# runs each migration in a transaction (BEGIN; the migration; INSERT INTO schema_migrations;
# COMMIT) and keeps the applied versions in `schema_migrations`. The checks: `up` applies every
# migration, a second `up` applies nothing, `status` shows all applied, the versions are
# recorded, the objects exist and answer queries, and `rollback` (once per migration) takes
# them all away again. The objects the migrations create are dropped before and after, so
# this script wants a server of its own, or one where nothing else uses those names.
# psql (PostgreSQL's client) reads the catalog and the objects.
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MIGRATIONS="${FRESHET_MIGRATIONS_DIR:-$ROOT/sql/migrations}"
# dbmate: $DBMATE, else the one in $FRESHET_NODE_MODULES (scripts/test.sh installs it), else PATH's.
if [[ -z "${DBMATE:-}" && -n "${FRESHET_NODE_MODULES:-}" ]]; then
    DBMATE="$FRESHET_NODE_MODULES/.bin/dbmate"
fi
DBMATE="${DBMATE:-dbmate}"
: "${FRESHET_URL:?set FRESHET_URL to postgres://USER@HOST:PORT/DB}"
# dbmate's driver (lib/pq) asks for TLS unless told not to, as dbmate's docs say.
case "$FRESHET_URL" in
    *sslmode=*) DB_URL="$FRESHET_URL" ;;
    *\?*) DB_URL="$FRESHET_URL&sslmode=disable" ;;
    *) DB_URL="$FRESHET_URL?sslmode=disable" ;;
esac
export PGCONNECT_TIMEOUT=10
TIMEOUT=60
CHECKS=0
FAILED=0
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT

ok() { CHECKS=$((CHECKS + 1)); echo "ok $1"; }
fail() {
    CHECKS=$((CHECKS + 1)); FAILED=$((FAILED + 1))
    echo "FAIL $1: $(printf '%s\n' "$2" | awk 'NF { printf "%s%s", sep, $0; sep = " | " }')"
}

# dbmate ARGS...: runs dbmate on the migrations, output in $OUT; returns its status.
dbmate() {
    timeout "$TIMEOUT" "$DBMATE" --url "$DB_URL" --migrations-dir "$MIGRATIONS" --no-dump-schema "$@" >"$OUT" 2>&1
}

# sql QUERY: psql's unaligned, tuples-only output of QUERY; stops at the first error.
sql() {
    timeout "$TIMEOUT" psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$FRESHET_URL" -c "$1" 2>&1
}

VERSIONS="$(for f in "$MIGRATIONS"/*.sql; do basename "$f" | cut -d_ -f1; done)"
FILES="$(for f in "$MIGRATIONS"/*.sql; do basename "$f"; done)"
COUNT="$(printf '%s\n' "$FILES" | wc -l)"
IS_POSTGRES=yes
[[ "$(sql 'SELECT version()')" == *Freshet* ]] && IS_POSTGRES=no

drop_all() {
    local statement
    for statement in "DROP INDEX IF EXISTS sensor_stats_sensor_idx" \
        "DROP MATERIALIZED VIEW IF EXISTS sensor_stats" "DROP VIEW IF EXISTS high_readings" \
        "DROP TABLE IF EXISTS readings" "DROP TABLE IF EXISTS schema_migrations"; do
        sql "$statement" >/dev/null || return 1
    done
}

# relations: "name|relkind" of every relation the migrations create that exists, sorted.
relations() {
    sql "SELECT c.relname || '|' || c.relkind::text FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relname IN \
         ('readings', 'high_readings', 'sensor_stats', 'sensor_stats_sensor_idx', 'schema_migrations') \
         ORDER BY c.relname"
}

if out="$(drop_all 2>&1)"; then ok setup; else fail setup "$out"; fi

dbmate up
status=$?
if [[ $status -eq 0 ]]; then
    applied="$(sed -n 's/^Applied: \([^ ]*\) in .*/\1/p' "$OUT")"
    if [[ "$applied" == "$FILES" ]]; then
        ok first_up_applies_every_migration
    else
        fail first_up_applies_every_migration "applied [$applied], wanted [$FILES]; dbmate said: $(cat "$OUT")"
    fi
else
    fail first_up_applies_every_migration "dbmate up exited $status: $(cat "$OUT")"
fi

dbmate up
status=$?
if [[ $status -eq 0 ]]; then
    if grep -q 'Applying' "$OUT"; then
        fail second_up_is_a_no_op "it applied again: $(cat "$OUT")"
    else
        ok second_up_is_a_no_op
    fi
else
    fail second_up_is_a_no_op "dbmate up exited $status: $(cat "$OUT")"
fi

dbmate status
status=$?
if [[ $status -eq 0 ]]; then
    if grep -qx "Applied: $COUNT" "$OUT" && grep -qx 'Pending: 0' "$OUT"; then
        ok status_shows_every_migration_applied
    else
        fail status_shows_every_migration_applied "$(cat "$OUT")"
    fi
else
    fail status_shows_every_migration_applied "dbmate status exited $status: $(cat "$OUT")"
fi

if out="$(sql 'SELECT version FROM schema_migrations ORDER BY version')" && [[ "$out" == "$VERSIONS" ]]; then
    ok schema_migrations_holds_the_versions
else
    fail schema_migrations_holds_the_versions "got [$out], wanted [$VERSIONS]"
fi

want="high_readings|v
readings|r
schema_migrations|r
sensor_stats|m
sensor_stats_sensor_idx|i"
if out="$(relations)" && [[ "$out" == "$want" ]]; then
    ok migrated_objects_exist
else
    fail migrated_objects_exist "got [$out], wanted [$want]"
fi

if out="$(sql "INSERT INTO readings VALUES (1, 'a', 50, '2026-01-01 00:00:00+00'), \
        (2, 'a', 150, '2026-01-01 00:01:00+00'), (3, 'b', 120, '2026-01-01 00:02:00+00')")"; then
    [[ $IS_POSTGRES == yes ]] && sql "REFRESH MATERIALIZED VIEW sensor_stats" >/dev/null
    high="$(sql 'SELECT id FROM high_readings ORDER BY id')"
    stats="$(sql 'SELECT sensor, readings, max_value FROM sensor_stats ORDER BY sensor')"
    if [[ "$high" == $'2\n3' && "$stats" == $'a|2|150\nb|1|120' ]]; then
        ok migrated_views_answer
    else
        fail migrated_views_answer "high_readings [$high], wanted [2 3]; sensor_stats [$stats], wanted [a|2|150 b|1|120]"
    fi
else
    fail migrated_views_answer "INSERT INTO readings: $out"
fi

rollback_error=""
for _ in $(seq "$COUNT"); do
    dbmate rollback
    status=$?
    if [[ $status -ne 0 ]]; then
        rollback_error="dbmate rollback exited $status: $(cat "$OUT")"
        break
    fi
done
if [[ -n "$rollback_error" ]]; then
    fail rollback_reverses_every_migration "$rollback_error"
elif out="$(relations)" && [[ "$out" == "schema_migrations|r" ]] \
    && versions="$(sql 'SELECT count(*) FROM schema_migrations')" && [[ "$versions" == 0 ]]; then
    ok rollback_reverses_every_migration
else
    fail rollback_reverses_every_migration "relations left [$out], versions left [${versions:-}]"
fi

if out="$(drop_all 2>&1)"; then ok cleanup; else fail cleanup "$out"; fi

echo "$CHECKS checks: $((CHECKS - FAILED)) ok, $FAILED FAIL"
[[ $FAILED -eq 0 ]]
