#!/usr/bin/env python3
"""dbt (dbt-core with the dbt-postgres adapter) builds the project of tests/clients/dbt/
against the server at $FRESHET_URL, and tests it.

The project reads the source table dbt_orders, which this script creates and fills, and has
four models: dbt_paid_orders (a view), dbt_customers (a table) and dbt_revenue (a
materialized view) over it, and dbt_big_orders (a view over dbt_paid_orders), with generic
tests (not_null, unique, accepted_values, relationships) in models/*.yml and one singular
test, tests/dbt_no_refunds.sql, that fails on purpose. The checks run dbt's command line
from the interpreter's venv (as a user would), with the project's profiles.yml reading the
connection from FRESHET_DBT_* variables set here, and dbt's target/ and logs/ in a temporary
directory (DBT_TARGET_PATH, DBT_LOG_PATH); they read dbt's run_results.json for what each
node did.

`dbt run` creates the four relations with their kinds and rows (the table with `create
table ... as`); a second `dbt run` replaces the views and the table (dbt builds
`<name>__dbt_tmp`, renames the old one to `<name>__dbt_backup` and the new one into place
in one transaction, then drops the old one with CASCADE, which takes dbt_big_orders along:
dbt knows so from pg_depend and creates it anew) and refreshes the materialized view in
place; rows inserted into dbt_orders show in the views at once (and, on Freshet, in the
materialized view too), in the table after the next run; `dbt test` passes every test but
the deliberately failing one, which fails with the number of rows it finds, as does a
relationships test once a key is missing.

Prints `ok NAME` or `FAIL NAME: ERROR` per check and exits 1 if any check failed. Every
object it makes starts with `dbt_`; they are dropped first if left over, and again at the
end (with plain psycopg2, so that setup and cleanup do not depend on what is being checked).
Runs with the dbt venv's Python (`.test-env/dbt/bin/python`), which has psycopg2 through
dbt-postgres.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from urllib.parse import unquote, urlparse

import psycopg2

import checks
from checks import check, expect

URL = os.environ["FRESHET_URL"]
PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dbt")
DBT = os.path.join(os.path.dirname(sys.executable), "dbt")
DBT_TIMEOUT = 100  # seconds one dbt command may take
WORK = tempfile.mkdtemp(prefix="freshet-dbt-")  # dbt's target/ and logs/
IS_POSTGRES = False

checks.configure(timeout=120.0, sqlstate_attr="pgcode")

MODELS = ["dbt_paid_orders", "dbt_customers", "dbt_revenue", "dbt_big_orders"]
KINDS = {"dbt_big_orders": "v", "dbt_customers": "r", "dbt_orders": "r", "dbt_paid_orders": "v",
         "dbt_revenue": "m"}
# Generic tests of models/sources.yml (3) and models/schema.yml (9).
GENERIC_TESTS = 12
DROPS = [
    "DROP MATERIALIZED VIEW IF EXISTS dbt_revenue",
    "DROP MATERIALIZED VIEW IF EXISTS dbt_revenue__dbt_tmp",
    "DROP MATERIALIZED VIEW IF EXISTS dbt_revenue__dbt_backup",
    "DROP VIEW IF EXISTS dbt_big_orders",
    "DROP VIEW IF EXISTS dbt_big_orders__dbt_tmp",
    "DROP VIEW IF EXISTS dbt_big_orders__dbt_backup",
    "DROP VIEW IF EXISTS dbt_paid_orders",
    "DROP VIEW IF EXISTS dbt_paid_orders__dbt_tmp",
    "DROP VIEW IF EXISTS dbt_paid_orders__dbt_backup",
    "DROP TABLE IF EXISTS dbt_customers",
    "DROP TABLE IF EXISTS dbt_customers__dbt_tmp",
    "DROP TABLE IF EXISTS dbt_customers__dbt_backup",
    "DROP TABLE IF EXISTS dbt_orders",
]


def connect():
    conn = psycopg2.connect(URL, connect_timeout=10)
    conn.autocommit = True
    return conn


def raw(statements, ignore_errors=False):
    conn = connect()
    try:
        with conn.cursor() as cur:
            checks.execute_all(cur.execute, statements, psycopg2.Error, ignore_errors)
    finally:
        conn.close()


def query(sql):
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def dbt_env():
    """The environment dbt runs in: profiles.yml reads the connection from FRESHET_DBT_*."""
    url = urlparse(URL)
    env = dict(os.environ)
    env.update({
        "FRESHET_DBT_HOST": url.hostname or "127.0.0.1",
        "FRESHET_DBT_PORT": str(url.port or 5432),
        "FRESHET_DBT_USER": unquote(url.username or "postgres"),
        "FRESHET_DBT_PASSWORD": unquote(url.password or ""),
        "FRESHET_DBT_DBNAME": url.path.lstrip("/") or "postgres",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    })
    return env


def dbt(*args):
    """Runs `dbt ARGS` on the project; returns (exit status, output, run_results.json's
    results keyed by node name)."""
    target = os.path.join(WORK, "target")
    shutil.rmtree(target, ignore_errors=True)
    proc = subprocess.run(
        [DBT, *args, "--project-dir", PROJECT, "--profiles-dir", PROJECT],
        env=dict(dbt_env(), DBT_TARGET_PATH=target, DBT_LOG_PATH=os.path.join(WORK, "logs")),
        cwd=WORK, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=DBT_TIMEOUT, check=False)
    results = {}
    path = os.path.join(target, "run_results.json")
    if os.path.exists(path):
        with open(path) as f:
            for result in json.load(f)["results"]:
                # model.<project>.<name> or test.<project>.<name>[.<hash>]
                results[result["unique_id"].split(".")[2]] = result
    return proc.returncode, proc.stdout, results


def output_tail(output, lines=25):
    return " | ".join(line.strip() for line in output.splitlines()[-lines:] if line.strip())


def dbt_ok(*args):
    """Runs dbt and fails, with the end of dbt's output, unless it exits 0."""
    status, output, results = dbt(*args)
    if status != 0:
        raise AssertionError(f"dbt {' '.join(args)} exited with {status}: {output_tail(output)}")
    return results


