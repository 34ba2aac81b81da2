"""The one list of read models: every table derived from the ledger, with the position it is
built through, how to rebuild it from the log and which columns a comparison reads.

Import rebuilds every model on this list, and ``verify --projections`` compares every model
on it with a rebuild (``projections.evidence.drift``). A table of the schema that is neither
here nor in ``NOT_READ_MODELS`` fails ``tests/evidence/test_read_models.py``, so a new read
model cannot be forgotten by either.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from domain.chain import ChainedRow
from domain.ledger import Ledger
from policies.registry import parameter_catalogue
from policies.supervisory import RULE_IDS as SUPERVISORY_RULE_IDS
from projections.audit import AuditIndex
from projections.audit.storage import AUDIT_APPLICATION, AUDIT_LOCK_KEY
from projections.cases.rebuild import rebuild_case_statuses, replace_case_statuses
from projections.monitor.runner import MonitorRunner
from projections.queue.owners import catch_up_owners, forget_owners
from projections.sql import Cursor, Sql
from projections.store import merkle_subtrees
from projections.store.base import MONITOR_APPLICATION, Store, entries_through
from projections.store.postgres import MONITOR_LOCK_KEY


def _decompressed(blob: Any) -> Any:
    """A snapshot's records compared as the JSON they hold, not as zlib's bytes (which could
    differ between zlib builds for the same records); undecodable bytes stay as they are, so
    they differ from any rebuild."""
    try:
        return json.loads(zlib.decompress(bytes(blob)))
    except (zlib.error, ValueError):
        return bytes(blob)


@dataclass(frozen=True, slots=True)
class ComparedTable:
    """One table of a read model as a comparison reads it. Its first ``key_columns`` columns
    name a row; rows are compared in key order (sorted in Python: the two stores collate text
    differently), or in the order of ``in_order`` when that order is itself the model's."""

    name: str
    columns: tuple[str, ...]
    key_columns: int = 1
    times: frozenset[str] = frozenset()  # instants: text on SQLite, timestamptz on PostgreSQL
    decode: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    in_order: str | None = None
    # Where the rows are read from when not the table alone (a join naming each row by what a
    # rebuild keeps, not by a number a rebuild gives afresh).
    source: str | None = None
    # The model's rows when the table also holds rows that are not derived from the log (a
    # condition on the table's own columns); a rebuild deletes and compares only these.
    where: str | None = None

    # Names from the constants below, never from input.
    def select(self) -> str:
        where = f" WHERE {self.where}" if self.where else ""
        order = f" ORDER BY {self.in_order}" if self.in_order else ""
        return f"SELECT {', '.join(self.columns)} FROM {self.source or self.name}{where}{order}"  # noqa: S608

    def delete(self) -> str:
        where = f" WHERE {self.where}" if self.where else ""
        return f"DELETE FROM {self.name}{where}"  # noqa: S608



@dataclass(frozen=True, slots=True)
class ReadModel:
    name: str
    tables: tuple[ComparedTable, ...]
    # A tracked projection's application name in the tracking table, whose position is how
    # far it is built; None: the model is written with the events it summarises, so it is
    # always built through the tip.
    tracking: str | None
    # Builds the model from the log up to a position, in a store where it is still empty;
    # None: built by ``Ledger.import_rows`` with the rows themselves.
    rebuild: Callable[[Store, int], None] | None
    # Drops the stored model and rebuilds it from the whole log, in place, safely beside
    # running ingests, monitors and case actions (``regledger rebuild``).
    replace: Callable[[Store, ReadModel], None]


TIP_POSITION = "SELECT MAX(notification_id) FROM ledger_events"


def built_through(cursor: Cursor, store: Store, model: ReadModel) -> int:
    """The position of the log the stored model reflects, read with ``cursor`` (so that, in
    one snapshot, it belongs to the rows read beside it)."""
    if model.tracking is None:
        cursor.execute(TIP_POSITION)
    else:
        cursor.execute(Sql(store).store.select_tracked, (model.tracking,))
    row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


def positions(store: Store) -> dict[str, int]:
    with Sql(store).reading() as cursor:
        return {m.name: built_through(cursor, store, m) for m in READ_MODELS}


def _monitor(store: Store, through: int) -> None:
    MonitorRunner(store).catch_up(until=through)


def _audit(store: Store, through: int) -> None:
    AuditIndex(store).catch_up(until=through)


