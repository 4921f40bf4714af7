#!/usr/bin/env python3
"""psycopg 3 against the server at $FRESHET_URL.

Prints `ok NAME` or `FAIL NAME: ERROR` per check and exits 1 if any check failed. Every
object it creates starts with `psycopg3_`, is dropped first if left over, and again at the
end. psycopg 3 binds parameters on the server (extended protocol, $1 placeholders with the
parameter types it infers from the Python values), prepares a statement on the server once
it has run 5 times, reads and writes the binary format on request, pipelines executemany,
uses SAVEPOINTs for nested `conn.transaction()` blocks and has its own COPY API: each of
these is checked the way a user would, by the rows and values that come back.
"""

import datetime
import logging
import os
import uuid
from decimal import Decimal

import psycopg
import psycopg.errors
from psycopg.types.json import Jsonb

import checks
from checks import check, expect

URL = os.environ["FRESHET_URL"]
IS_POSTGRES = False

checks.configure(sqlstate_attr="sqlstate")


def connect(autocommit=False):
    return psycopg.connect(URL, connect_timeout=10, autocommit=autocommit)


def execute_all(statements, ignore_errors=False):
    with connect(autocommit=True) as conn:
        checks.execute_all(conn.execute, statements, psycopg.Error, ignore_errors)


DROPS = [
    "DROP MATERIALIZED VIEW IF EXISTS psycopg3_totals",
    "DROP TABLE IF EXISTS psycopg3_orders",
    "DROP TABLE IF EXISTS psycopg3_t",
    "DROP TABLE IF EXISTS psycopg3_types",
    "DROP TABLE IF EXISTS psycopg3_copy",
    "DROP TABLE IF EXISTS psycopg3_ddl",
]

UTC = datetime.timezone.utc
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
     datetime.datetime(2024, 2, 29, 11, 45, 30, 123456, tzinfo=UTC), datetime.datetime, 1184),
    ("c_interval", "interval", datetime.timedelta(days=3, hours=4, minutes=5, seconds=6, microseconds=7),
     datetime.timedelta(days=3, hours=4, minutes=5, seconds=6, microseconds=7), datetime.timedelta, 1186),
    ("c_jsonb", "jsonb", Jsonb({"a": [1, 2.5, "x"], "b": None, "c": {"d": True}}),
     {"a": [1, 2.5, "x"], "b": None, "c": {"d": True}}, dict, 3802),
    ("c_uuid", "uuid", uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
     uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), uuid.UUID, 2950),
    ("c_bytea", "bytea", bytes(range(256)), bytes(range(256)), bytes, 17),
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
        "CREATE TABLE psycopg3_t (id int PRIMARY KEY, name text, qty int)",
        f"CREATE TABLE psycopg3_types (id int PRIMARY KEY, {columns})",
        "CREATE TABLE psycopg3_copy (id int, name text, price numeric, at timestamptz)",
        "CREATE TABLE psycopg3_orders (item text, qty int)",
        "CREATE MATERIALIZED VIEW psycopg3_totals AS "
        "SELECT item, sum(qty) AS total, count(*) AS n FROM psycopg3_orders GROUP BY item",
    ])
    with connect(autocommit=True) as conn:
        IS_POSTGRES = "Freshet" not in conn.execute("SELECT version()").fetchone()[0]


@check
def simple_select_values_and_column_names():
    with connect() as conn:
        cur = conn.execute("SELECT 1 AS one, 'two' AS two, NULL::int AS nothing")
        expect(cur.fetchall(), [(1, "two", None)], "rows")
        expect([d.name for d in cur.description], ["one", "two", "nothing"], "column names")
        expect([d.type_code for d in cur.description], [23, 25, 23], "column type OIDs")


