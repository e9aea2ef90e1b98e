"""Alembic environment: runs on the connection the pool hands over, or on alembic.ini's URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from newsletter.pool.tables import Base

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    settings = config.get_section(config.config_ini_section, {})
    if os.environ.get("NEWSLETTER_DATABASE_URL"):
        settings["sqlalchemy.url"] = os.environ["NEWSLETTER_DATABASE_URL"]
    engine = engine_from_config(settings, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
