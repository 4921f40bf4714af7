#!/usr/bin/env python3
"""psycopg2 (the most used Python driver) against the server at $FRESHET_URL.

Prints `ok NAME` or `FAIL NAME: ERROR` per check and exits 1 if any check failed. Every
object it creates starts with `psycopg2_`, is dropped first if left over, and again at the
end. The checks are what a psycopg2 user does: simple queries, client-side parameters,
transactions in the driver's default (autocommit off: psycopg2 sends BEGIN before the first
statement), COPY through copy_expert/copy_from, Python values of every common type going in
and coming back, and a materialized view following its table.
"""

import datetime
import io
import os
import uuid
from contextlib import closing
from decimal import Decimal

import psycopg2
import psycopg2.errors
import psycopg2.extras

import checks
from checks import check, expect

URL = os.environ["FRESHET_URL"]
IS_POSTGRES = False

psycopg2.extras.register_uuid()
checks.configure(sqlstate_attr="pgcode")


def connect(autocommit=False):
    conn = psycopg2.connect(URL, connect_timeout=10)
    conn.autocommit = autocommit
    return conn


def execute_all(statements, ignore_errors=False):
    with closing(connect(autocommit=True)) as conn, conn.cursor() as cur:
        checks.execute_all(cur.execute, statements, psycopg2.Error, ignore_errors)


DROPS = [
    "DROP MATERIALIZED VIEW IF EXISTS psycopg2_totals",
    "DROP TABLE IF EXISTS psycopg2_orders",
    "DROP TABLE IF EXISTS psycopg2_t",
    "DROP TABLE IF EXISTS psycopg2_types",
    "DROP TABLE IF EXISTS psycopg2_copy",
    "DROP TABLE IF EXISTS psycopg2_ddl",
]

TYPES = [
    # (column, SQL type, value sent, value expected back, Python type back, type OID)
    ("c_int2", "int2", 32767, 32767, int, 21),
    ("c_int4", "int4", -2147483648, -2147483648, int, 23),
    ("c_int8", "int8", 9223372036854775807, 9223372036854775807, int, 20),
    ("c_numeric", "numeric", Decimal("12345678901234567890.123456789"),
     Decimal("12345678901234567890.123456789"), Decimal, 1700),
    ("c_float8", "float8", 0.1 + 0.2, 0.30000000000000004, float, 701),
    ("c_text", "text", "h\u00e9llo 'w\"orld' \\ \t \u2603", "h\u00e9llo 'w\"orld' \\ \t \u2603", str, 25),
    ("c_bool", "bool", True, True, bool, 16),
    ("c_date", "date", datetime.date(2024, 2, 29), datetime.date(2024, 2, 29), datetime.date, 1082),
    ("c_timestamp", "timestamp", datetime.datetime(2024, 2, 29, 13, 45, 30, 123456),
     datetime.datetime(2024, 2, 29, 13, 45, 30, 123456), datetime.datetime, 1114),
    ("c_timestamptz", "timestamptz",
     datetime.datetime(2024, 2, 29, 13, 45, 30, 123456,
                       tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
     datetime.datetime(2024, 2, 29, 11, 45, 30, 123456, tzinfo=datetime.timezone.utc),
     datetime.datetime, 1184),
    ("c_interval", "interval", datetime.timedelta(days=3, hours=4, minutes=5, seconds=6, microseconds=7),
     datetime.timedelta(days=3, hours=4, minutes=5, seconds=6, microseconds=7), datetime.timedelta, 1186),
    ("c_jsonb", "jsonb", psycopg2.extras.Json({"a": [1, 2.5, "x"], "b": None, "c": {"d": True}}),
     {"a": [1, 2.5, "x"], "b": None, "c": {"d": True}}, dict, 3802),
    ("c_uuid", "uuid", uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
     uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), uuid.UUID, 2950),
    ("c_bytea", "bytea", psycopg2.Binary(bytes(range(256))), bytes(range(256)), memoryview, 17),
    ("c_int_array", "int4[]", [1, None, -3], [1, None, -3], list, 1007),
    ("c_text_array", "text[]", ["a", "b c", 'q"uote', "back\\slash", None, "", "NULL"],
     ["a", "b c", 'q"uote', "back\\slash", None, "", "NULL"], list, 1009),
]


