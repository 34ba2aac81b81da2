"""Append-only means append-only for every table of record, on both stores: the ledger refuses
a replacing insert, the quarantine and its links refuse every change, are hash-chained so that
``verify`` names a deleted, edited or inserted row, and an older store's mutable quarantine is
upgraded (chained as it is, ``resubmitted_as`` turned into links)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.chain import GENESIS_HASH
from domain.errors import InvalidRequest
from domain.ledger import InputLine, Ledger
from domain.ledger_storage import NewEntry
from domain.quarantine import QUARANTINE_TAG, RecordBreak, record_hash
from ops.wiring import (
    open_store,  # with the wall clock: an upgrade stamps the links it carries over
)
from policies.registry import parameter_catalogue
from projections.quarantine import dismiss, quarantined_line, settle, verify_quarantine
from projections.sql import Sql
from projections.store import quarantine_log
from projections.store.base import Store
from tests.evidence.tamper import Dba

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BAD = (b"{not json", b'{"event_id": "x2"}', b'{"event_id": "x3", "type": "Nope"}')


def reject(store: Store, *raws: bytes, at: datetime = T0, origin: str = "feed.jsonl") -> None:
    ledger = Ledger(store, parameter_catalogue(), clock=lambda: at)
    summary = ledger.ingest(iter([InputLine(origin, n, raw) for n, raw in enumerate(raws, 1)]))
    assert summary.rejected == len(raws)


def raw_cursor_run(store: Store, statement: str, params: tuple[Any, ...] = ()) -> None:
    """Run one statement as the application's own connection would (triggers in force)."""
    with Sql(store).writing() as c:
        c.execute(statement, params)


def refused(store: Store, statement: str, params: tuple[Any, ...] = ()) -> str:
    with pytest.raises(Exception) as caught:  # sqlite3.IntegrityError or psycopg.errors.RaiseException
        raw_cursor_run(store, statement, params)
    return str(caught.value).splitlines()[0]


def rows_of(store: Store, table: str) -> list[tuple[Any, ...]]:
    return Sql(store).rows("SELECT * FROM " + table + " ORDER BY id")  # a constant table name


# --- 1. the ledger refuses a replacing insert --------------------------------------------------
def test_a_replacing_insert_into_the_ledger_is_refused_and_the_row_stays(store: Store) -> None:
    with store.writer() as writer:
        writer.append([NewEntry("a", "PriceObserved", b'{"a":1}'), NewEntry("b", "PriceObserved", b'{"b":1}')], T0)
    before = store.read_entries(0, 10)
    if store.kind == "sqlite":
        attempts = [
            # the same position, a new event id; the same event id and version, a new position
            "INSERT OR REPLACE INTO ledger_events VALUES ('z', 1, 'PriceObserved', x'00', 1, '2026-03-02T01:00:00.000000+00:00', x'00')",
            "REPLACE INTO ledger_events VALUES ('a', 1, 'PriceObserved', x'00', 9, '2026-03-02T01:00:00.000000+00:00', x'00')",
            "INSERT INTO ledger_events VALUES ('a', 1, 'PriceObserved', x'00', 1, '2026-03-02T01:00:00.000000+00:00', x'00')"
            " ON CONFLICT DO UPDATE SET state = excluded.state",
        ]
    else:
        attempts = [
            "INSERT INTO ledger_events VALUES ('a', 1, 'PriceObserved', '\\x00', 9, now(), '\\x00')"
            " ON CONFLICT (originator_id, originator_version) DO UPDATE SET state = EXCLUDED.state",
            "INSERT INTO ledger_events VALUES ('z', 1, 'PriceObserved', '\\x00', 1, now(), '\\x00')"
            " ON CONFLICT (notification_id) DO UPDATE SET originator_id = EXCLUDED.originator_id",
            "MERGE INTO ledger_events t USING (SELECT 'a' AS id) s ON t.originator_id = s.id"
            " WHEN MATCHED THEN UPDATE SET state = '\\x01'",
        ]
    for statement in attempts:
        assert "ledger_events is append-only" in refused(store, statement), statement
    assert store.read_entries(0, 10) == before


