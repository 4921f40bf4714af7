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
VERSIONS_TABLE=schema_migrations
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT
# ok, fail, sql, drop_all, relations, the checks of the migrated objects, finish.
source "$(dirname "${BASH_SOURCE[0]}")/migration_checks.sh"

# dbmate ARGS...: runs dbmate on the migrations, output in $OUT; returns its status.
dbmate() {
    timeout "$TIMEOUT" "$DBMATE" --url "$DB_URL" --migrations-dir "$MIGRATIONS" --no-dump-schema "$@" >"$OUT" 2>&1
}

VERSIONS="$(for f in "$MIGRATIONS"/*.sql; do basename "$f" | cut -d_ -f1; done)"
FILES="$(for f in "$MIGRATIONS"/*.sql; do basename "$f"; done)"
COUNT="$(printf '%s\n' "$FILES" | wc -l)"

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
check_migrated_objects_exist "$want"

check_migrated_views_answer

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

finish
