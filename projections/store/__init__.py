"""The two stores behind one protocol (``base.Store``), chosen by URL."""

from __future__ import annotations

from pathlib import Path

from domain.errors import InvalidRequest
from projections.store.base import Store
from projections.store.portable import Clock, no_clock
from projections.store.postgres import PostgresStore
from projections.store.sqlite import SQLiteStore

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def sqlite_path(url: str) -> str:
    """``sqlite:///rel/path.db`` is relative, ``sqlite:////abs/path.db`` absolute."""
    path = url[len(SQLITE_PREFIX):]
    if not path:
        raise InvalidRequest(f"no file name in database URL {url!r}")
    return path


def open_store(url: str, *, create: bool = False, clock: Clock = no_clock) -> Store:
    """Open a store; with ``create`` make the database and its schema when missing. ``clock``
    stamps what is written without a time of its own (an append through the library's
    interface, a migration's carried-over links); ``ops.wiring`` passes the wall clock."""
    if url.startswith(SQLITE_PREFIX):
        path = sqlite_path(url)
        if not create and path != ":memory:" and not Path(path).exists():
            raise InvalidRequest(f"no ledger at {path!r} yet: ingest something first")
        folder = Path(path).parent
        if create and path != ":memory:" and not folder.is_dir():
            # Never a new ledger somewhere unintended: sqlite:///tmp/x.db is ./tmp/x.db, and
            # creating ./tmp would start a second ledger beside the one meant (/tmp/x.db).
            hint = " (an absolute path takes four slashes: sqlite:////path/file.db)" if not Path(path).is_absolute() else ""
            raise InvalidRequest(f"no folder {str(folder.resolve())!r} for the ledger {path!r}: create it first{hint}")
        store: Store = SQLiteStore(path, clock=clock)
    elif url.startswith(POSTGRES_PREFIXES):
        store = PostgresStore(url, create=create, clock=clock)
    else:
        raise InvalidRequest(
            f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://..."
        )
    if not store.is_migrated():
        store.migrate()
    return store