@check
def setup():
    global IS_POSTGRES
    execute_all(DROPS, ignore_errors=True)
    columns = ", ".join(f"{column} {sql_type}" for column, sql_type, *_ in TYPES)
    execute_all([
        "CREATE TABLE psycopg2_t (id int PRIMARY KEY, name text, qty int)",
        f"CREATE TABLE psycopg2_types (id int PRIMARY KEY, {columns})",
        "CREATE TABLE psycopg2_copy (id int, name text, price numeric, note text)",
        "CREATE TABLE psycopg2_orders (item text, qty int)",
        "CREATE MATERIALIZED VIEW psycopg2_totals AS "
        "SELECT item, sum(qty) AS total, count(*) AS n FROM psycopg2_orders GROUP BY item",
    ])
    with closing(connect(autocommit=True)) as conn, conn.cursor() as cur:
        cur.execute("SELECT version()")
        IS_POSTGRES = "Freshet" not in cur.fetchone()[0]


@check
def simple_select_values_and_column_names():
    with closing(connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 AS one, 'two' AS two, NULL::int AS nothing")
        expect(cur.fetchall(), [(1, "two", None)], "rows")
        expect([d.name for d in cur.description], ["one", "two", "nothing"], "column names")
        expect([d.type_code for d in cur.description], [23, 25, 23], "column type OIDs")


@check
def rowcounts_and_fetch_methods():
    with closing(connect(autocommit=True)) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO psycopg2_t (id, name, qty) VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)")
        expect(cur.rowcount, 3, "INSERT rowcount")
        cur.execute("UPDATE psycopg2_t SET qty = qty + 1 WHERE id >= 2")
        expect(cur.rowcount, 2, "UPDATE rowcount")
        cur.execute("SELECT id, name, qty FROM psycopg2_t WHERE id <= 3 ORDER BY id")
        expect(cur.rowcount, 3, "SELECT rowcount")
        expect(cur.fetchone(), (1, "a", 10), "fetchone")
        expect(cur.fetchmany(1), [(2, "b", 21)], "fetchmany(1)")
        expect(cur.fetchall(), [(3, "c", 31)], "fetchall")
        cur.execute("DELETE FROM psycopg2_t WHERE id = 3")
        expect(cur.rowcount, 1, "DELETE rowcount")


@check
def parameters_positional_named_and_null():
    tricky = "it's \"quoted\" \\ back; -- not a comment"
    with closing(connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT %s + 1 AS answer, %s AS s, %s IS NULL AS isnull", (41, tricky, None))
        expect(cur.fetchone(), (42, tricky, True), "positional parameters")
        cur.execute("SELECT %(a)s * %(b)s AS product, %(a)s AS a", {"a": 6, "b": 7})
        expect(cur.fetchone(), (42, 6), "named parameters")
        cur.execute("SELECT name FROM psycopg2_t WHERE id = %s AND name = %s", (1, "a"))
        expect(cur.fetchall(), [("a",)], "parameters in WHERE")
        cur.execute("SELECT count(*) FROM psycopg2_t WHERE id IN %s", ((1, 2, 99),))
        expect(cur.fetchone(), (2,), "tuple parameter expanded for IN")


@check
def executemany_and_execute_values():
    with closing(connect()) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO psycopg2_t (id, name, qty) VALUES (%s, %s, %s)",
                        [(10, "x", 1), (11, "y", 2)])
        psycopg2.extras.execute_values(
            cur, "INSERT INTO psycopg2_t (id, name, qty) VALUES %s", [(12, "z", 3), (13, "w", 4)])
        conn.commit()
        cur.execute("SELECT id, name, qty FROM psycopg2_t WHERE id BETWEEN 10 AND 13 ORDER BY id")
        expect(cur.fetchall(), [(10, "x", 1), (11, "y", 2), (12, "z", 3), (13, "w", 4)], "rows")
        conn.commit()


@check
def transaction_commit_makes_insert_visible():
    with closing(connect()) as conn, closing(connect(autocommit=True)) as other:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO psycopg2_t (id, name, qty) VALUES (20, 'committed', 1)")
        with other.cursor() as cur:
            cur.execute("SELECT count(*) FROM psycopg2_t WHERE id = 20")
            expect(cur.fetchone()[0], 0, "rows another connection sees before COMMIT")
        conn.commit()
        with other.cursor() as cur:
            cur.execute("SELECT name FROM psycopg2_t WHERE id = 20")
            expect(cur.fetchall(), [("committed",)], "rows another connection sees after COMMIT")