@check
def rowcounts_and_fetch_methods():
    with connect(autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)")
        expect(cur.rowcount, 3, "INSERT rowcount")
        cur.execute("UPDATE psycopg3_t SET qty = qty + 1 WHERE id >= 2")
        expect(cur.rowcount, 2, "UPDATE rowcount")
        cur.execute("SELECT id, name, qty FROM psycopg3_t WHERE id <= 3 ORDER BY id")
        expect(cur.fetchone(), (1, "a", 10), "fetchone")
        expect(cur.fetchmany(1), [(2, "b", 21)], "fetchmany(1)")
        expect(cur.fetchall(), [(3, "c", 31)], "fetchall")
        cur.execute("DELETE FROM psycopg3_t WHERE id = 3")
        expect(cur.rowcount, 1, "DELETE rowcount")


@check
def parameter_arithmetic():
    # psycopg sends a Python int as the smallest type that holds it: 41 goes as int2.
    with connect() as conn:
        expect(conn.execute("SELECT %s + 1 AS answer", (41,)).fetchone(), (42,), "41 + 1")
        expect(conn.execute("SELECT %s * %s AS product", (100000, 3)).fetchone(), (300000,), "int4 * int2")


@check
def parameters_text_and_named():
    tricky = "it's \"quoted\" \\ back; -- not a comment"
    with connect() as conn:
        expect(conn.execute("SELECT %s AS s, %s || 'x' AS t", (tricky, "a")).fetchone(), (tricky, "ax"),
               "text parameters")
        expect(conn.execute("SELECT %(a)s::int * %(b)s::int AS product, %(a)s::int AS a", {"a": 6, "b": 7}).fetchone(),
               (42, 6), "named parameters")


@check
def parameter_compared_with_int4_column():
    with connect() as conn:
        rows = conn.execute("SELECT name FROM psycopg3_t WHERE id = %s AND name = %s", (1, "a")).fetchall()
        expect(rows, [("a",)], "WHERE id = $1 (an int2 parameter) AND name = $2")
        rows = conn.execute("SELECT count(*) FROM psycopg3_t WHERE id BETWEEN %s AND %s", (1, 2)).fetchall()
        expect(rows, [(2,)], "WHERE id BETWEEN $1 AND $2")


@check
def list_parameter_with_any():
    with connect() as conn:
        rows = conn.execute("SELECT count(*) FROM psycopg3_t WHERE id = ANY(%s)", ([1, 2, 99],)).fetchall()
        expect(rows, [(2,)], "a list parameter with = ANY")


@check
def null_parameter_in_update_returning():
    with connect() as conn:
        rows = conn.execute("UPDATE psycopg3_t SET name = %s WHERE name = %s RETURNING id, name",
                            (None, "b")).fetchall()
        expect(rows, [(2, None)], "NULL parameter in UPDATE ... RETURNING")
        conn.rollback()


@check
def int_parameters_stored_in_int4_column():
    # A user writes ids with parameters and reads them back with plain SQL.
    with connect(autocommit=True) as conn:
        conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (%s, %s, %s)", (50, "param", 5))
        rows = conn.execute("SELECT id, qty + 1 FROM psycopg3_t WHERE id = 50").fetchall()
        expect(rows, [(50, 6)], "the row read back by WHERE id = 50, qty + 1")
        rows = conn.execute("SELECT count(*) FROM psycopg3_t WHERE id >= 50 AND id < 51").fetchall()
        expect(rows, [(1,)], "rows with id >= 50 AND id < 51")


@check
def executemany_pipelined():
    with connect() as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO psycopg3_t (id, name, qty) VALUES (%s, %s, %s)",
                        [(10 + i, f"n{i}", i) for i in range(10)])
        conn.commit()
        rows = cur.execute("SELECT id, name, qty FROM psycopg3_t WHERE id BETWEEN 10 AND 19 ORDER BY id").fetchall()
        expect(rows, [(10 + i, f"n{i}", i) for i in range(10)], "rows")
        conn.commit()


@check
def explicit_pipeline():
    # Text parameters only: the pipeline itself is what this checks.
    with connect(autocommit=True) as conn:
        with conn.pipeline():
            c1 = conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (30, %s, 1)", ("p",))
            c2 = conn.execute("SELECT count(*) FROM psycopg3_t WHERE name = %s", ("a",))
            c3 = conn.execute("SELECT %s::text || 'b'", ("a",))
        expect(c1.rowcount, 1, "INSERT rowcount in the pipeline")
        expect(c2.fetchone(), (1,), "first SELECT in the pipeline")
        expect(c3.fetchone(), ("ab",), "second SELECT in the pipeline")
        expect(conn.execute("SELECT name FROM psycopg3_t WHERE id = 30").fetchall(), [("p",)], "inserted row")


