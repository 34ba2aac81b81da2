"""The feed's change journal is pruned as the follower consumes it, in the transaction that
saves its progress: it stays bounded across passes, and a tamper journaled before a prune is
alerted exactly once, also when the pass crashed between recording the alert and saving.

Replication itself is not needed here: a plain database on the shared server plays the feed
(the firm's rows copied in as the apply worker would write them; the journal's triggers fire
for any session), and the regulator's store is each kind of store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ops.wiring import open_store
from projections.store.base import MONITOR_APPLICATION, FindingFilter, Store
from projections.supervise import feed as feed_module
from projections.supervise.feed import Feed, prepare
from projections.supervise.follower import Follower
from tests.audit.helpers import ingest, lines_of
from tests.conftest import fresh_store_url

LEDGER = "originator_id, originator_version, topic, state, notification_id, recorded_at, chain_hash"
FINDING = ("seq, finding_id, rule_id, severity, event_id, subject, occurred_at, detected_at, position, message,"
           " parameters, evidence")
FIRM = "acme"
NEVER_S = 1e9  # no SUP-04: the plain database has no subscription, so the feed reads as disabled


@pytest.fixture
def feed_url(tmp_path: Path) -> Iterator[str]:
    """A feed database holding the mf-day scenario as the firm published it."""
    with fresh_store_url("postgresql", tmp_path / "firm") as firm_url, \
            fresh_store_url("postgresql", tmp_path / "feed") as url:
        firm = open_store(firm_url, create=True)
        try:
            ingest(firm, lines_of("mf-day"))
        finally:
            firm.close()
        with psycopg.connect(firm_url) as source, psycopg.connect(url, autocommit=True) as feed:
            prepare(feed, FIRM)
            for table, columns in (("ledger_events", LEDGER), ("findings", FINDING)):
                rows = source.execute(f"SELECT {columns} FROM {table}").fetchall()  # test SQL, constants
                marks = ", ".join(["%s"] * len(columns.split(",")))
                with feed.cursor() as cursor:
                    cursor.executemany(f"INSERT INTO public.{table} ({columns}) VALUES ({marks})", rows)
            tracked = source.execute("SELECT notification_id FROM notification_tracking WHERE application_name = %s",
                                     (MONITOR_APPLICATION,)).fetchone()
            assert tracked is not None
            feed.execute("INSERT INTO public.notification_tracking VALUES (%s, %s)", (MONITOR_APPLICATION, tracked[0]))
        yield url


@pytest.fixture
def follower(feed_url: str, store: Store) -> Iterator[Follower]:
    feed = Feed(feed_url, FIRM)
    try:
        yield Follower(feed, store, Ed25519PrivateKey.generate().public_key(), NEVER_S, frozenset({"critical"}))
    finally:
        feed.close()


def one(url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(sql, params).fetchone()
        assert found is not None
        return found[0]


def journal_rows(url: str) -> int:
    return int(one(url, "SELECT count(*) FROM supervision.journal"))


def sup_01(store: Store) -> list[str]:
    return [f.message for f in store.findings(FindingFilter()) if f.rule_id == "SUP-01"]


def test_the_journal_holds_only_what_the_follower_has_not_checked_across_passes(feed_url: str, follower: Follower) -> None:
    assert journal_rows(feed_url) > 0  # the firm's findings arrived as INSERTs
    follower.cycle()
    assert journal_rows(feed_url) == 0
    for run in range(1, 4):  # findings the firm's monitor will judge later: journaled, not yet compared
        for n in range(50):
            with psycopg.connect(feed_url, autocommit=True) as conn:
                conn.execute(f"INSERT INTO public.findings ({FINDING}) SELECT seq + %s, finding_id || %s, rule_id,"
                             " severity, event_id, subject, occurred_at, detected_at, 1000, message, parameters, evidence"
                             " FROM public.findings ORDER BY seq LIMIT 1", (1000 * run + n, f"-{run}-{n}"))
        assert journal_rows(feed_url) == 50
        assert follower.cycle().alerts == 0
        assert journal_rows(feed_url) == 0
    assert sup_01(follower.store) == []


def test_a_backlog_is_pruned_a_bounded_number_of_rows_per_pass(feed_url: str, follower: Follower,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    follower.cycle()
    with psycopg.connect(feed_url, autocommit=True) as conn:  # a feed followed before pruning existed
        conn.execute("INSERT INTO supervision.journal (table_name, op) SELECT 'notification_tracking', 'UPDATE'"
                     " FROM generate_series(1, 20)")
        conn.execute("UPDATE supervision.progress SET journal_seq = (SELECT max(seq) FROM supervision.journal)")
    monkeypatch.setattr(feed_module, "JOURNAL_PRUNE_ROWS_PER_CYCLE_MAX", 6)
    left = [journal_rows(feed_url)]
    while left[-1]:
        follower.cycle()
        left.append(journal_rows(feed_url))
    assert left == [20, 14, 8, 2, 0]


def test_a_tamper_seen_before_a_prune_is_alerted_exactly_once_even_when_the_pass_crashed(
        feed_url: str, follower: Follower) -> None:
    follower.cycle()
    with psycopg.connect(feed_url, autocommit=True) as conn:
        conn.execute("UPDATE public.ledger_events SET state = state || '\\x00'::bytea WHERE notification_id = 5")
        # the next save of the progress fails: a crash after the alert was recorded, before the commit
        conn.execute("ALTER TABLE supervision.progress ADD CONSTRAINT crash CHECK (journal_seq < 0) NOT VALID")
    with pytest.raises(psycopg.errors.CheckViolation):
        follower.cycle()
    assert sup_01(follower.store) == ["firm acme: ledger position 5: the row was changed (an UPDATE) after it was recorded"]
    assert journal_rows(feed_url) == 1  # the prune rolled back with the progress: the entry is read again

    with psycopg.connect(feed_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE supervision.progress DROP CONSTRAINT crash")
    assert follower.cycle().alerts == 0  # read again, recorded once
    assert journal_rows(feed_url) == 0
    assert follower.cycle().alerts == 0
    assert len(sup_01(follower.store)) == 1
