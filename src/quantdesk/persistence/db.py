"""The relational database: which one (``QUANTDESK_DATABASE_URL`` or SQLite in the data directory), its
engine, and bringing its schema to the newest Alembic revision on open.

Opening runs ``alembic upgrade head`` programmatically, so a user never runs migrations by hand and an
older database is upgraded in place; a database already at the newest revision (``HEAD_REVISION``, the
highest-numbered file in ``migrations/versions``) is opened without loading Alembic, which a command pays
for on every run otherwise. Errors of the driver (server down, bad URL, permissions) are
translated here: an unreachable server is ``SourceUnavailableError``, a bad URL ``ConfigError``, a
database file that cannot be written ``StoreError``. The URL's password never appears in a message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from quantdesk.core.errors import ConfigError, SourceUnavailableError, StoreError
from quantdesk.core.paths import data_home

URL_ENV = "QUANTDESK_DATABASE_URL"
_MIGRATIONS = Path(__file__).with_name("migrations")
# revisions are named by their file's number (0001_fundamentals.py is revision "0001")
HEAD_REVISION = max(p.name.split("_", 1)[0] for p in (_MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def database_url() -> str:
    """``QUANTDESK_DATABASE_URL`` if set, else the SQLite file ``<data home>/quantdesk.db``."""
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{data_home() / 'quantdesk.db'}"


def _safe(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable url>"


@dataclass(frozen=True)
class Database:
    """An open database with an up-to-date schema; ``connect()`` gives a transaction."""

    engine: Engine
    url: str  # with the password hidden

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on any error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise _unavailable(self.url, exc) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def _unavailable(url: str, exc: Exception) -> Exception:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if url.startswith("sqlite"):
        return StoreError(f"database {url}: {text}")
    return SourceUnavailableError(f"cannot reach the database {url}: {text}; check that the server is running")


def open_database(url: str | None = None) -> Database:
    """The database at ``url`` (default ``database_url()``), migrated to the newest schema."""
    raw = url or database_url()
    shown = _safe(raw)
    try:
        parsed = sa.make_url(raw)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"{URL_ENV}: expected a SQLAlchemy URL such as sqlite:///path or "
                          f"postgresql+psycopg://user@host/db, found {shown}") from exc  # fmt: skip
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        try:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of {parsed.database}: {exc.strerror}") from exc
    try:
        engine = sa.create_engine(parsed, future=True)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"{URL_ENV}: cannot use {shown}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    try:
        if _revision(engine) != HEAD_REVISION:
            from alembic import command
            from alembic.config import Config

            with engine.begin() as conn:
                cfg = Config()
                cfg.set_main_option("script_location", str(_MIGRATIONS))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise _unavailable(shown, exc) from exc
    return Database(engine=engine, url=shown)


def _revision(engine: Engine) -> str | None:
    """The database's Alembic revision (None for a new database)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
