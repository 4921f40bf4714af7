#!/usr/bin/env python3
"""SQLAlchemy 2 (and pandas on top of it) against the server at $FRESHET_URL.

Every check runs twice, once per PostgreSQL driver SQLAlchemy ships a dialect for:
`postgresql+psycopg2` and `postgresql+psycopg` (psycopg 3); a check is named
`DRIVER/what`. Prints `ok NAME` or `FAIL NAME: ERROR` per check and exits 1 if any check
failed. Every object it creates starts with `sqlalchemy_`, is dropped first if left over,
and again at the end (setup and cleanup use plain psycopg2, so that they do not depend on
what is being checked). Reflection through `inspect(engine)` reads pg_catalog with the
queries the dialect sends to PostgreSQL; the checks compare what it returns with what
PostgreSQL returns for the same DDL.
"""

import datetime
import os
from decimal import Decimal

import pandas as pd
import psycopg2
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import checks
from checks import expect, run

URL = os.environ["FRESHET_URL"]
IS_POSTGRES = False
DRIVERS = ["psycopg2", "psycopg"]


def one_line(error):
    if isinstance(error, sa.exc.DBAPIError) and error.orig is not None:
        orig = error.orig
        code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
        text = f"{type(error).__name__}({type(orig).__name__}): {orig}"
        if code:
            text += f" (SQLSTATE {code})"
        statement = " ".join(str(error.statement or "").split())
        if statement:
            text += f" [SQL: {statement[:600]}]"
    else:
        text = f"{type(error).__name__}: {error}"
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


checks.configure(timeout=60.0, describe=one_line)


def sa_url(driver):
    rest = URL.split("://", 1)[1]
    return f"postgresql+{driver}://{rest}"


def raw(statements, ignore_errors=False):
    conn = psycopg2.connect(URL, connect_timeout=10)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            checks.execute_all(cur.execute, statements, psycopg2.Error, ignore_errors)
    finally:
        conn.close()


DROPS = [
    "DROP MATERIALIZED VIEW IF EXISTS sqlalchemy_totals",
    "DROP VIEW IF EXISTS sqlalchemy_cheap",
    "DROP TABLE IF EXISTS sqlalchemy_items",
] + [f"DROP TABLE IF EXISTS sqlalchemy_pd_{driver}" for driver in DRIVERS]