def _replace_registry(store: Store, model: ReadModel) -> None:
    Ledger(store, parameter_catalogue()).rebuild_registry()


def _replace_cases(store: Store, model: ReadModel) -> None:
    replace_case_statuses(store)


def _owners(store: Store, through: int) -> None:
    """The findings filed under their owners: built from the findings and the audit index
    (rebuilt before it, in the list's order), as far as both go."""
    catch_up_owners(store)


def _replace_owners(store: Store, model: ReadModel) -> None:
    forget_owners(store)
    catch_up_owners(store)


def _replace_subtrees(store: Store, model: ReadModel) -> None:
    """The Merkle subtrees dropped and recomputed from the chain hashes, a slice per write
    transaction under the ledger's lock: appends meanwhile wait one slice at most, and extend
    the table themselves once it has caught up."""
    with Sql(store).writing(ledger_lock=True) as cursor:
        merkle_subtrees.clear(cursor)
    done = False
    while not done:
        with Sql(store).writing(ledger_lock=True) as cursor:
            cursor.execute(TIP_POSITION)
            row = cursor.fetchone()
            done = merkle_subtrees.catch_up_step(cursor, int(row[0] or 0) if row else 0)


def _replace_tracked(lock_key: int) -> Callable[[Store, ReadModel], None]:
    """A tracked projection replaced: its rows and its tracking dropped in one transaction
    under its writers' lock (so it is simply at position 0 after, never half-dropped), then
    caught up from the start of the log. A monitor or indexer running beside finds its
    position overtaken and restores from the store, as after any concurrent run."""

    def replace(store: Store, model: ReadModel) -> None:
        assert model.tracking is not None and model.rebuild is not None
        with Sql(store).writing(lock_key) as cursor:
            for table in model.tables:
                cursor.execute(table.delete())
            cursor.execute(Sql(store).store.forget_tracked, (model.tracking,))
        model.rebuild(store, store.tip().position)

    return replace


_FINDING_COLUMNS = (
    "finding_id", "rule_id", "severity", "event_id", "subject", "occurred_at", "detected_at",
    "position", "message", "parameters", "evidence",
)

# A regulator's node records its supervisory alerts (SUP-01..SUP-04, ``policies.supervisory``)
# in its store's findings, where officers read them, but they are records of what it saw on the
# firm's feed, not derived from its own log: a rebuild of the monitor keeps them, and a
# comparison with a rebuild reads the other findings only.
NOT_SUPERVISORY = "rule_id NOT IN ({})".format(", ".join(f"'{r}'" for r in SUPERVISORY_RULE_IDS))