# --- 2. the quarantine: chained rows and links ---------------------------------------------------
def test_rejected_lines_are_chained_in_id_order_and_verify(store: Store) -> None:
    reject(store, *BAD[:2])
    reject(store, BAD[2], at=T0 + timedelta(seconds=1))
    listed = store.quarantined(10, 0)
    assert [(q["id"], q["line"], q["status"], q["resubmitted_as"]) for q in listed] == [
        (1, 1, "open", None), (2, 2, "open", None), (3, 1, "open", None),
    ]
    previous = GENESIS_HASH
    for (id_, previous_id, _received_at, origin, line_no, event_id, reasons, raw, chain_hash), q in zip(
        Sql(store).rows("SELECT id, previous_id, received_at, origin, line_no, event_id, reasons, raw,"
                        " chain_hash FROM quarantine ORDER BY id"), listed, strict=True,
    ):
        assert previous_id == id_ - 1
        expected = record_hash(QUARANTINE_TAG, id_, previous_id, previous, q["received_at"],
                               (origin, line_no, event_id, reasons, bytes(raw)))
        assert bytes(chain_hash) == expected
        previous = expected
    checked = verify_quarantine(store)
    assert (checked.intact, checked.rows, checked.links) == (True, 3, 0)


def test_a_dismissal_and_a_resubmission_are_new_link_rows_and_the_status_is_derived(store: Store) -> None:
    reject(store, *BAD)
    lines_before = rows_of(store, "quarantine")
    link = dismiss(store, 2, actor="alice", reason="test data from the vendor's sandbox", at=T0)
    resubmitted, written = settle(store, 3, "resubmitted", actor="bob", at=T0, event_id="x3")
    assert written and (link.id, resubmitted.id, resubmitted.previous_id) == (1, 2, 1)
    assert rows_of(store, "quarantine") == lines_before  # the lines themselves never change
    assert [(q["id"], q["status"], q["resubmitted_as"]) for q in store.quarantined(10, 0)] == [
        (1, "open", None), (2, "dismissed", None), (3, "resubmitted", "x3"),
    ]
    shown = quarantined_line(store, 2)
    assert shown is not None and shown["status"] == "dismissed"
    assert [(k["kind"], k["actor"], k["reason"]) for k in shown["links"]] == [
        ("dismissed", "alice", "test data from the vendor's sandbox"),
    ]
    with pytest.raises(InvalidRequest, match="already dismissed by alice"):
        dismiss(store, 2, actor="carol", reason="again", at=T0)
    with pytest.raises(InvalidRequest, match="already resubmitted as x3"):
        dismiss(store, 3, actor="carol", reason="too late", at=T0)
    assert settle(store, 2, "resubmitted", actor="bob", at=T0, event_id="x2") == (link, False)
    for actor, reason in (("", "why"), ("alice", " "), ("alice", "r" * 4001), ("a" * 129, "why")):
        with pytest.raises(InvalidRequest):
            dismiss(store, 1, actor=actor, reason=reason, at=T0)
    assert dismiss(store, 1, actor="a" * 128, reason="r" * 4000, at=T0).id == 3  # at the bounds
    assert verify_quarantine(store).links == 3


