"""The check runner the Python client scripts of tests/clients/ share.

A script is run as `python tests/clients/<script>.py`, so this folder is on sys.path and
`import checks` finds this module. It owns how checks are registered, run and reported; the
scripts own what each check does and everything that depends on the driver (how a
connection is made, which exception is the driver's error, where the SQLSTATE is).

- `@check` appends a function to CHECKS; `run_all()` runs them in that order. `run(name, fn,
  *args)` runs one check by hand, for scripts that build their checks at run time.
- A check passes when it returns and fails when it raises: `ok NAME` or `FAIL NAME: ERROR` is
  printed, ERROR being the exception on one line (`configure(describe=...)` or
  `configure(sqlstate_attr=...)` says how). With CLIENT_TRACEBACK set in the environment, a
  failure also prints its traceback.
- A check that has not finished after CHECK_TIMEOUT seconds prints `FAIL NAME: no answer
  within N s` and ends the process with exit status 1 (the check may be stuck in the driver,
  where it cannot be interrupted).
- `finish()` prints `N checks: N ok, N FAIL` and exits 1 if any check failed, 0 otherwise;
  `main()` is `run_all()` then `finish()`.
- `expect(actual, expected, what)` is the assertion the checks use, and `execute_all(execute,
  statements, error, ignore_errors)` runs statements one by one, skipping those that raise
  `error` when asked to (setup drops what may not exist).
"""

import os
import sys
import threading
import traceback

CHECK_TIMEOUT = 30.0  # seconds one check may take before the process is ended
CHECKS = []  # the functions `@check` registered, in the order run_all() runs them
RAN = []  # the names of the checks run so far
FAILED = []  # the names of those that failed


def one_line(error, sqlstate_attr=None):
    """The exception as `Type: message (SQLSTATE code)`, its lines joined by ` | `; the code is
    read from the attribute `sqlstate_attr` of the exception, when it names one."""
    text = f"{type(error).__name__}: {error}".strip()
    code = getattr(error, sqlstate_attr, None) if sqlstate_attr else None
    if code:
        text += f" (SQLSTATE {code})"
    return " | ".join(line for line in text.splitlines() if line.strip())


DESCRIBE = one_line  # turns the exception a check raised into the text after `FAIL NAME: `


def configure(timeout=None, describe=None, sqlstate_attr=None):
    """Sets the per-check timeout in seconds, and how a failure is described: by `describe`
    (a function of the exception), or by one_line reading the SQLSTATE from `sqlstate_attr`
    (psycopg2: `pgcode`, psycopg 3: `sqlstate`)."""
    global CHECK_TIMEOUT, DESCRIBE
    if timeout is not None:
        CHECK_TIMEOUT = timeout
    if describe is not None:
        DESCRIBE = describe
    elif sqlstate_attr is not None:
        DESCRIBE = lambda error: one_line(error, sqlstate_attr)  # noqa: E731


def check(fn):
    CHECKS.append(fn)
    return fn


def expect(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def execute_all(execute, statements, error, ignore_errors=False):
    """Calls `execute(sql)` for each statement; one that raises `error` stops the rest, unless
    `ignore_errors`."""
    for sql in statements:
        try:
            execute(sql)
        except error:
            if not ignore_errors:
                raise


def timed_out(name):
    print(f"FAIL {name}: no answer within {CHECK_TIMEOUT:.0f} s", flush=True)
    os._exit(1)


def run(name, fn, *args):
    RAN.append(name)
    timer = threading.Timer(CHECK_TIMEOUT, timed_out, args=(name,))
    timer.daemon = True
    timer.start()
    try:
        fn(*args)
        print(f"ok {name}", flush=True)
    except Exception as error:  # noqa: BLE001 - every failure is reported, none hides
        FAILED.append(name)
        print(f"FAIL {name}: {DESCRIBE(error)}", flush=True)
        if os.environ.get("CLIENT_TRACEBACK"):
            traceback.print_exc()
    finally:
        timer.cancel()


def run_all():
    for fn in CHECKS:
        run(fn.__name__, fn)


def finish():
    print(f"{len(RAN)} checks: {len(RAN) - len(FAILED)} ok, {len(FAILED)} FAIL", flush=True)
    sys.exit(1 if FAILED else 0)


def main():
    run_all()
    finish()
