"""Fixtures shared by every test: one ``store`` fixture parametrised over both stores.

Each test gets its own SQLite file or its own PostgreSQL database. PostgreSQL tests skip with
a clear reason when the server is unreachable, and fail instead under ``CI=true``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from projections.store.base import Store

PG_ADMIN_URL = os.environ.get("REGLEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
FIXTURES = Path(__file__).parent / "fixtures"
SCENARIOS = FIXTURES / "scenarios"
SCENARIO_NAMES = ("mf-day", "perp-day", "mm-day")
# ``ops/soak`` sets REGLEDGER_SOAK_SCALE to run the reliability tests longer and harder
SOAK_SCALE = max(1, int(os.environ.get("REGLEDGER_SOAK_SCALE", "1")))

# pytest imports readline (through pdb), and GNU readline exports the LINES and COLUMNS of the
# terminal it finds (80x24 with none) into the C environment, unseen by os.environ: every CLI a
# test starts would fit its tables to 80 columns and fold the words the test looks for. Unset
# them, so a CLI under test sees what it sees in a pipe outside pytest (the 120-column
# fallback) unless the test sets COLUMNS itself.
for _name in ("COLUMNS", "LINES"):
    if _name not in os.environ:
        os.unsetenv(_name)


def _postgres_unreachable_reason() -> str | None:
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.Error as e:
        return f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({str(e).strip().splitlines()[0]})"
    return None


_PG_REASON: list[str | None] = []


def require_postgres() -> None:
    if not _PG_REASON:
        _PG_REASON.append(_postgres_unreachable_reason())
    reason = _PG_REASON[0]
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true PostgreSQL tests must run, not skip")
    pytest.skip(reason)


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_store_url("postgresql", tmp_path) as url:
        yield url


@contextmanager
def fresh_store_url(kind: str, directory: Path) -> Iterator[str]:
    """A new empty store of ``kind`` for code that cannot take fixtures (hypothesis bodies)."""
    if kind == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{directory / f'{uuid.uuid4().hex}.db'}"
        return
    require_postgres()
    name = f"regledger_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(name)))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    from ops.wiring import open_store  # with the wall clock, as every command opens it

    opened = open_store(store_url, create=True)
    yield opened
    opened.close()