@check
def transaction_rollback_discards_insert():
    with closing(connect()) as conn:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO psycopg2_t (id, name, qty) VALUES (21, 'rolled back', 1)")
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM psycopg2_t WHERE id = 21")
            expect(cur.fetchone()[0], 0, "rows after ROLLBACK")
        conn.rollback()


@check
def transaction_reads_its_own_insert():
    with closing(connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM psycopg2_t WHERE id = 22")
        expect(cur.fetchone()[0], 0, "rows before the INSERT")
        cur.execute("INSERT INTO psycopg2_t (id, name, qty) VALUES (22, 'mine', 1)")
        cur.execute("SELECT name FROM psycopg2_t WHERE id = 22")
        expect(cur.fetchall(), [("mine",)], "rows the same transaction reads after its INSERT")
        conn.commit()


@check
def connection_context_manager_commits():
    conn = connect()
    try:
        with conn:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO psycopg2_t (id, name, qty) VALUES (23, 'with', 1)")
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM psycopg2_t WHERE id = 23")
            expect(cur.fetchall(), [("with",)], "rows after `with conn:`")
        conn.rollback()
    finally:
        conn.close()


@check
def ddl_inside_a_transaction():
    with closing(connect()) as conn:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE psycopg2_ddl (id int)")
            cur.execute("INSERT INTO psycopg2_ddl VALUES (1)")
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM psycopg2_ddl")
            expect(cur.fetchall(), [(1,)], "rows of the table created in the transaction")
            cur.execute("DROP TABLE psycopg2_ddl")
        conn.commit()


@check
def error_aborts_transaction_until_rollback():
    with closing(connect()) as conn, conn.cursor() as cur:
        try:
            cur.execute("SELECT * FROM psycopg2_no_such_table")
            raise AssertionError("selecting from a missing table did not fail")
        except psycopg2.errors.UndefinedTable:
            pass
        try:
            cur.execute("SELECT 1")
            raise AssertionError("a statement after an error in a transaction did not fail")
        except psycopg2.errors.InFailedSqlTransaction:
            pass
        conn.rollback()
        cur.execute("SELECT 2")
        expect(cur.fetchone(), (2,), "a query after ROLLBACK")
        conn.rollback()


@check
def copy_expert_from_stdin_text():
    data = "1\tpen\t1.50\t\\N\n2\tink, blue\t20\ttab\\there\n"
    with closing(connect()) as conn, conn.cursor() as cur:
        cur.copy_expert("COPY psycopg2_copy (id, name, price, note) FROM STDIN", io.StringIO(data))
        expect(cur.rowcount, 2, "rows COPY reports")
        conn.commit()
        cur.execute("SELECT id, name, price, note FROM psycopg2_copy WHERE id <= 2 ORDER BY id")
        expect(cur.fetchall(), [(1, "pen", Decimal("1.50"), None), (2, "ink, blue", Decimal("20"), "tab\there")],
               "rows copied")
        conn.commit()


@check
def copy_expert_from_stdin_csv_with_header():
    data = 'id,name,price,note\n3,"pad, ""A4""",3.25,\n4,cup,4,"multi\nline"\n'
    with closing(connect()) as conn, conn.cursor() as cur:
        cur.copy_expert("COPY psycopg2_copy (id, name, price, note) FROM STDIN WITH (FORMAT csv, HEADER true)",
                        io.StringIO(data))
        conn.commit()
        cur.execute("SELECT id, name, price, note FROM psycopg2_copy WHERE id IN (3, 4) ORDER BY id")
        expect(cur.fetchall(), [(3, 'pad, "A4"', Decimal("3.25"), None), (4, "cup", Decimal("4"), "multi\nline")],
               "rows copied")
        conn.commit()


@check
def copy_from_file():
    with closing(connect()) as conn, conn.cursor() as cur:
        cur.copy_from(io.StringIO("5\tmug\t5.5\n6\tbox\t\\N\n"), "psycopg2_copy", columns=("id", "name", "price"))
        conn.commit()
        cur.execute("SELECT id, name, price FROM psycopg2_copy WHERE id IN (5, 6) ORDER BY id")
        expect(cur.fetchall(), [(5, "mug", Decimal("5.5")), (6, "box", None)], "rows copied")
        conn.commit()


@check
def copy_expert_table_to_stdout():
    with closing(connect(autocommit=True)) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO psycopg2_copy VALUES (100, 'out', 1.25, NULL), (101, 'tab\tand\\slash', NULL, 'x')")
        out = io.StringIO()
        cur.copy_expert("COPY (SELECT * FROM psycopg2_copy WHERE id >= 100 ORDER BY id) TO STDOUT", out)
        expect(out.getvalue(), "100\tout\t1.25\t\\N\n101\ttab\\tand\\\\slash\t\\N\tx\n", "COPY (query) TO STDOUT text")
        out = io.StringIO()
        cur.copy_expert("COPY psycopg2_copy (id, name) TO STDOUT", out)
        lines = sorted(out.getvalue().splitlines())
        expect("100\tout" in lines and "101\ttab\\tand\\\\slash" in lines, True,
               f"COPY table TO STDOUT contains the rows (got {lines!r})")


@check
def copy_expert_query_to_stdout_csv_with_header():
    with closing(connect(autocommit=True)) as conn, conn.cursor() as cur:
        out = io.StringIO()
        cur.copy_expert(
            "COPY (SELECT * FROM (VALUES (1, 'pad, \"A4\"', 3.25), (2, E'tab\\tand\\\\slash', NULL)) "
            "AS v (id, name, price) ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)", out)
        expect(out.getvalue(), 'id,name,price\n1,"pad, ""A4""",3.25\n2,tab\tand\\slash,\n', "CSV output")


def type_check(column, sent, expected, python_type, oid):
    def run():
        row_id = [t[0] for t in TYPES].index(column) + 1
        with closing(connect()) as conn, conn.cursor() as cur:
            cur.execute(f"INSERT INTO psycopg2_types (id, {column}) VALUES (%s, %s)", (row_id, sent))
            conn.commit()
            cur.execute(f"SELECT {column} FROM psycopg2_types WHERE id = %s", (row_id,))
            value = cur.fetchone()[0]
            expect(cur.description[0].type_code, oid, "result type OID")
            expect(type(value), python_type, "Python type")
            if isinstance(value, memoryview):
                value = value.tobytes()
            expect(value, expected, "value read back")
            conn.commit()
    run.__name__ = f"type_round_trip_{column[2:]}"
    return run


for _column, _sql_type, _sent, _expected, _python_type, _oid in TYPES:
    check(type_check(_column, _sent, _expected, _python_type, _oid))


@check
def type_null_round_trip_every_column():
    columns = [t[0] for t in TYPES]
    with closing(connect()) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO psycopg2_types (id) VALUES (1000)")
        conn.commit()
        cur.execute(f"SELECT {', '.join(columns)} FROM psycopg2_types WHERE id = 1000")
        expect(cur.fetchone(), tuple(None for _ in columns), "NULLs read back")
        conn.commit()


@check
def materialized_view_reflects_inserts():
    with closing(connect()) as conn, conn.cursor() as cur:
        def totals():
            if IS_POSTGRES:  # PostgreSQL's materialized views are refreshed by hand
                cur.execute("REFRESH MATERIALIZED VIEW psycopg2_totals")
            cur.execute("SELECT item, total, n FROM psycopg2_totals ORDER BY item")
            rows = cur.fetchall()
            conn.commit()
            return rows
        cur.execute("INSERT INTO psycopg2_orders VALUES ('pen', 2), ('pen', 3), ('ink', 1)")
        conn.commit()
        expect(totals(), [("ink", 1, 1), ("pen", 5, 2)], "view after the first INSERT")
        expect([d.name for d in cur.description], ["item", "total", "n"], "column names")
        cur.execute("INSERT INTO psycopg2_orders VALUES ('ink', 10)")
        conn.commit()
        expect(totals(), [("ink", 11, 2), ("pen", 5, 2)], "view after the second INSERT")


@check
def cleanup():
    execute_all(DROPS)


if __name__ == "__main__":
    checks.main()
