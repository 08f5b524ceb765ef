"""Persistence: the SQLAlchemy models of the relational store and its Alembic migrations.

SQLite in the data directory is the embedded default; set ``QUANTDESK_DATABASE_URL`` (for example
``postgresql+psycopg://user@host/db``) for PostgreSQL, the production store. Both run the same models
and the same migrations.
"""

from quantdesk.persistence.db import Database, database_url, open_database

__all__ = ["Database", "database_url", "open_database"]