@check
def prepared_statement_after_repeated_use():
    with connect(autocommit=True) as conn:
        expect(conn.prepare_threshold, 5, "psycopg's default prepare threshold")
        query = "SELECT name, qty FROM psycopg3_t WHERE id = %s"
        for i in range(8):
            row = conn.execute(query, (10 + i,)).fetchone()
            expect(row, (f"n{i}", i), f"row of execution {i + 1}")
        names = [key for key in conn._prepared._names if b"psycopg3_t WHERE id" in key[0]]
        expect(len(names), 1, "statements psycopg prepared on the server")


@check
def prepared_insert_after_repeated_use():
    with connect(autocommit=True) as conn:
        for i in range(7):
            conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (%s, %s, %s)", (40 + i, f"i{i}", i * 2))
        rows = conn.execute("SELECT id, qty FROM psycopg3_t WHERE id BETWEEN 40 AND 46 ORDER BY id").fetchall()
        expect(rows, [(40 + i, i * 2) for i in range(7)], "rows inserted by a prepared INSERT")


@check
def rollback_after_prepared_statements():
    # psycopg forgets its prepared statements on ROLLBACK and sends DEALLOCATE ALL; a failure
    # there is only logged, so the check collects psycopg's log records.
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("psycopg")
    logger.addHandler(handler)
    try:
        with connect() as conn:
            for i in range(6):
                expect(conn.execute("SELECT %s || '!'", (str(i),)).fetchone(), (f"{i}!",), f"execution {i + 1}")
            conn.rollback()
            for i in range(6):
                expect(conn.execute("SELECT %s || '!'", (str(i),)).fetchone(), (f"{i}!",), f"execution {i + 7}")
            conn.rollback()
    finally:
        logger.removeHandler(handler)
    expect([r.getMessage() for r in records], [], "psycopg's log messages")


@check
def explicit_prepare_true():
    with connect(autocommit=True) as conn:
        for i in range(3):
            row = conn.execute("SELECT name FROM psycopg3_t WHERE name = %s", ("a",), prepare=True).fetchone()
            expect(row, ("a",), f"row of prepared execution {i + 1}")


@check
def transaction_commit_makes_insert_visible():
    with connect() as conn, connect(autocommit=True) as other:
        conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (20, 'committed', 1)")
        expect(other.execute("SELECT count(*) FROM psycopg3_t WHERE id = 20").fetchone()[0], 0,
               "rows another connection sees before COMMIT")
        conn.commit()
        expect(other.execute("SELECT name FROM psycopg3_t WHERE id = 20").fetchall(), [("committed",)],
               "rows another connection sees after COMMIT")


@check
def transaction_rollback_discards_insert():
    with connect() as conn:
        conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (21, 'rolled back', 1)")
        conn.rollback()
        expect(conn.execute("SELECT count(*) FROM psycopg3_t WHERE id = 21").fetchone()[0], 0, "rows after ROLLBACK")
        conn.rollback()


@check
def transaction_reads_its_own_insert():
    with connect() as conn:
        expect(conn.execute("SELECT count(*) FROM psycopg3_t WHERE id = 22").fetchone()[0], 0, "rows before")
        conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (22, 'mine', 1)")
        expect(conn.execute("SELECT name FROM psycopg3_t WHERE id = 22").fetchall(), [("mine",)],
               "rows the same transaction reads after its INSERT")
        conn.commit()


@check
def transaction_block_commits():
    with connect(autocommit=True) as conn:
        with conn.transaction():
            conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (23, 'block', 1)")
            conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (24, 'block', 2)")
        rows = conn.execute("SELECT id FROM psycopg3_t WHERE id IN (23, 24) ORDER BY id").fetchall()
        expect(rows, [(23,), (24,)], "rows after the block")


