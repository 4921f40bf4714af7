"""How alembic reaches the database for this project: the URL comes from $FRESHET_URL
(`postgres://USER@HOST:PORT/DB`) and is used with SQLAlchemy's psycopg (3) dialect.

Nothing here changes alembic's defaults: online, every revision of one `upgrade` or
`downgrade` runs in a single transaction, together with the changes to `alembic_version`.
Offline (`--sql`), the SQL is printed instead.
"""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def database_url():
    url = os.environ.get("FRESHET_URL")
    if not url:
        raise SystemExit("set FRESHET_URL to postgres://USER@HOST:PORT/DB")
    return make_url(url).set(drivername="postgresql+psycopg")


def run_migrations_offline():
    context.configure(url=database_url(), target_metadata=None, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
