#!/usr/bin/env python3
"""alembic (SQLAlchemy's migration tool) migrates the server at $FRESHET_URL with the project
in tests/clients/alembic/: a table with a primary key and an index, a view, a materialized
view with an index, each revision with its downgrade.

Its env.py keeps alembic's default: every revision of one `upgrade` or `downgrade` runs in
one transaction, together with the changes to `alembic_version`. The checks run alembic's
command line (`python -m alembic`, as a user would) and, for the two revisions of
tests/clients/alembic/failing/ that exist only to fail, its Python API (`alembic.command`
with a Config that adds that folder): `upgrade head` runs every revision, a second one runs
none, `current` shows the head, `alembic_version` holds it, the objects exist and answer
queries, a failing upgrade and a failing downgrade change nothing, `stamp` moves the version
alone, `downgrade -1` and `downgrade base` take the objects away again, and `upgrade head`
puts them back. Prints `ok NAME` or `FAIL NAME: ERROR` per check and exits 1 if any check
failed. Every object it makes starts with `alembic_`; they are dropped first if left over,
and again at the end (with plain psycopg, so that setup and cleanup do not depend on what is
being checked).
"""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ next to the revision files

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

import checks  # noqa: E402
from checks import check, expect  # noqa: E402

URL = os.environ["FRESHET_URL"]
PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "alembic")
INI = os.path.join(PROJECT, "alembic.ini")
ALEMBIC_TIMEOUT = 60  # seconds one alembic command may take
IS_POSTGRES = False


def one_line(error):
    if isinstance(error, sa.exc.DBAPIError) and error.orig is not None:
        text = f"{type(error).__name__}({type(error.orig).__name__}): {error.orig}"
        code = getattr(error.orig, "sqlstate", None)
        if code:
            text += f" (SQLSTATE {code})"
        statement = " ".join(str(error.statement or "").split())
        if statement:
            text += f" [SQL: {statement[:600]}]"
    else:
        text = f"{type(error).__name__}: {error}"
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


checks.configure(timeout=120.0, describe=one_line)

# The project's revisions, oldest first, as alembic reads them from versions/.
REVISIONS = [s.revision for s in reversed(list(ScriptDirectory.from_config(Config(INI)).walk_revisions()))]
HEAD = REVISIONS[-1]
# The revisions of failing/, on top of HEAD: the first has a downgrade that fails, the second
# an upgrade that fails.
WRONG_DOWNGRADE = "e3a1b5c7d904"

# (name, relkind) of what the project makes, at its head.
AT_HEAD = [
    ("alembic_high_readings", "v"),
    ("alembic_readings", "r"),
    # The sequence of its BIGSERIAL key.
    ("alembic_readings_id_seq", "S"),
    ("alembic_readings_pkey", "i"),
    ("alembic_readings_sensor_idx", "i"),
    ("alembic_sensor_stats", "m"),
    ("alembic_sensor_stats_sensor_idx", "i"),
    ("alembic_version", "r"),
    ("alembic_version_pkc", "i"),
]
AT_BASE = [("alembic_version", "r"), ("alembic_version_pkc", "i")]

DROPS = [
    "DROP TABLE IF EXISTS alembic_doomed",
    "DROP MATERIALIZED VIEW IF EXISTS alembic_sensor_stats",
    "DROP VIEW IF EXISTS alembic_high_readings",
    "DROP TABLE IF EXISTS alembic_readings",
    "DROP TABLE IF EXISTS alembic_version",
]


def sql(query, params=None):
    """The rows `query` returns, on a connection of its own (autocommit)."""
    with psycopg.connect(URL, autocommit=True, connect_timeout=10) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else None


def relations():
    """(name, relkind) of every relation whose name starts with `alembic`, sorted."""
    rows = sql(
        "SELECT c.relname::text, c.relkind::text FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relname LIKE 'alembic%'"
    )
    return sorted(tuple(r) for r in rows)


