"""Tampering with stored rows in every way, on both stores, past the triggers as a DBA could:
``verify`` names the first bad position each time, and with a signed digest also catches a
truncation and a rewrite that recomputes every hash."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.chain import chain_hash
from domain.errors import InvalidRequest
from domain.evidence.chain_check import ChainBreak
from domain.evidence.digest import Checkpoint
from projections.evidence.attest import checkpoint_at, verify_log
from projections.evidence.log import iter_rows
from projections.store.base import Store
from tests.evidence.tamper import Dba, fill, rechain_from

MISMATCH = (
    "the stored chain hash does not match the one recomputed from the row's fields and the"
    " previous hash: the row was edited, inserted or moved"
)


@pytest.fixture
def ledger(store: Store, store_url: str) -> tuple[Store, Dba]:
    fill(store)
    return store, Dba(store_url)


def test_an_untouched_ledger_verifies_with_its_tip(ledger: tuple[Store, Dba]) -> None:
    store, _ = ledger
    entries = store.read_entries(0, 100)
    result = verify_log(store)
    assert (result.intact, result.checked, result.broken) == (True, 38, None)
    assert result.tip == checkpoint_at(store)
    assert result.tip is not None
    assert (result.tip.position, result.tip.chain_hash, result.tip.recorded_at) == (
        38, entries[-1].chain_hash, entries[-1].recorded_at,
    )


def test_an_edited_payload_is_the_first_bad_position(ledger: tuple[Store, Dba]) -> None:
    store, dba = ledger
    state = store.read_entries(16, 1)[0].state
    assert b"447000" in state
    dba.run(("UPDATE ledger_events SET state = ? WHERE notification_id = 17", (state.replace(b"447000", b"447001"),)))
    result = verify_log(store)
    assert (result.checked, result.broken) == (16, ChainBreak(17, MISMATCH))


def test_an_edited_recorded_at_is_the_first_bad_position(ledger: tuple[Store, Dba]) -> None:
    store, dba = ledger
    entry = store.read_entries(16, 1)[0]
    later = dba.time(entry.recorded_at + timedelta(microseconds=1))
    dba.run(("UPDATE ledger_events SET recorded_at = ? WHERE notification_id = 17", (later,)))
    assert verify_log(store).broken == ChainBreak(17, MISMATCH)


@pytest.mark.parametrize("column", ["topic", "originator_id"])
def test_an_edited_topic_or_event_id_is_the_first_bad_position(ledger: tuple[Store, Dba], column: str) -> None:
    store, dba = ledger
    statement = {
        "topic": "UPDATE ledger_events SET topic = 'CaseOpened' WHERE notification_id = 17",
        "originator_id": "UPDATE ledger_events SET originator_id = 'mf-day-9999' WHERE notification_id = 17",
    }[column]
    dba.run((statement, ()))
    assert verify_log(store).broken == ChainBreak(17, MISMATCH)


def test_a_deleted_row_is_a_gap_at_its_position(ledger: tuple[Store, Dba]) -> None:
    store, dba = ledger
    dba.run(("DELETE FROM ledger_events WHERE notification_id = 17", ()))
    assert verify_log(store).broken == ChainBreak(17, "position 17 is missing: the log jumps to 18")


def test_a_deleted_row_with_the_rest_renumbered_is_the_first_bad_position(ledger: tuple[Store, Dba]) -> None:
    store, dba = ledger
    dba.run(("DELETE FROM ledger_events WHERE notification_id = 17", ()), *dba.shift(18, -1))
    assert verify_log(store).broken == ChainBreak(17, MISMATCH)


@pytest.mark.parametrize("forger_hashes_it", [True, False])
def test_an_inserted_row_is_named_even_when_the_forger_hashed_it(
    ledger: tuple[Store, Dba], forger_hashes_it: bool
) -> None:
    store, dba = ledger
    before, at = store.read_entries(15, 2)
    state = at.state.replace(b"mf-day-0017", b"forged-001").replace(b"447000", b"300000")
    hashed = (
        chain_hash(17, at.recorded_at, before.chain_hash, "forged-001", 1, "PriceObserved", state)
        if forger_hashes_it else at.chain_hash
    )
    dba.run(*dba.shift(17, 1), dba.insert(17, "forged-001", "PriceObserved", state, at.recorded_at, hashed))
    reason = (
        "the row now at position 18 was chained at position 17: the row at 17 was inserted"
        " before it, or rows were moved"
    )
    assert verify_log(store).broken == ChainBreak(17, reason if forger_hashes_it else MISMATCH)


def test_two_swapped_rows_are_named_at_the_earlier_one(ledger: tuple[Store, Dba]) -> None:
    store, dba = ledger
    dba.run(
        ("UPDATE ledger_events SET notification_id = -1 WHERE notification_id = 12", ()),
        ("UPDATE ledger_events SET notification_id = 12 WHERE notification_id = 20", ()),
        ("UPDATE ledger_events SET notification_id = 20 WHERE notification_id = -1", ()),
    )
    assert verify_log(store).broken == ChainBreak(12, MISMATCH)


def test_a_truncation_goes_unseen_by_the_chain_alone_but_not_below_a_digest(ledger: tuple[Store, Dba]) -> None:
    store, dba = ledger
    digest = checkpoint_at(store)
    dba.run(("DELETE FROM ledger_events WHERE notification_id > 30", ()))
    assert verify_log(store).broken is None
    assert verify_log(store, digest).broken == ChainBreak(
        31, "truncated: the log ends at position 30, below the digest's position 38"
    )


def test_a_rewrite_that_recomputes_every_hash_is_caught_by_an_earlier_digest(ledger: tuple[Store, Dba]) -> None:
    store, dba = ledger
    digest = checkpoint_at(store)
    entries = store.read_entries(0, 100)
    forged = entries[16].state.replace(b"447000", b"447001")
    hashes = rechain_from(entries, 17, {17: forged})
    dba.run(
        ("UPDATE ledger_events SET state = ? WHERE notification_id = 17", (forged,)),
        *(dba.update_hash(position, h) for position, h in enumerate(hashes, 17)),
    )
    assert verify_log(store).broken is None  # a consistent forgery: only a digest tells
    assert verify_log(store, digest).broken == ChainBreak(
        38,
        "the log up to position 38 is not the one the digest signed: rows at or before it were"
        " rewritten and re-chained",
    )


def test_a_digest_of_an_earlier_position_still_holds_after_appends(ledger: tuple[Store, Dba]) -> None:
    store, _ = ledger
    early = checkpoint_at(store, 20)
    result = verify_log(store, early)
    assert (result.intact, result.checked) == (True, 38)
    assert early == Checkpoint(20, early.merkle_root, store.read_entries(19, 1)[0].chain_hash,
                               store.read_entries(19, 1)[0].recorded_at)


def test_a_repeated_position_is_seen_even_across_a_page_boundary(store: Store, store_url: str) -> None:
    fill(store)
    dba = Dba(store_url)
    at = store.read_entries(16, 1)[0]
    if dba.kind == "sqlite":  # the unique constraint is inline: rebuild the table without it
        dba.run(
            ("CREATE TABLE copy (originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,"
             " topic TEXT NOT NULL, state BLOB NOT NULL, notification_id INTEGER NOT NULL,"
             " recorded_at TEXT NOT NULL, chain_hash BLOB NOT NULL,"
             " PRIMARY KEY (originator_id, originator_version))", ()),
            ("INSERT INTO copy SELECT * FROM ledger_events", ()),
            ("DROP TABLE ledger_events", ()),
            ("ALTER TABLE copy RENAME TO ledger_events", ()),
        )
    else:
        dba.run(("DROP INDEX ledger_events_notification_id_idx", ()))
    dba.run(dba.insert(17, "zz-copy", at.type, at.state, at.recorded_at, at.chain_hash))
    positions = [row.position for row in iter_rows(store, page=17)]
    assert positions == [*range(1, 18), 17, *range(18, 39)]
    assert verify_log(store).broken == ChainBreak(17, "position 17 appears more than once")


def test_an_empty_ledger_is_intact_has_no_tip_and_nothing_to_digest(store: Store) -> None:
    result = verify_log(store)
    assert (result.intact, result.checked, result.tip) == (True, 0, None)
    with pytest.raises(InvalidRequest, match="nothing to digest at position 1: the ledger is empty"):
        checkpoint_at(store)
