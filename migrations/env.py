"""Alembic environment. Called from ledger.storage.schema.migrate with an open connection, or from the alembic CLI."""

from alembic import context
from sqlalchemy import Connection

from ledger.models import all_tables

config = context.config
target_metadata = all_tables()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    from ledger.storage.engine import database_url

    context.configure(url=database_url(config.get_main_option("sqlalchemy.url")), literal_binds=True,
                      target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from ledger.storage.engine import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        _run(connection)


if context.is_offline_mode():
    run_offline()
else:
    run_online()