def versions():
    return [r[0] for r in sql("SELECT version_num FROM alembic_version")]


def alembic(*args):
    """Runs alembic's command line on the project; returns (stdout, the revisions it ran as
    (from, to) pairs, '' for the base). Raises, with the end of its output, if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", INI, *args],
        capture_output=True,
        text=True,
        timeout=ALEMBIC_TIMEOUT,
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
    )
    if done.returncode != 0:
        tail = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()][-8:]
        raise AssertionError(f"alembic {' '.join(args)} exited {done.returncode}: {' | '.join(tail)}")
    steps = re.findall(r"Running (?:upgrade|downgrade) (\S*) -> (\S*),", done.stderr)
    return done.stdout, steps


def with_failing_revisions():
    """A Config of the project that also finds the revisions of failing/."""
    config = Config(INI)
    config.set_main_option(
        "version_locations", os.pathsep.join([os.path.join(PROJECT, "versions"), os.path.join(PROJECT, "failing")])
    )
    return config


def expect_failure(run, sqlstate, statement):
    """Runs `run`, which must fail with `sqlstate` at the statement starting with
    `statement` (not later, at COMMIT)."""
    try:
        run()
    except sa.exc.DBAPIError as error:
        got = (getattr(error.orig, "sqlstate", None), " ".join(str(error.statement or "").split()))
        if got[0] != sqlstate or not got[1].startswith(statement):
            raise AssertionError(f"expected SQLSTATE {sqlstate} at {statement!r}, got {one_line(error)}") from error
        return
    raise AssertionError(f"expected SQLSTATE {sqlstate} at {statement!r}, but it succeeded")


@check
def setup():
    global IS_POSTGRES
    with psycopg.connect(URL, autocommit=True, connect_timeout=10) as conn:
        for statement in DROPS:
            conn.execute(statement)
        IS_POSTGRES = "Freshet" not in conn.execute("SELECT version()").fetchone()[0]
    expect(len(REVISIONS), 4, f"revisions in {PROJECT}/versions")


@check
def upgrade_head_runs_every_revision():
    _, steps = alembic("upgrade", "head")
    expect(steps, list(zip([""] + REVISIONS[:-1], REVISIONS)), "revisions run (from, to)")


@check
def second_upgrade_is_a_no_op():
    _, steps = alembic("upgrade", "head")
    expect(steps, [], "revisions run")


@check
def current_shows_head():
    out, _ = alembic("current")
    expect(out.strip(), f"{HEAD} (head)", "alembic current")


@check
def alembic_version_holds_head():
    expect(versions(), [HEAD], "alembic_version")


@check
def migrated_objects_exist():
    expect(relations(), AT_HEAD, "(name, relkind) of the relations")


@check
def migrated_table_takes_rows_and_keeps_its_key():
    sql(
        "INSERT INTO alembic_readings (id, sensor, value, taken_at) VALUES "
        "(1, 'a', 50.5, '2026-01-01 00:00:00+00'), (2, 'a', 150.25, '2026-01-01 00:01:00+00'), "
        "(3, 'b', 120, '2026-01-01 00:02:00+00')"
    )
    try:
        sql("INSERT INTO alembic_readings VALUES (2, 'c', 1, '2026-01-01 00:03:00+00')")
        raise AssertionError("a second row with id 2 was accepted")
    except psycopg.errors.UniqueViolation as error:
        expect(error.diag.constraint_name, "alembic_readings_pkey", "constraint of the duplicate key error")
    expect(sql("SELECT count(*) FROM alembic_readings")[0][0], 3, "rows")
    # The column a revision added with ALTER TABLE ... ADD COLUMN, filled by its DEFAULT.
    expect(sql("SELECT DISTINCT unit FROM alembic_readings"), [("celsius",)], "units")


@check
def migrated_views_answer():
    if IS_POSTGRES:  # PostgreSQL's materialized views are refreshed by hand
        sql("REFRESH MATERIALIZED VIEW alembic_sensor_stats")
    high = sql("SELECT id, sensor, value::text FROM alembic_high_readings ORDER BY id")
    expect([tuple(r) for r in high], [(2, "a", "150.25"), (3, "b", "120.00")], "rows of the view")
    stats = sql("SELECT sensor, readings, max_value::text FROM alembic_sensor_stats ORDER BY sensor")
    expect([tuple(r) for r in stats], [("a", 2, "150.25"), ("b", 1, "120.00")], "rows of the materialized view")


@check
def failed_upgrade_changes_nothing():
    # Both revisions of failing/ run in one transaction: the first creates an index, the
    # second a table, drops the view, and fails.
    config = with_failing_revisions()
    expect_failure(lambda: command.upgrade(config, "head"), "22012", "SELECT 1 / 0")
    expect(relations(), AT_HEAD, "(name, relkind) of the relations")
    expect(versions(), [HEAD], "alembic_version")
    expect(sql("SELECT count(*) FROM alembic_high_readings")[0][0], 2, "rows of the view")


@check
def failed_downgrade_changes_nothing():
    config = with_failing_revisions()
    command.upgrade(config, WRONG_DOWNGRADE)
    with_index = sorted(AT_HEAD + [("alembic_readings_taken_idx", "i")])
    expect(relations(), with_index, "(name, relkind) of the relations after the upgrade")
    # Its downgrade drops the new index, then fails to drop the table the views read.
    expect_failure(lambda: command.downgrade(config, HEAD), "2BP01", "DROP TABLE alembic_readings")
    expect(relations(), with_index, "(name, relkind) of the relations after the failed downgrade")
    expect(versions(), [WRONG_DOWNGRADE], "alembic_version")


@check
def stamp_moves_the_version_alone():
    command.stamp(with_failing_revisions(), HEAD)
    expect(versions(), [HEAD], "alembic_version")
    expect(("alembic_readings_taken_idx", "i") in relations(), True, "the index the stamp did not drop is there")
    sql("DROP INDEX alembic_readings_taken_idx")


@check
def downgrade_one_step_drops_the_materialized_view():
    _, steps = alembic("downgrade", "-1")
    expect(steps, [(HEAD, REVISIONS[-2])], "revisions run (from, to)")
    gone = {"alembic_sensor_stats", "alembic_sensor_stats_sensor_idx"}
    expect(relations(), [r for r in AT_HEAD if r[0] not in gone], "(name, relkind) of the relations")
    expect(versions(), [REVISIONS[-2]], "alembic_version")
    expect(sql("SELECT count(*) FROM alembic_high_readings")[0][0], 2, "rows of the view")


@check
def downgrade_to_base_drops_everything():
    _, steps = alembic("downgrade", "base")
    # From the one below the head down: each revision's downgrade, newest first.
    below_head = list(reversed(REVISIONS[:-1]))
    expect(steps, list(zip(below_head, below_head[1:] + [""])), "revisions run (from, to)")
    expect(relations(), AT_BASE, "(name, relkind) of the relations")
    expect(versions(), [], "alembic_version")
    out, _ = alembic("current")
    expect(out.strip(), "", "alembic current")


@check
def upgrade_after_downgrade_applies_again():
    _, steps = alembic("upgrade", "head")
    expect(len(steps), len(REVISIONS), "revisions run")
    expect(relations(), AT_HEAD, "(name, relkind) of the relations")
    expect(versions(), [HEAD], "alembic_version")
    expect(sql("SELECT count(*) FROM alembic_readings")[0][0], 0, "rows of the recreated table")


@check
def cleanup():
    with psycopg.connect(URL, autocommit=True, connect_timeout=10) as conn:
        for statement in DROPS:
            conn.execute(statement)


if __name__ == "__main__":
    checks.main()