@pytest.mark.parametrize("table", ["quarantine", "quarantine_links"])
def test_the_quarantine_tables_refuse_every_change(store: Store, table: str) -> None:
    reject(store, *BAD)
    dismiss(store, 1, actor="alice", reason="noise", at=T0)
    before = rows_of(store, table)
    statements = [f"UPDATE {table} SET id = id + 10", f"DELETE FROM {table}", f"DELETE FROM {table} WHERE id = 1"]
    columns = ("(id, previous_id, received_at, origin, reasons, raw, chain_hash)" if table == "quarantine"
               else "(id, previous_id, quarantine_id, kind, actor, recorded_at, chain_hash)")
    values = "(1, 0, ?, 'x', '[]', x'00', x'00')" if table == "quarantine" else "(1, 0, 1, 'x', 'x', ?, x'00')"
    if store.kind == "sqlite":
        statements += [f"INSERT OR REPLACE INTO {table} {columns} VALUES {values}",
                       f"INSERT INTO {table} {columns} VALUES {values} ON CONFLICT DO UPDATE SET previous_id = 0"]
    else:
        values = values.replace("x'00'", "'\\x00'::bytea")
        statements += [f"INSERT INTO {table} {columns} VALUES {values} ON CONFLICT (id) DO UPDATE SET previous_id = 0",
                       f"TRUNCATE {table}"]
    for statement in statements:
        params = (Sql(store).time(T0),) if "?" in statement else ()
        assert f"{table} is append-only" in refused(store, statement, params), statement
    assert rows_of(store, table) == before


def in_threads(store_url: str, count: int, work: Callable[[Store, int], None]) -> None:
    """Run ``work`` in ``count`` threads at once, each with its own store; raise the first
    error any raised. Every thread's connection is open (SQLite: in WAL mode) before the race
    starts and stays open until all are done: a connection that closes checkpoints the WAL,
    which is not what is under test here."""
    errors: list[BaseException] = []
    started, done = threading.Barrier(count), threading.Barrier(count)

    def run(n: int) -> None:
        store = open_store(store_url)
        started.wait()
        try:
            work(store, n)
        except BaseException as e:  # collected and raised by the caller
            errors.append(e)
        finally:
            done.wait()
            store.close()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]  # with its traceback


def test_two_ingests_quarantining_at_once_never_fork_the_chain(store: Store, store_url: str) -> None:
    def ingest(own: Store, worker: int) -> None:
        for batch in range(5):
            # distinct lines: the same line refused again is a link of its entry, not a row
            reject(own, *(raw + b" w%d b%d" % (worker, batch) for raw in BAD), origin=f"w{worker}-{batch}")

    in_threads(store_url, 3, ingest)
    checked = verify_quarantine(store)
    assert (checked.intact, checked.rows) == (True, 45)
    assert [q["id"] for q in store.quarantined(100, 0)] == list(range(1, 46))


def test_concurrent_settlements_of_one_line_write_one_link(store: Store, store_url: str) -> None:
    reject(store, BAD[0])
    outcomes: list[bool] = []

    def act(own: Store, n: int) -> None:
        outcomes.append(settle(own, 1, "dismissed", actor=f"officer{n}", reason="noise", at=T0)[1])

    in_threads(store_url, 4, act)
    assert sorted(outcomes) == [False, False, False, True]
    checked = verify_quarantine(store)
    assert (checked.links, checked.intact) == (1, True)


# --- 3. verify names a deleted, edited or inserted row ------------------------------------------
@pytest.fixture
def quarantine(store: Store, store_url: str) -> tuple[Store, Dba]:
    reject(store, *BAD)
    reject(store, b"{also bad", at=T0 + timedelta(seconds=1))
    dismiss(store, 1, actor="alice", reason="noise", at=T0)
    dismiss(store, 2, actor="alice", reason="noise", at=T0)
    dismiss(store, 3, actor="bob", reason="noise", at=T0)
    assert verify_quarantine(store).intact
    return store, Dba(store_url)


def test_verify_names_a_deleted_quarantine_row(quarantine: tuple[Store, Dba]) -> None:
    store, dba = quarantine
    dba.run(("DELETE FROM quarantine WHERE id = 2", ()))
    broken = verify_quarantine(store).broken
    assert broken is not None and (broken.table, broken.id) == ("quarantine", 2)
    assert str(broken).startswith("quarantine row 2: missing")


