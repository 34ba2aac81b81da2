"""eventsourcing's own recorder test cases, run against regledger's chained ledger recorders
on both stores: the subclasses keep every promise of the library's ApplicationRecorder."""

from __future__ import annotations

import os
import tempfile
import threading
import uuid

import psycopg
import pytest
from eventsourcing.tests.persistence import ApplicationRecorderTestCase
from psycopg.sql import SQL, Identifier

from ops.wiring import wall_clock
from projections.store.postgres import PostgresStore
from projections.store.sqlite import SQLiteStore
from tests.conftest import PG_ADMIN_URL, require_postgres


class TextIds:
    def new_originator_id(self) -> str:  # regledger's originator ids are event ids (text)
        return str(uuid.uuid4())


def join_reader_threads() -> None:
    """The library's concurrency test leaves its reader threads running after it returns;
    let them see their stop flag before the store's connections are closed under them."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(timeout=5)


class TestLedgerSQLiteRecorder(TextIds, ApplicationRecorderTestCase):  # type: ignore[type-arg]
    def setUp(self) -> None:
        self.directory = tempfile.TemporaryDirectory()
        self.stores: list[SQLiteStore] = []

    def tearDown(self) -> None:
        join_reader_threads()
        for store in self.stores:
            store.close()
        self.directory.cleanup()

    def create_recorder(self):  # type: ignore[no-untyped-def]
        store = SQLiteStore(os.path.join(self.directory.name, f"{uuid.uuid4().hex}.db"), clock=wall_clock)
        store.migrate()
        self.stores.append(store)
        return store.recorder



@pytest.mark.postgres
class TestLedgerPostgresRecorder(TextIds, ApplicationRecorderTestCase):  # type: ignore[type-arg]
    def setUp(self) -> None:
        require_postgres()
        self.names: list[str] = []
        self.stores: list[PostgresStore] = []

    def tearDown(self) -> None:
        join_reader_threads()
        for store in self.stores:
            store.close()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            for name in self.names:
                conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(name)))

    def create_recorder(self):  # type: ignore[no-untyped-def]
        name = f"regledger_r_{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        store = PostgresStore(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}", create=True, pool_size=4, clock=wall_clock)
        store.migrate()
        self.stores.append(store)
        return store.recorder

