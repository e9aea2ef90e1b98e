"""Engines for SQLite (the default) and PostgreSQL; the Alembic migrations own the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

from newsletter.errors import NewsletterError
from newsletter.pool.reads import HEAD_REVISION, lower

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_CACHE_MIB = 64  # page cache per connection: big ingests touch the uid index at random


def display_url(url: str) -> str:
    """The URL without its password, fit to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def open_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite tuned for one writer and many quick reads."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise NewsletterError(f"not a database URL: {url!r}") from None
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                raise NewsletterError(f"cannot create the database: no folder {folder}")
        options["connect_args"] = {"timeout": 30}
    try:
        engine = create_engine(parsed, **options)
    except NoSuchModuleError:
        raise NewsletterError(f"unsupported database URL {display_url(url)}") from None
    except ModuleNotFoundError as error:
        hint = " (pip install 'newsletter[postgresql]')" if "psycopg" in str(error) else ""
        raise NewsletterError(f"missing database driver {error.name}{hint}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    return engine


def for_writing(engine: Engine) -> Engine:
    """The engine for a transaction that will write: on SQLite it takes the write lock at its
    start (BEGIN IMMEDIATE), so two writers queue instead of failing half-way."""
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def lock_for_writing(connection: Connection) -> None:
    """On PostgreSQL, one writer at a time (SQLite's writers queue by BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK})


_WRITE_LOCK = 0x6E657773  # "news": the advisory lock key of this program's writers


def _begin_sqlite(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _use_wal(cursor: Any) -> None:
    """Switch a new database to write-ahead logging: readers then never wait for a writer.

    Switching needs a moment alone with the file and does not wait for one, so a process
    that meets another one creating the same database tries again for a while.
    """
    import sqlite3
    import time

    for attempt in range(100):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if attempt == 99:
                raise
            time.sleep(0.05)


def _tune_sqlite(connection: Any, _record: Any) -> None:
    # Transactions begin in _begin_sqlite, which says how.
    connection.isolation_level = None
    connection.create_function("lower", 1, lower, deterministic=True)
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_MIB * 1024}")
    cursor.close()


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise NewsletterError(
            f"cannot open the database {display_url(str(engine.url))}: {reason}"
        ) from None


def _alembic_config(engine: Engine, connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", str(engine.url).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_current(engine: Engine) -> bool:
    """Whether the schema is at HEAD_REVISION: one query, and no inspection (a new database
    has no alembic_version table, which is an error here and False)."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return False
    return found == HEAD_REVISION


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest migration; returns (revision before, revision after)."""
    from alembic import command
    from alembic.util import CommandError

    before = current_revision(engine)
    head = head_revision()
    if before != head:
        try:
            with for_writing(engine).begin() as connection:
                lock_for_writing(connection)  # another process may be upgrading it too
                command.upgrade(_alembic_config(engine, connection), "head")
        except CommandError as error:
            raise NewsletterError(
                f"the database {display_url(str(engine.url))} is at revision {before}, which "
                f"this version of newsletter does not know (is the database newer?): {error}"
            ) from None
    return before, head


def upgrade_database(url: str) -> tuple[str | None, str]:
    """Apply pending migrations to the database at `url`: its revision before, and after."""
    engine = open_engine(url)
    try:
        check_connection(engine)
        return upgrade(engine)
    finally:
        engine.dispose()