def test_verify_names_an_edited_quarantine_row(quarantine: tuple[Store, Dba]) -> None:
    store, dba = quarantine
    dba.run(("UPDATE quarantine SET reasons = '[]' WHERE id = 3", ()))
    assert verify_quarantine(store).broken == RecordBreak(
        "quarantine", 3,
        "the stored chain hash does not match the one recomputed from the row's fields and the"
        " previous hash: the row was edited, or replaced",
    )


def test_verify_names_a_quarantine_row_inserted_out_of_order(quarantine: tuple[Store, Dba]) -> None:
    store, dba = quarantine
    [(row_1_hash, received)] = Sql(store).rows("SELECT chain_hash, received_at FROM quarantine WHERE id = 1")
    at = Sql(store).instant(received)
    fields = ("forged.jsonl", 1, "x9", "[]", b"{}")
    forged = record_hash(QUARANTINE_TAG, 2, 1, bytes(row_1_hash), at, fields)  # a forger who knows the hash
    dba.run(
        ("UPDATE quarantine SET id = -(id + 1) WHERE id >= 2", ()),
        ("UPDATE quarantine SET id = -id WHERE id < 0", ()),
        ("INSERT INTO quarantine (id, previous_id, received_at, origin, line_no, event_id, reasons, raw,"
         " chain_hash) VALUES (2, 1, ?, ?, ?, ?, ?, ?, ?)", (dba.time(at), *fields, forged)),
    )
    broken = verify_quarantine(store).broken
    assert broken == RecordBreak("quarantine", 2, "inserted out of order: row 3 was chained right after row 1")


def test_verify_names_a_deleted_and_an_edited_link_row(quarantine: tuple[Store, Dba]) -> None:
    store, dba = quarantine
    dba.run(("UPDATE quarantine_links SET actor = 'mallory' WHERE id = 3", ()))
    broken = verify_quarantine(store).broken
    assert broken is not None and (broken.table, broken.id) == ("quarantine_links", 3)
    dba.run(("DELETE FROM quarantine_links WHERE id = 2", ()))
    broken = verify_quarantine(store).broken
    assert broken is not None and str(broken).startswith("quarantine link 2: missing")


# --- 4. an older store's quarantine is upgraded ---------------------------------------------------
LEGACY = {
    "sqlite": "CREATE TABLE quarantine (id INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL,"
              " origin TEXT NOT NULL, line_no INTEGER, event_id TEXT, reasons TEXT NOT NULL,"
              " raw BLOB NOT NULL, resubmitted_as TEXT)",
    "postgresql": "CREATE TABLE quarantine (id bigserial PRIMARY KEY, received_at timestamptz NOT NULL,"
                  " origin text NOT NULL, line_no bigint, event_id text, reasons text NOT NULL,"
                  " raw bytea NOT NULL, resubmitted_as text)",
}


def make_legacy(store_url: str) -> None:
    """A store as the code before the chained quarantine left it: a mutable quarantine with a
    ``resubmitted_as`` column, ids with a gap (a rolled-back PostgreSQL batch), an old schema."""
    dba = Dba(store_url)
    store = open_store(store_url, create=True)
    store.close()
    time = dba.time(T0)
    dba.run(
        ("DROP TABLE quarantine_links", ()),
        ("DROP TABLE quarantine", ()),
        (LEGACY[dba.kind], ()),
        ("INSERT INTO quarantine (id, received_at, origin, line_no, event_id, reasons, raw, resubmitted_as)"
         " VALUES (1, ?, 'a.jsonl', 1, 'x1', '[]', ?, 'x1'), (2, ?, 'a.jsonl', 2, NULL, '[]', ?, NULL),"
         " (4, ?, 'b.jsonl', NULL, 'x4', '[{\"field\": \"line\"}]', ?, NULL)",
         (time, b'{"event_id":"x1"}', time, b"{not json", time, b'{"event_id":"x4"}')),
        ("UPDATE regledger_meta SET value = 'before-the-chain' WHERE key = 'schema'", ()),
    )