def relkinds():
    return dict(query(
        "SELECT c.relname, c.relkind::text FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relname LIKE 'dbt\\_%' AND c.relkind IN ('r', 'v', 'm')"))


def oids():
    return dict(query(
        "SELECT relname, oid::bigint FROM pg_class "
        "WHERE relname IN ('dbt_paid_orders', 'dbt_customers', 'dbt_revenue', 'dbt_big_orders')"))


PAID = [(1, "ann", Decimal("10.50")), (2, "bob", Decimal("3.00")), (3, "ann", Decimal("4.25"))]
CUSTOMERS = [("ann",), ("bob",), ("cid",)]
REVENUE = [("ann", 2, Decimal("14.75")), ("bob", 1, Decimal("3.00"))]
# After the inserts of inserted_rows_show_in_the_view_and_after_a_run_in_the_table.
PAID_LATER = PAID + [(6, "dee", Decimal("20.00")), (7, "ann", Decimal("1.25"))]
CUSTOMERS_LATER = CUSTOMERS + [("dee",)]
REVENUE_LATER = [("ann", 3, Decimal("16.00")), ("bob", 1, Decimal("3.00")), ("dee", 1, Decimal("20.00"))]


def big(paid):
    return [row for row in paid if row[2] >= 10]


def expect_models(paid, customers, revenue, when):
    expect(query("SELECT id, customer, amount FROM dbt_paid_orders ORDER BY id"), paid,
           f"dbt_paid_orders {when}")
    expect(query("SELECT name FROM dbt_customers ORDER BY name"), customers,
           f"dbt_customers {when}")
    expect(query("SELECT customer, orders, total FROM dbt_revenue ORDER BY customer"), revenue,
           f"dbt_revenue {when}")
    expect(query("SELECT id, customer, amount FROM dbt_big_orders ORDER BY id"), big(paid),
           f"dbt_big_orders {when}")


def setup():
    global IS_POSTGRES
    raw(DROPS, ignore_errors=True)
    raw([
        "CREATE TABLE dbt_orders (id integer PRIMARY KEY, customer text NOT NULL,"
        " status text NOT NULL, amount numeric(10,2))",
        "INSERT INTO dbt_orders VALUES (1, 'ann', 'paid', 10.50), (2, 'bob', 'paid', 3.00),"
        " (3, 'ann', 'paid', 4.25), (4, 'cid', 'pending', 7.00), (5, 'bob', 'refunded', 2.00)",
    ])
    IS_POSTGRES = "Freshet" not in query("SELECT version()")[0][0]