def setup():
    global IS_POSTGRES
    raw(DROPS, ignore_errors=True)
    raw([
        "CREATE TABLE sqlalchemy_items ("
        " id integer PRIMARY KEY,"
        " code varchar(20) NOT NULL UNIQUE,"
        " name text DEFAULT 'pen',"
        " price numeric(10,2),"
        " qty bigint NOT NULL DEFAULT 0,"
        " ratio double precision,"
        " active boolean,"
        " created timestamp,"
        " updated timestamptz,"
        " attrs jsonb)",
        "CREATE INDEX sqlalchemy_items_name_idx ON sqlalchemy_items (name)",
        "CREATE VIEW sqlalchemy_cheap AS SELECT id, name, price FROM sqlalchemy_items WHERE price < 10",
        "CREATE MATERIALIZED VIEW sqlalchemy_totals AS "
        "SELECT name, count(*) AS n, sum(qty) AS qty FROM sqlalchemy_items GROUP BY name",
        "CREATE INDEX sqlalchemy_totals_name_idx ON sqlalchemy_totals (name)",
        "INSERT INTO sqlalchemy_items (id, code, name, price, qty, active) VALUES "
        "(1001, 'base-a', 'pen', 1.50, 3, true), (1002, 'base-b', 'ink', 12.00, 4, false)",
    ])
    conn = psycopg2.connect(URL, connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version()")
            IS_POSTGRES = "Freshet" not in cur.fetchone()[0]
    finally:
        conn.close()


# The table as a user declares it in code (Core checks do not depend on reflection).
ITEMS = sa.Table(
    "sqlalchemy_items", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(20), nullable=False, unique=True),
    sa.Column("name", sa.Text, server_default="pen"),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("qty", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("ratio", sa.Float(53)),
    sa.Column("active", sa.Boolean),
    sa.Column("created", sa.DateTime),
    sa.Column("updated", sa.DateTime(timezone=True)),
    sa.Column("attrs", postgresql.JSONB),
)


def ours(names):
    return sorted(n for n in names if n.startswith("sqlalchemy_") and not n.startswith("sqlalchemy_pd_"))


def checks_for(driver, engine, default_engine):
    # Ids of the rows this driver writes: each driver has its own range.
    base = 0 if driver == "psycopg2" else 100

    def engine_connect():
        # The engine exactly as create_engine() makes it: with psycopg 3 its first connection
        # also looks up the hstore type (psycopg's TypeInfo.fetch, inside a SAVEPOINT).
        with default_engine.connect() as conn:
            expect(conn.execute(sa.text("SELECT 1 + 1")).scalar(), 2, "SELECT 1 + 1")
        version = default_engine.dialect.server_version_info
        if not version or version[0] < 10:
            raise AssertionError(f"server_version_info parsed from version(): {version!r}")

    def get_table_names():
        expect(ours(sa.inspect(engine).get_table_names()), ["sqlalchemy_items"], "tables")

    def has_table():
        inspector = sa.inspect(engine)
        expect(inspector.has_table("sqlalchemy_items"), True, "has_table(sqlalchemy_items)")
        expect(inspector.has_table("sqlalchemy_missing"), False, "has_table(sqlalchemy_missing)")

    def get_view_names():
        expect(ours(sa.inspect(engine).get_view_names()), ["sqlalchemy_cheap"], "views")

    def get_materialized_view_names():
        expect(ours(sa.inspect(engine).get_materialized_view_names()), ["sqlalchemy_totals"], "materialized views")

    def get_columns():
        columns = sa.inspect(engine).get_columns("sqlalchemy_items")
        got = [(c["name"], repr(c["type"]), c["nullable"], c["default"]) for c in columns]
        expect(got, [
            ("id", "INTEGER()", False, None),
            ("code", "VARCHAR(length=20)", False, None),
            ("name", "TEXT()", True, "'pen'::text"),
            ("price", "NUMERIC(precision=10, scale=2)", True, None),
            ("qty", "BIGINT()", False, "0"),
            ("ratio", "DOUBLE_PRECISION(precision=53)", True, None),
            ("active", "BOOLEAN()", True, None),
            ("created", "TIMESTAMP()", True, None),
            ("updated", "TIMESTAMP(timezone=True)", True, None),
            ("attrs", "JSONB(astext_type=Text())", True, None),
        ], "(name, type, nullable, default) of each column")

    def get_columns_of_views():
        inspector = sa.inspect(engine)
        got = [(c["name"], repr(c["type"])) for c in inspector.get_columns("sqlalchemy_cheap")]
        expect(got, [("id", "INTEGER()"), ("name", "TEXT()"), ("price", "NUMERIC(precision=10, scale=2)")],
               "view columns")
        got = [(c["name"], repr(c["type"])) for c in inspector.get_columns("sqlalchemy_totals")]
        expect(got, [("name", "TEXT()"), ("n", "BIGINT()"), ("qty", "NUMERIC()")], "materialized view columns")

    def get_pk_constraint():
        pk = sa.inspect(engine).get_pk_constraint("sqlalchemy_items")
        expect((pk["name"], pk["constrained_columns"]), ("sqlalchemy_items_pkey", ["id"]), "(name, columns)")

    def get_unique_constraints():
        uniques = sa.inspect(engine).get_unique_constraints("sqlalchemy_items")
        expect([(u["name"], u["column_names"]) for u in uniques], [("sqlalchemy_items_code_key", ["code"])],
               "(name, columns) of each unique constraint")

    def get_indexes():
        inspector = sa.inspect(engine)
        # PostgreSQL lists the index behind a UNIQUE constraint too, marked as duplicating it.
        indexes = [i for i in inspector.get_indexes("sqlalchemy_items") if "duplicates_constraint" not in i]
        expect([(i["name"], i["column_names"], i["unique"]) for i in indexes],
               [("sqlalchemy_items_name_idx", ["name"], False)], "(name, columns, unique) of the table's indexes")
        indexes = inspector.get_indexes("sqlalchemy_totals")
        expect([(i["name"], i["column_names"], i["unique"]) for i in indexes],
               [("sqlalchemy_totals_name_idx", ["name"], False)],
               "(name, columns, unique) of the materialized view's indexes")

    def get_foreign_keys():
        expect(sa.inspect(engine).get_foreign_keys("sqlalchemy_items"), [], "foreign keys")

    def autoload_table():
        items = sa.Table("sqlalchemy_items", sa.MetaData(), autoload_with=engine)
        expect([c.name for c in items.columns],
               ["id", "code", "name", "price", "qty", "ratio", "active", "created", "updated", "attrs"], "columns")
        expect([c.name for c in items.primary_key.columns], ["id"], "primary key")
        expect(type(items.c.price.type), sa.NUMERIC, "type of price")
        expect(type(items.c.attrs.type), postgresql.JSONB, "type of attrs")
        expect(items.c.qty.nullable, False, "qty nullable")
        expect(sorted(i.name for i in items.indexes), ["sqlalchemy_items_name_idx"], "indexes")

    def core_insert_select():
        items = ITEMS
        created = datetime.datetime(2024, 1, 2, 3, 4, 5)
        updated = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        rows = [
            {"id": base + 1, "code": f"{driver}-a", "name": "pen", "price": Decimal("1.50"), "qty": 3,
             "ratio": 0.5, "active": True, "created": created, "updated": updated, "attrs": {"k": [1, 2]}},
            {"id": base + 2, "code": f"{driver}-b", "name": "ink", "price": Decimal("12.00"), "qty": 4,
             "ratio": None, "active": False, "created": None, "updated": None, "attrs": None},
        ]
        with engine.begin() as conn:
            conn.execute(items.insert(), rows)
        with engine.connect() as conn:
            got = conn.execute(
                sa.select(items).where(items.c.id.between(base + 1, base + 2)).order_by(items.c.id)
            ).mappings().all()
            expect([dict(r) for r in got], rows, "rows selected")
            cheap = conn.execute(
                sa.select(items.c.code).where(items.c.price < 10, items.c.code.like(f"{driver}-%"))
            ).scalars().all()
            expect(cheap, [f"{driver}-a"], "codes with price < 10")

    def core_insert_uses_defaults():
        items = ITEMS
        with engine.begin() as conn:
            conn.execute(items.insert().values(id=base + 3, code=f"{driver}-c"))
        with engine.connect() as conn:
            row = conn.execute(sa.select(items.c.name, items.c.qty).where(items.c.id == base + 3)).one()
            expect(tuple(row), ("pen", 0), "(name, qty) filled from the column defaults")

    def core_update_delete():
        items = ITEMS
        with engine.begin() as conn:
            conn.execute(items.insert(), [{"id": base + 10 + i, "code": f"{driver}-u{i}", "qty": i} for i in range(3)])
        with engine.begin() as conn:
            result = conn.execute(items.update().where(items.c.code.like(f"{driver}-u%")).values(qty=items.c.qty + 10))
            expect(result.rowcount, 3, "rows updated")
            result = conn.execute(items.delete().where(items.c.code == f"{driver}-u0"))
            expect(result.rowcount, 1, "rows deleted")
        with engine.connect() as conn:
            got = conn.execute(
                sa.select(items.c.code, items.c.qty).where(items.c.code.like(f"{driver}-u%")).order_by(items.c.code)
            ).all()
            expect([tuple(r) for r in got], [(f"{driver}-u1", 11), (f"{driver}-u2", 12)], "rows after UPDATE/DELETE")

    def rollback_discards_insert():
        items = ITEMS
        with engine.connect() as conn:
            conn.execute(items.insert().values(id=base + 20, code=f"{driver}-rb"))
            conn.rollback()
            count = conn.execute(sa.select(sa.func.count()).where(items.c.code == f"{driver}-rb")).scalar()
            expect(count, 0, "rows after rollback")

    def views_answer():
        with engine.connect() as conn:
            if IS_POSTGRES:  # PostgreSQL's materialized views are refreshed by hand
                conn.execute(sa.text("REFRESH MATERIALIZED VIEW sqlalchemy_totals"))
                conn.commit()
            cheap = conn.execute(sa.text(
                "SELECT id, name FROM sqlalchemy_cheap WHERE id BETWEEN :lo AND :hi ORDER BY id"),
                {"lo": 1001, "hi": 1002}).all()
            expect([tuple(r) for r in cheap], [(1001, "pen")], "rows of the view")
            totals = conn.execute(sa.text("SELECT name, n, qty FROM sqlalchemy_totals ORDER BY name")).all()
            names = [r[0] for r in totals]
            expect("pen" in names and "ink" in names, True, f"pen and ink among the names of {totals!r}")

    def pandas_read_sql():
        with engine.connect() as conn:
            df = pd.read_sql(sa.text(
                "SELECT id, code, name, price, qty, active FROM sqlalchemy_items "
                "WHERE id BETWEEN :lo AND :hi ORDER BY id"), conn, params={"lo": 1001, "hi": 1002})
        expect(list(df.columns), ["id", "code", "name", "price", "qty", "active"], "DataFrame columns")
        expect(df["id"].tolist(), [1001, 1002], "id column")
        expect(str(df["id"].dtype), "int64", "dtype of id")
        expect(df["code"].tolist(), ["base-a", "base-b"], "code column")
        expect(df["price"].tolist(), [1.5, 12.0], "price column (numeric coerced to float)")
        expect(df["qty"].tolist(), [3, 4], "qty column")
        expect(df["active"].tolist(), [True, False], "active column")

    def pandas_to_sql_and_back():
        table = f"sqlalchemy_pd_{driver}"
        frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None], "c": [0.5, 1.5, 2.5]})
        frame.to_sql(table, engine, index=False, if_exists="replace")
        with engine.connect() as conn:
            back = pd.read_sql(sa.text(f"SELECT a, b, c FROM {table} ORDER BY a"), conn)
        expect(back["a"].tolist(), [1, 2, 3], "a column")
        expect([None if pd.isna(v) else v for v in back["b"].tolist()], ["x", "y", None], "b column")
        expect(back["c"].tolist(), [0.5, 1.5, 2.5], "c column")

    return [engine_connect, get_table_names, has_table, get_view_names, get_materialized_view_names,
            get_columns, get_columns_of_views, get_pk_constraint, get_unique_constraints, get_indexes,
            get_foreign_keys, autoload_table, core_insert_select, core_insert_uses_defaults,
            core_update_delete, rollback_discards_insert, views_answer, pandas_read_sql,
            pandas_to_sql_and_back]


def main():
    run("setup", setup)
    for driver in DRIVERS:
        default_engine = sa.create_engine(sa_url(driver), connect_args={"connect_timeout": 10})
        # Every other check leaves out the hstore lookup that engine_connect checks, so that
        # each check fails only for what it is about.
        engine = sa.create_engine(sa_url(driver), connect_args={"connect_timeout": 10}, use_native_hstore=False)
        try:
            for fn in checks_for(driver, engine, default_engine):
                run(f"{driver}/{fn.__name__}", fn)
        finally:
            engine.dispose()
            default_engine.dispose()
    run("cleanup", raw, DROPS)
    checks.finish()


if __name__ == "__main__":
    main()