READ_MODELS: tuple[ReadModel, ...] = (
    # What validation reads (the registry's entity records): written with the events it
    # summarises, so always at the tip.
    ReadModel(
        "registry",
        (ComparedTable("ledger_entities", ("kind", "key", "state"), 2),),
        None, None, _replace_registry,
    ),
    # The monitor: findings in detection order (``seq`` is only that order: a rebuild numbers
    # afresh), its state records and the state kept at Hong Kong midnights.
    ReadModel(
        "monitor",
        (
            ComparedTable("findings", _FINDING_COLUMNS, 1, frozenset({"occurred_at", "detected_at"}), in_order="seq",
                  where=NOT_SUPERVISORY),
            ComparedTable("monitor_state", ("kind", "key", "state"), 2),
            ComparedTable(
                "monitor_snapshots", ("position", "records", "record_count", "state_digest"),
                decode={"records": _decompressed},
            ),
        ),
        MONITOR_APPLICATION, _monitor, _replace_tracked(MONITOR_LOCK_KEY),
    ),
    ReadModel(
        "audit index",
        (
            ComparedTable(
                "audit_events",
                ("position", "event_id", "type", "source", "occurred_at", "recorded_at"),
                1, frozenset({"occurred_at", "recorded_at"}),
            ),
            ComparedTable(
                "audit_subjects", ("subject", "position", "type", "source", "occurred_at"),
                2, frozenset({"occurred_at"}),
            ),
            ComparedTable("audit_owners", ("kind", "id", "owners"), 2),
            # The events by report day, for the nightly report (``projections.audit.days``).
            ComparedTable("ledger_days", ("day", "type", "events", "first_position", "last_position"), 2),
            ComparedTable("ledger_fund_events", ("position", "day", "delta"), 1),
            ComparedTable("ledger_clock", ("name", "occurred_at"), 1, frozenset({"occurred_at"})),
        ),
        AUDIT_APPLICATION, _audit, _replace_tracked(AUDIT_LOCK_KEY),
    ),
    # Case statuses: written with the case events they summarise, so always at the tip.
    ReadModel(
        "case statuses",
        (
            ComparedTable(
                "finding_cases",
                ("finding_id", "case_id", "status", "assignee", "resolution", "updated_at",
                 "updated_by", "version"),
                1, frozenset({"updated_at"}),
            ),
            ComparedTable("case_workflow", ("finding_id", "investigation_id", "requested_by"), 1),
        ),
        None, rebuild_case_statuses, _replace_cases,
    ),
    # The alert queue's owners of findings (``projections.queue.owners``): each finding filed
    # under its subject and the subject's owners, read by the finding it names (its ``seq`` is
    # only the monitor's numbering); caught up on ingest and on read, so built through the tip.
    ReadModel(
        "finding owners",
        (
            ComparedTable("finding_owners", ("owner", "finding_id"), 2,
                  source="finding_owners JOIN findings ON findings.seq = finding_owners.seq",
                  where=f"findings.{NOT_SUPERVISORY}"),
        ),
        None, _owners, _replace_owners,
    ),
    # The roots of the ledger's complete Merkle subtrees of 256 leaves and more
    # (``projections.store.merkle_subtrees``), which proofs read: written with the ledger's
    # rows (by ``Ledger.import_rows`` too), so always at the tip.
    ReadModel(
        "merkle subtrees",
        (ComparedTable(merkle_subtrees.TABLE, ("level", "idx", "root"), 2),),
        None, None, _replace_subtrees,
    ),
    # The quarantine has no read model: a line's status (open, resubmitted, dismissed) is
    # derived from its link rows when read, and those rows are records of their own, chained
    # and checked by ``verify`` (``projections.quarantine.verify_quarantine``).
)

# Every other table of the schema, and why it is not rebuilt from the log.
NOT_READ_MODELS: dict[str, str] = {
    "ledger_events": "record: the log itself",
    "quarantine": "record: what upstream sent and why it was refused (never on the ledger); chained",
    "quarantine_links": "record: each resubmission or dismissal of a quarantined line; chained",
    "api_tokens": "record: issued and revoked by an administrator, not derived from the log",
    "notify_outbox": "record: what was sent to people (webhook, e-mail) and when; no rebuild can unsend it",
    "notify_positions": "bookkeeping: how far each notification channel has read the findings (reset when they are rebuilt below it)",
    "console_sessions": "operational: signed-in browsers, expiring; never derived from the log nor moved",
    "regledger_meta": "bookkeeping: the schema fingerprint, written by migrate",
    "tracking": "bookkeeping (SQLite): how far each tracked read model is, rebuilt with it",
    "notification_tracking": "bookkeeping (PostgreSQL): how far each tracked read model is, rebuilt with it",
}


def read_model_tables() -> set[str]:
    return {table.name for model in READ_MODELS for table in model.tables}


def rebuild_read_models(store: Store, through: Callable[[ReadModel], int] | None = None) -> None:
    """Build every read model from the log, in a store where they are empty: each up to
    ``through(model)``, by default the tip."""
    tip = store.tip().position
    for model in READ_MODELS:
        if model.rebuild is not None:
            model.rebuild(store, tip if through is None else through(model))


def replace_read_models(store: Store) -> None:
    """Every read model dropped and rebuilt from the log, in place: the repair when
    ``verify --projections`` names drift."""
    for model in READ_MODELS:
        model.replace(store, model)


def import_log(
    store: Store, rows: Iterable[ChainedRow], through: Callable[[ReadModel], int] | None = None
) -> int:
    """Load a log into an empty store (every hash checked, the registry rebuilt with the rows)
    and rebuild every other read model from it (up to ``through(model)``, by default the
    tip); the events imported."""
    imported = Ledger(store, parameter_catalogue()).import_rows(iter(rows))
    rebuild_read_models(store, through)
    return imported


def log_rows(store: Store, through: int) -> Iterator[ChainedRow]:
    """The log up to ``through``, as an import reads it."""
    for e in entries_through(store, through):
        yield ChainedRow(e.position, e.event_id, e.version, e.type, e.state, e.recorded_at, e.chain_hash)
