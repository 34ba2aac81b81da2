"""Fresh, empty stores for one measurement, dropped afterwards, and the stream file they read."""

from __future__ import annotations

import os
import sys
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
# Set (to anything): the stores are kept after the run, and named on standard error, to measure
# them again without ingesting 10M events anew.
KEEP = bool(os.environ.get("REGLEDGER_BENCH_KEEP"))

FreshStore = Callable[[], AbstractContextManager[str]]


@contextmanager
def fresh_postgres() -> Iterator[str]:
    name = f"{DB_PREFIX}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    try:
        yield url
    finally:
        if KEEP:
            print(f"bench: kept {url}", file=sys.stderr, flush=True)
        else:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(name)))


@contextmanager
def fresh_sqlite() -> Iterator[str]:
    if KEEP:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='regledger-bench-')}/bench.db"
        yield url
        print(f"bench: kept {url}", file=sys.stderr, flush=True)
        return
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
