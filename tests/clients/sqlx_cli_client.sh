#!/usr/bin/env bash
# sqlx-cli (`sqlx migrate`, the migration tool of the Rust crate sqlx) applies the project's
# migrations in sql/migrations to the server at $FRESHET_URL.
#
# Usage: FRESHET_URL=postgres://USER@HOST:PORT/DB [FRESHET_SQLX=/path/to/sqlx] bash tests/clients/sqlx_cli_client.sh
# (FRESHET_SQLX defaults to the `sqlx` on PATH; scripts/test.sh installs one into .test-env/cargo)
#
# Prints `ok NAME` or `FAIL NAME: ERROR` per check and exits 1 if any check failed. The
# migrations are in dbmate's format (`-- migrate:up` and `-- migrate:down` in one file), so
# each is first split into sqlx's reversible pair `<version>_<name>.up.sql` / `.down.sql` in a
# temporary directory. sqlx runs each migration in a transaction (BEGIN; the migration; INSERT
# INTO _sqlx_migrations; COMMIT), then records how long it took with an UPDATE, and keeps the
# applied versions with a SHA-384 checksum of the file in `_sqlx_migrations`. The checks:
# `migrate run` applies every migration, a second run applies nothing, `migrate info` shows
# all installed, `_sqlx_migrations` holds the versions, checksums and success = true, the
# objects exist and answer queries, and `migrate revert` (once per migration) takes them all
# away again. The objects the migrations create are dropped before and after, so this script
# wants a server of its own, or one where nothing else uses those names. psql (PostgreSQL's
# client) reads the catalog and the objects.
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MIGRATIONS="${FRESHET_MIGRATIONS_DIR:-$ROOT/sql/migrations}"
SQLX="${FRESHET_SQLX:-sqlx}"
# As an absolute path: sqlx runs from the temporary directory.
[[ "$SQLX" == */* ]] && SQLX="$(realpath -- "$SQLX")"
: "${FRESHET_URL:?set FRESHET_URL to postgres://USER@HOST:PORT/DB}"
export PGCONNECT_TIMEOUT=10
TIMEOUT=60
VERSIONS_TABLE=_sqlx_migrations
WORK="$(mktemp -d)"
SOURCE="$WORK/migrations"
OUT="$WORK/out"
trap 'rm -rf "$WORK"' EXIT
# ok, fail, sql, drop_all, relations, the checks of the migrated objects, finish.
source "$(dirname "${BASH_SOURCE[0]}")/migration_checks.sh"

# migrate ARGS...: runs `sqlx migrate ARGS` on the split migrations, output in $OUT; returns
# its status. Run from $WORK so that no .env file of the checkout is read.
migrate() {
    (cd "$WORK" && timeout "$TIMEOUT" "$SQLX" migrate "$@" --source "$SOURCE" \
        --database-url "$FRESHET_URL" >"$OUT" 2>&1)
}

# split FILE: writes FILE's `-- migrate:up` part to <version>_<name>.up.sql and its
# `-- migrate:down` part to .down.sql in $SOURCE (dbmate's `transaction:false` becomes sqlx's
# `-- no-transaction` first line); fails unless both parts are there.
split() {
    local base
    base="$(basename "$1" .sql)"
    awk -v up="$SOURCE/$base.up.sql" -v down="$SOURCE/$base.down.sql" '
        /^-- migrate:(up|down)/ {
            out = ($2 == "migrate:up") ? up : down
            printf "" > out
            if ($0 ~ /transaction:false/) print "-- no-transaction" > out
            next
        }
        out != "" { print > out }
    ' "$1" || return 1
    [[ -s "$SOURCE/$base.up.sql" && -f "$SOURCE/$base.down.sql" ]] \
        || { echo "$1 has no -- migrate:up or no -- migrate:down part"; return 1; }
}

VERSIONS="$(for f in "$MIGRATIONS"/*.sql; do basename "$f" | cut -d_ -f1; done)"
COUNT="$(printf '%s\n' "$VERSIONS" | wc -l)"
REVERSED="$(printf '%s\n' "$VERSIONS" | sort -r)"

# applied: the versions of the `Applied VERSION/...` lines of $OUT, in order.
applied() {
    sed -n 's/^Applied \([0-9]*\)\/.*/\1/p' "$OUT"
}

if out="$(drop_all 2>&1)"; then ok setup; else fail setup "$out"; fi

mkdir -p "$SOURCE"
split_error=""
for f in "$MIGRATIONS"/*.sql; do
    if ! out="$(split "$f" 2>&1)"; then
        split_error="$out"
        break
    fi
done
if [[ -z "$split_error" ]]; then
    ok split_dbmate_migrations_into_up_and_down_files
else
    fail split_dbmate_migrations_into_up_and_down_files "$split_error"
fi

migrate run
status=$?
if [[ $status -eq 0 ]]; then
    if [[ "$(applied)" == "$VERSIONS" ]] && grep -q '^Applied [0-9]*/migrate create readings ' "$OUT"; then
        ok first_run_applies_every_migration
    else
        fail first_run_applies_every_migration "applied [$(applied)], wanted [$VERSIONS]; sqlx said: $(cat "$OUT")"
    fi
else
    fail first_run_applies_every_migration "sqlx migrate run exited $status: $(cat "$OUT")"
fi

migrate run
status=$?
if [[ $status -eq 0 ]]; then
    if [[ -s "$OUT" ]]; then
        fail second_run_is_a_no_op "it said: $(cat "$OUT")"
    else
        ok second_run_is_a_no_op
    fi
else
    fail second_run_is_a_no_op "sqlx migrate run exited $status: $(cat "$OUT")"
fi

migrate info
status=$?
if [[ $status -eq 0 ]]; then
    installed="$(sed -n 's/^\([0-9]*\)\/installed .*/\1/p' "$OUT")"
    if [[ "$installed" == "$VERSIONS" ]] && ! grep -q 'pending\|different checksum' "$OUT"; then
        ok info_shows_every_migration_installed
    else
        fail info_shows_every_migration_installed "$(cat "$OUT")"
    fi
else
    fail info_shows_every_migration_installed "sqlx migrate info exited $status: $(cat "$OUT")"
fi

# Each row as sqlx wrote it: the version, success, the description it took from the file name,
# the SHA-384 of the up file (bound as bytea), and the execution time its UPDATE set.
want="$(for f in "$SOURCE"/*.up.sql; do
    base="$(basename "$f" .up.sql)"
    printf '%s|true|%s|%s|true\n' "${base%%_*}" "$(tr _ ' ' <<<"${base#*_}")" "$(sha384sum "$f" | cut -d' ' -f1)"
done)"
if out="$(sql "SELECT version::text || '|' || success::text || '|' || description || '|' \
        || encode(checksum, 'hex') || '|' || (execution_time > 0)::text FROM _sqlx_migrations ORDER BY version")" \
    && [[ "$out" == "$want" ]]; then
    ok sqlx_migrations_holds_versions_checksums_and_success
else
    fail sqlx_migrations_holds_versions_checksums_and_success "got [$out], wanted [$want]"
fi

want="_sqlx_migrations|r
high_readings|v
readings|r
sensor_stats|m
sensor_stats_sensor_idx|i"
check_migrated_objects_exist "$want"

check_migrated_views_answer

revert_error=""
reverted=""
for _ in $(seq "$COUNT"); do
    migrate revert
    status=$?
    if [[ $status -ne 0 ]]; then
        revert_error="sqlx migrate revert exited $status: $(cat "$OUT")"
        break
    fi
    reverted+="$(applied)"$'\n'
done
if [[ -n "$revert_error" ]]; then
    fail revert_reverses_every_migration "$revert_error"
elif [[ "${reverted%$'\n'}" != "$REVERSED" ]]; then
    fail revert_reverses_every_migration "reverted [$reverted], wanted [$REVERSED]"
elif out="$(relations)" && [[ "$out" == "_sqlx_migrations|r" ]] \
    && versions="$(sql 'SELECT count(*) FROM _sqlx_migrations')" && [[ "$versions" == 0 ]]; then
    ok revert_reverses_every_migration
else
    fail revert_reverses_every_migration "relations left [$out], versions left [${versions:-}]"
fi

migrate revert
status=$?
if [[ $status -eq 0 ]] && grep -qx 'No migrations available to revert' "$OUT"; then
    ok revert_with_nothing_applied_reverts_nothing
else
    fail revert_with_nothing_applied_reverts_nothing "sqlx migrate revert exited $status: $(cat "$OUT")"
fi

if out="$(drop_all 2>&1)"; then ok cleanup; else fail cleanup "$out"; fi

finish
