"""Shared fixtures: an isolated data directory for every test that touches the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def qd_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty QUANTDESK_HOME for one test."""
    home = tmp_path / "qdhome"
    monkeypatch.setenv("QUANTDESK_HOME", str(home))
    return home


# ---- a synthetic market for paper sessions --------------------------------------------------------------


@pytest.fixture(scope="session")
def paper_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two synthetic stocks' 300 daily bars (seed 7), written once for the paper session tests."""
    from quantdesk.data.catalog import Catalog
    from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market

    root = tmp_path_factory.mktemp("paper_market")
    write_synthetic_market(Catalog(root / "catalog"), SyntheticConfig(n_symbols=2, days=300, seed=7))
    return root


@pytest.fixture
def paper_home(paper_market: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data home of its own (sessions, live state, the runs database) over ``paper_market``'s catalog, set as
    QUANTDESK_HOME for this process, with no configured database or Redis."""
    root = tmp_path / "home"
    root.mkdir()
    (root / "catalog").symlink_to(paper_market / "catalog")
    monkeypatch.setenv("QUANTDESK_HOME", str(root))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    monkeypatch.delenv("QUANTDESK_REDIS_URL", raising=False)
    return root


# ---- the real PostgreSQL server ----------------------------------------------------------------------
# QUANTDESK_TEST_POSTGRES_URL names a server where the tests may create and drop databases (default: the
# local server, user postgres). Without a reachable server the tests that need it skip, unless
# QUANTDESK_REQUIRE_SERVICES=1 (as in CI), where they fail.

_PG_ADMIN_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _services_required() -> bool:
    import os

    return os.environ.get("QUANTDESK_REQUIRE_SERVICES", "") == "1"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    import os
    import uuid

    import sqlalchemy as sa

    admin_url = os.environ.get("QUANTDESK_TEST_POSTGRES_URL", _PG_ADMIN_DEFAULT)
    name = f"qd_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL is not reachable at {sa.make_url(admin_url).render_as_string(hide_password=True)}"
        if _services_required():
            pytest.fail(f"{message}: {exc.orig}")
        pytest.skip(message)
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---- the real Redis server -----------------------------------------------------------------------------
# QUANTDESK_TEST_REDIS_URL names a server the tests may write to (default: the local one, database 0); each test
# uses its own session keys and deletes them. Without a reachable server the tests skip, unless
# QUANTDESK_REQUIRE_SERVICES=1 (as in CI), where they fail.


@pytest.fixture
def redis_url() -> str:
    """The URL of a reachable Redis server."""
    import os

    import redis

    url = os.environ.get("QUANTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_timeout=5.0).ping()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at {url}"
        if _services_required():
            pytest.fail(f"{message}: {exc}")
        pytest.skip(message)
    return url


# ---- the real RabbitMQ server (the Celery broker) and the Celery results' Redis database --------------------
# QUANTDESK_TEST_RABBITMQ_URL names a broker where the tests may declare and delete queues (default: the local one,
# user guest); each test uses a queue of its own and deletes it. QUANTDESK_TEST_CELERY_RESULT_URL names the Redis
# database of the Celery results (default: database 1 of the local server, apart from the live state's database 0);
# the executors delete each result they read. Without a reachable server the tests skip, unless
# QUANTDESK_REQUIRE_SERVICES=1 (as in CI), where they fail.


def _masked(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    return f"{scheme}{sep}{'***@' + netloc.rsplit('@', 1)[1] if '@' in netloc else netloc}{slash}{path}"


@pytest.fixture
def rabbitmq_url() -> str:
    """The URL of a reachable RabbitMQ server."""
    import os

    from kombu import Connection

    url = os.environ.get("QUANTDESK_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
    conn = Connection(url, connect_timeout=5.0)
    try:
        conn.ensure_connection(max_retries=0, timeout=5.0)
    except Exception as exc:  # kombu's OperationalError, amqp's AccessRefused
        message = f"RabbitMQ is not reachable at {_masked(url)}"
        if _services_required():
            pytest.fail(f"{message}: {exc}")
        pytest.skip(message)
    finally:
        conn.release()
    return url


@pytest.fixture
def celery_result_url() -> str:
    """The URL of the Redis database for Celery results, on a reachable server."""
    import os

    import redis

    url = os.environ.get("QUANTDESK_TEST_CELERY_RESULT_URL", "redis://127.0.0.1:6379/1")
    try:
        redis.Redis.from_url(url, socket_timeout=5.0).ping()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at {_masked(url)}"
        if _services_required():
            pytest.fail(f"{message}: {exc}")
        pytest.skip(message)
    return url
