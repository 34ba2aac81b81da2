"""Fresh, empty stores for one measurement, dropped afterwards, and the stream file they read."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
from psycopg.sql import SQL, Identifier

# Databases are named PREFIX_xxxxxxxx: a shared server's users tell theirs apart by it.
DB_PREFIX = os.environ.get("REGLEDGER_BENCH_DB_PREFIX", "regledger_bench")
PG_ADMIN = os.environ.get("REGLEDGER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

FreshStore = Callable[[], AbstractContextManager[str]]


@contextmanager
def fresh_postgres() -> Iterator[str]:
    name = f"{DB_PREFIX}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(name)))


@contextmanager
def fresh_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{directory}/bench.db"


STORES: tuple[tuple[str, FreshStore], ...] = (("postgresql", fresh_postgres), ("sqlite", fresh_sqlite))


def write_lines(path: Path, lines: Iterable[bytes]) -> int:
    """Write a JSON Lines file; the number of lines."""
    count = 0
    with path.open("wb") as out:
        for line in lines:
            out.write(line + b"\n")
            count += 1
    return count