@check
def transaction_block_rolls_back_on_exception():
    with connect(autocommit=True) as conn:
        try:
            with conn.transaction():
                conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (25, 'undone', 1)")
                raise KeyError("boom")
        except KeyError:
            pass
        expect(conn.execute("SELECT count(*) FROM psycopg3_t WHERE id = 25").fetchone()[0], 0,
               "rows after the block raised")


@check
def nested_transaction_blocks_use_savepoints():
    with connect(autocommit=True) as conn:
        with conn.transaction():
            conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (26, 'outer', 1)")
            with conn.transaction():
                conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (27, 'kept inner', 1)")
            try:
                with conn.transaction():
                    conn.execute("INSERT INTO psycopg3_t (id, name, qty) VALUES (28, 'undone inner', 1)")
                    raise KeyError("boom")
            except KeyError:
                pass
        rows = conn.execute("SELECT id, name FROM psycopg3_t WHERE id BETWEEN 26 AND 28 ORDER BY id").fetchall()
        expect(rows, [(26, "outer"), (27, "kept inner")], "rows after the outer block")


@check
def ddl_inside_a_transaction():
    with connect() as conn:
        conn.execute("CREATE TABLE psycopg3_ddl (id int)")
        conn.execute("INSERT INTO psycopg3_ddl VALUES (1)")
        conn.commit()
        expect(conn.execute("SELECT id FROM psycopg3_ddl").fetchall(), [(1,)], "rows of the new table")
        conn.execute("DROP TABLE psycopg3_ddl")
        conn.commit()


@check
def error_aborts_transaction_until_rollback():
    with connect() as conn:
        try:
            conn.execute("SELECT * FROM psycopg3_no_such_table")
            raise AssertionError("selecting from a missing table did not fail")
        except psycopg.errors.UndefinedTable:
            pass
        try:
            conn.execute("SELECT 1")
            raise AssertionError("a statement after an error in a transaction did not fail")
        except psycopg.errors.InFailedSqlTransaction:
            pass
        conn.rollback()
        expect(conn.execute("SELECT 2").fetchone(), (2,), "a query after ROLLBACK")
        conn.rollback()


T1 = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def copied_rows(conn, low, high):
    # Literal bounds: this reads what COPY wrote without depending on parameter types.
    return conn.execute(f"SELECT id, name, price, at FROM psycopg3_copy WHERE id BETWEEN {int(low)} AND {int(high)} "
                        "ORDER BY id").fetchall()


@check
def copy_from_stdin_write_row():
    with connect(autocommit=True) as conn, conn.cursor() as cur:
        with cur.copy("COPY psycopg3_copy (id, name, price, at) FROM STDIN") as copy:
            copy.write_row((1, "pen\twith tab", Decimal("1.50"), T1))
            copy.write_row((2, None, None, None))
        expect(copied_rows(conn, 1, 2), [(1, "pen\twith tab", Decimal("1.50"), T1), (2, None, None, None)],
               "rows copied")