FIRST_OIDS = {}


@check
def dbt_debug_connects():
    status, output, _ = dbt("debug")
    expect(status, 0, f"dbt debug's exit status ({output_tail(output)})")
    if "All checks passed!" not in output:
        raise AssertionError(f"dbt debug did not pass: {output_tail(output)}")


@check
def first_run_builds_the_four_models():
    results = dbt_ok("run")
    expect(sorted(results), sorted(MODELS), "the models dbt ran")
    expect({n: r["status"] for n, r in results.items()}, {n: "success" for n in MODELS},
           "each model's status")
    # The table is made by `create table ... as (select ...)`, which answers with its rows.
    expect(results["dbt_customers"]["adapter_response"].get("_message"), "SELECT 3",
           "what the server answered to dbt_customers' statement")
    expect(relkinds(), KINDS, "the relations and their kinds")
    expect_models(PAID, CUSTOMERS, REVENUE, "after the first run")
    FIRST_OIDS.update(oids())


@check
def second_run_replaces_the_view_and_table_and_refreshes_the_materialized_view():
    results = dbt_ok("run")
    expect({n: r["status"] for n, r in results.items()}, {n: "success" for n in MODELS},
           "each model's status")
    # No __dbt_tmp or __dbt_backup relation is left behind.
    expect(relkinds(), KINDS, "the relations and their kinds")
    expect_models(PAID, CUSTOMERS, REVENUE, "after the second run")
    now = oids()
    # The views and the table are new relations; the materialized view is the same one,
    # refreshed.
    for name in ["dbt_paid_orders", "dbt_customers", "dbt_big_orders"]:
        if now[name] == FIRST_OIDS[name]:
            raise AssertionError(f"{name} was not replaced (same oid {now[name]})")
    expect(now["dbt_revenue"], FIRST_OIDS["dbt_revenue"], "dbt_revenue's oid")
    expect(results["dbt_revenue"]["adapter_response"].get("_message"), "REFRESH MATERIALIZED VIEW",
           "what the server answered to dbt_revenue's statement")


@check
def inserted_rows_show_in_the_view_and_after_a_run_in_the_table():
    raw(["INSERT INTO dbt_orders VALUES (6, 'dee', 'paid', 20.00), (7, 'ann', 'paid', 1.25),"
         " (8, 'ann', 'pending', 9.00)"])
    # A view reads dbt_orders as it is now; the table is what the last run wrote; a
    # materialized view is kept fresh by Freshet, and is refreshed by the next run on PostgreSQL.
    revenue_now = REVENUE if IS_POSTGRES else REVENUE_LATER
    expect_models(PAID_LATER, CUSTOMERS, revenue_now, "after the inserts")
    dbt_ok("run")
    expect_models(PAID_LATER, CUSTOMERS_LATER, REVENUE_LATER, "after the inserts and a run")


@check
def dbt_test_passes_every_generic_test():
    results = dbt_ok("test", "--exclude", "tag:deliberately_failing")
    expect(len(results), GENERIC_TESTS, f"the number of tests run ({sorted(results)})")
    expect({r["status"] for r in results.values()}, {"pass"}, "the tests' statuses")


@check
def a_test_that_finds_rows_fails():
    status, output, results = dbt("test", "--select", "dbt_no_refunds")
    expect(status, 1, f"dbt test's exit status ({output_tail(output)})")
    expect(sorted(results), ["dbt_no_refunds"], "the tests run")
    result = results["dbt_no_refunds"]
    expect((result["status"], result["failures"]), ("fail", 1),
           f"the test's status and failing rows ({result['message']})")


@check
def a_relationships_test_fails_when_a_key_is_missing():
    # An order by a customer the table does not have yet (until the next run).
    raw(["INSERT INTO dbt_orders VALUES (9, 'eve', 'paid', 5.00)"])
    status, output, results = dbt("test", "--select", "dbt_paid_orders,test_name:relationships")
    expect(status, 1, f"dbt test's exit status ({output_tail(output)})")
    expect([(r["status"], r["failures"]) for r in results.values()], [("fail", 1)],
           "the relationships test's status and failing rows")


def main():
    try:
        checks.run("setup", setup)
        if not checks.FAILED:
            checks.run_all()
    finally:
        raw(DROPS, ignore_errors=True)
        shutil.rmtree(WORK, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    main()