def test_an_older_stores_quarantine_is_chained_as_it_is_and_its_resubmissions_become_links(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quarantine_log, "RECORDS_PER_PAGE_MAX", 2)  # the upgrade and verify page
    make_legacy(store_url)
    store = open_store(store_url)  # migrates: the fingerprint differs
    try:
        assert store.is_migrated()
        listed = store.quarantined(10, 0)
        assert [(q["id"], q["event_id"], q["raw"], q["status"], q["resubmitted_as"]) for q in listed] == [
            (1, "x1", b'{"event_id":"x1"}', "resubmitted", "x1"), (2, None, b"{not json", "open", None),
            (4, "x4", b'{"event_id":"x4"}', "open", None),
        ]
        assert [q["received_at"] for q in listed] == [T0] * 3
        checked = verify_quarantine(store)
        assert (checked.intact, checked.rows, checked.links) == (True, 3, 1)
        shown = quarantined_line(store, 1)
        assert shown is not None and [(k["kind"], k["event_id"], k["actor"]) for k in shown["links"]] == [
            ("resubmitted", "x1", "upgrade"),
        ]
        assert "quarantine is append-only" in refused(store, "DELETE FROM quarantine WHERE id = 2")
        if store.kind == "sqlite":  # the Dba dropped every trigger: the migration made them again
            with store.writer() as writer:
                writer.append([NewEntry("a", "PriceObserved", b"{}")], T0)
            assert "ledger_events is append-only" in refused(
                store, "INSERT OR REPLACE INTO ledger_events VALUES ('a', 1, 't', x'00', 5, 't', x'00')")
        reject(store, BAD[0])  # new rows continue the chain after the highest id
        assert [q["id"] for q in store.quarantined(10, 0)] == [1, 2, 4, 5]
        assert verify_quarantine(store).rows == 4
        assert "resubmitted_as" not in {d for d in _columns(store)}
    finally:
        store.close()
    again = open_store(store_url, create=True)  # a second migration changes nothing
    try:
        assert verify_quarantine(again).links == 1
    finally:
        again.close()


def _columns(store: Store) -> set[str]:
    if store.kind == "sqlite":
        return {r[1] for r in Sql(store).rows("PRAGMA table_info(quarantine)")}
    return {r[0] for r in Sql(store).rows(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'quarantine'")}


def test_deleting_a_legacy_row_after_the_upgrade_is_named_despite_the_gap_before_it(store_url: str) -> None:
    make_legacy(store_url)
    store = open_store(store_url)
    try:
        Dba(store_url).run(("DELETE FROM quarantine WHERE id = 2", ()))
        broken = verify_quarantine(store).broken
        assert broken is not None and (broken.table, broken.id) == ("quarantine", 2)
    finally:
        store.close()


def test_the_postgres_quarantine_lock_is_a_table_lock(store: Store) -> None:
    """On PostgreSQL a quarantine writer holds the table's EXCLUSIVE lock until commit."""
    if store.kind != "postgresql":
        pytest.skip("SQLite's BEGIN IMMEDIATE serialises every writer")
    with Sql(store).writing() as c:
        c.lock("quarantine")
        c.execute("SELECT mode FROM pg_locks WHERE relation = 'quarantine'::regclass AND granted")
        assert ("ExclusiveLock",) in c.fetchall()


def test_verify_names_the_link_of_a_settled_line_removed_from_the_end(quarantine: tuple[Store, Dba]) -> None:
    """Removing the last rows leaves an intact chain (as truncating the ledger does), but a
    link that names a removed row gives it away."""
    store, dba = quarantine
    dba.run(("DELETE FROM quarantine WHERE id >= 3", ()))
    assert verify_quarantine(store).broken == RecordBreak(
        "quarantine_links", 3, "names quarantine row 3, which is not there (deleted)",
    )