@check
def copy_from_stdin_csv_blocks():
    with connect(autocommit=True) as conn, conn.cursor() as cur:
        with cur.copy("COPY psycopg3_copy (id, name, price) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write('3,"pad, ""A4""",3.25\n')
            copy.write("4,cup,4\n")
        expect(copied_rows(conn, 3, 4), [(3, 'pad, "A4"', Decimal("3.25"), None), (4, "cup", Decimal("4"), None)],
               "rows copied")


@check
def copy_binary_from_stdin():
    with connect(autocommit=True) as conn, conn.cursor() as cur:
        with cur.copy("COPY psycopg3_copy (id, name, price, at) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "text", "numeric", "timestamptz"])
            copy.write_row((5, "bin", Decimal("5.5"), T1))
            copy.write_row((6, None, Decimal("-0.001"), None))
        expect(copied_rows(conn, 5, 6), [(5, "bin", Decimal("5.5"), T1), (6, None, Decimal("-0.001"), None)],
               "rows copied")


@check
def copy_to_stdout_rows():
    with connect(autocommit=True) as conn, conn.cursor() as cur:
        conn.execute("INSERT INTO psycopg3_copy VALUES (100, 'out', 1.25, '2024-05-06 07:08:09+00'), "
                     "(101, E'tab\\tx', NULL, NULL)")
        with cur.copy("COPY (SELECT id, name, price, at FROM psycopg3_copy WHERE id >= 100 ORDER BY id) "
                      "TO STDOUT") as copy:
            copy.set_types(["int4", "text", "numeric", "timestamptz"])
            rows = list(copy.rows())
        expect(rows, [(100, "out", Decimal("1.25"), T1), (101, "tab\tx", None, None)], "rows copied out")


@check
def copy_binary_to_stdout():
    with connect(autocommit=True) as conn, conn.cursor() as cur:
        conn.execute("INSERT INTO psycopg3_copy VALUES (102, 'bin out', 2.5, NULL)")
        with cur.copy("COPY (SELECT id, name, price FROM psycopg3_copy WHERE id = 102) TO STDOUT (FORMAT BINARY)") \
                as copy:
            copy.set_types(["int4", "text", "numeric"])
            rows = list(copy.rows())
        expect(rows, [(102, "bin out", Decimal("2.5"))], "rows copied out")


def type_check(column, sent, expected, python_type, oid, binary):
    row_id = [t[0] for t in TYPES].index(column) + (100 if binary else 1)

    def run():
        placeholder = "%b" if binary else "%s"
        with connect() as conn:
            conn.execute(f"INSERT INTO psycopg3_types (id, {column}) VALUES ({placeholder}, {placeholder})",
                         (row_id, sent))
            conn.commit()
            cur = conn.cursor(binary=binary)
            cur.execute(f"SELECT {column} FROM psycopg3_types WHERE id = %s", (row_id,))
            value = cur.fetchone()[0]
            expect(cur.pgresult.fformat(0), 1 if binary else 0, "result format (0 text, 1 binary)")
            expect(cur.description[0].type_code, oid, "result type OID")
            expect(type(value), python_type, "Python type")
            expect(value, expected, "value read back")
            conn.commit()
    run.__name__ = f"type_round_trip_{'binary' if binary else 'text'}_{column[2:]}"
    return run


for _binary in (False, True):
    for _column, _sql_type, _sent, _expected, _python_type, _oid in TYPES:
        check(type_check(_column, _sent, _expected, _python_type, _oid, _binary))


@check
def binary_results_of_literals():
    with connect() as conn:
        cur = conn.execute("SELECT 1::int8 AS a, 2.5::numeric AS b, 'x'::text AS c, true AS d, "
                           "'2024-02-29'::date AS e, ARRAY[1, 2]::int4[] AS f, NULL::int4 AS g", binary=True)
        expect(cur.fetchone(), (1, Decimal("2.5"), "x", True, datetime.date(2024, 2, 29), [1, 2], None), "row")


@check
def materialized_view_reflects_inserts():
    with connect() as conn:
        def totals():
            if IS_POSTGRES:  # PostgreSQL's materialized views are refreshed by hand
                conn.execute("REFRESH MATERIALIZED VIEW psycopg3_totals")
            cur = conn.execute("SELECT item, total, n FROM psycopg3_totals ORDER BY item")
            rows = cur.fetchall()
            expect([d.name for d in cur.description], ["item", "total", "n"], "column names")
            conn.commit()
            return rows
        conn.execute("INSERT INTO psycopg3_orders VALUES ('pen', 2), ('pen', 3), ('ink', 1)")
        conn.commit()
        expect(totals(), [("ink", 1, 1), ("pen", 5, 2)], "view after the first INSERT")
        conn.execute("INSERT INTO psycopg3_orders VALUES (%s, %s)", ("ink", 10))
        conn.commit()
        expect(totals(), [("ink", 11, 2), ("pen", 5, 2)], "view after the second INSERT")


@check
def cleanup():
    execute_all(DROPS)


if __name__ == "__main__":
    checks.main()
