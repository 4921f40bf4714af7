# What tests/clients/dbmate_client.sh and sqlx_cli_client.sh share: their check reporting,
# psql queries, and the checks of what sql/migrations makes. Sourced by them after they set
# FRESHET_URL, TIMEOUT and VERSIONS_TABLE (the tool's table of applied versions).
# shellcheck shell=bash

CHECKS=0
FAILED=0

ok() { CHECKS=$((CHECKS + 1)); echo "ok $1"; }
fail() {
    CHECKS=$((CHECKS + 1)); FAILED=$((FAILED + 1))
    echo "FAIL $1: $(printf '%s\n' "$2" | awk 'NF { printf "%s%s", sep, $0; sep = " | " }')"
}

# sql QUERY: psql's unaligned, tuples-only output of QUERY; stops at the first error.
sql() {
    timeout "$TIMEOUT" psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$FRESHET_URL" -c "$1" 2>&1
}

IS_POSTGRES=yes
[[ "$(sql 'SELECT version()')" == *Freshet* ]] && IS_POSTGRES=no

# drop_all: drops what the migrations and the tool make.
drop_all() {
    local statement
    for statement in "DROP INDEX IF EXISTS sensor_stats_sensor_idx" \
        "DROP MATERIALIZED VIEW IF EXISTS sensor_stats" "DROP VIEW IF EXISTS high_readings" \
        "DROP TABLE IF EXISTS readings" "DROP TABLE IF EXISTS $VERSIONS_TABLE"; do
        sql "$statement" >/dev/null || return 1
    done
}

# relations: "name|relkind" of every relation the migrations create that exists, sorted.
relations() {
    sql "SELECT c.relname || '|' || c.relkind::text FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relname IN \
         ('readings', 'high_readings', 'sensor_stats', 'sensor_stats_sensor_idx', '$VERSIONS_TABLE') \
         ORDER BY c.relname"
}

# check_migrated_objects_exist WANT: the relations are WANT.
check_migrated_objects_exist() {
    local out
    if out="$(relations)" && [[ "$out" == "$1" ]]; then
        ok migrated_objects_exist
    else
        fail migrated_objects_exist "got [$out], wanted [$1]"
    fi
}

# check_migrated_views_answer: rows written to readings show in its view and materialized view.
check_migrated_views_answer() {
    local out high stats
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
}

# finish: the summary line; the status says whether every check passed.
finish() {
    echo "$CHECKS checks: $((CHECKS - FAILED)) ok, $FAILED FAIL"
    [[ $FAILED -eq 0 ]]
}
