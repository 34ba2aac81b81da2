"""The quarantine's two chained tables, written and read once for both stores.

Writers hold the table's lock (``Cursor.lock``: SQLite's ``BEGIN IMMEDIATE`` already does,
PostgreSQL takes ``LOCK TABLE ... IN EXCLUSIVE MODE``), so the tip read inside the transaction
is stable until commit and two writers cannot fork the chain.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from domain.chain import GENESIS_HASH
from domain.ledger_storage import QuarantinedLine
from domain.quarantine import (
    CAUSED_BY,
    DISMISSED,
    INGEST_ACTOR,
    QUARANTINE_TAG,
    RESUBMITTED,
    SEEN_AGAIN,
    QuarantineLink,
    QuarantineRecord,
    expected_hash,
    record_hash,
    sightings_of,
    status_of,
)
from domain.quarantine_causes import created_keys, missing_keys
from domain.registry.aggregates import EntityKey
from projections.store.cursors import Cursor, instant

QUARANTINE, LINKS = "quarantine", "quarantine_links"
RECORDS_PER_PAGE_MAX = 1_000
LEGACY_ACTOR = "upgrade"
LEGACY_REASON = "carried over from the resubmitted_as column of an older store"

# Each table's fields in column order, which is the order of the record's own fields: (column,
# name in an export line, form in an export line, nullable). Forms: int, text, time (ISO 8601),
# base64, hex.
Field = tuple[str, str, str, bool]
QUARANTINE_FIELDS: tuple[Field, ...] = (
    ("id", "id", "int", False), ("previous_id", "previous_id", "int", False),
    ("received_at", "received_at", "time", False), ("origin", "origin", "text", False),
    ("line_no", "line", "int", True), ("event_id", "event_id", "text", True), ("reasons", "reasons", "text", False),
    ("raw", "raw_base64", "base64", False), ("chain_hash", "chain_hash", "hex", False),
)
LINK_FIELDS: tuple[Field, ...] = (
    ("id", "id", "int", False), ("previous_id", "previous_id", "int", False),
    ("quarantine_id", "quarantine_id", "int", False), ("kind", "kind", "text", False),
    ("event_id", "event_id", "text", True), ("related_id", "related_id", "int", True),
    ("actor", "actor", "text", False), ("reason", "reason", "text", True),
    ("recorded_at", "recorded_at", "time", False), ("chain_hash", "chain_hash", "hex", False),
)
QUARANTINE_COLUMNS = ", ".join(column for column, *_ in QUARANTINE_FIELDS)
LINK_COLUMNS = ", ".join(column for column, *_ in LINK_FIELDS)
INSERT_QUARANTINE = "INSERT INTO quarantine (" + QUARANTINE_COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?)"  # noqa: S608  # constants
INSERT_LINK = "INSERT INTO quarantine_links (" + LINK_COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?)"  # noqa: S608  # constants
SELECT_PAGE = "SELECT " + QUARANTINE_COLUMNS + " FROM quarantine ORDER BY id LIMIT ? OFFSET ?"  # noqa: S608  # constants
# The kind of a row's first settling link (domain.quarantine.status_of), NULL while it is open.
SETTLED_KIND = (
    "(SELECT k.kind FROM quarantine_links k WHERE k.quarantine_id = q.id"
    " AND k.kind IN ('resubmitted', 'dismissed') ORDER BY k.id LIMIT 1)"
)
SELECT_PAGE_BY_STATUS = {
    "open": "SELECT " + QUARANTINE_COLUMNS + " FROM quarantine q WHERE " + SETTLED_KIND + " IS NULL"  # noqa: S608  # constants
            " ORDER BY id LIMIT ? OFFSET ?",
    **{
        kind: "SELECT " + QUARANTINE_COLUMNS + " FROM quarantine q WHERE " + SETTLED_KIND + " = '" + kind + "'"  # noqa: S608  # constants
              " ORDER BY id LIMIT ? OFFSET ?"
        for kind in (RESUBMITTED, DISMISSED)
    },
}
SELECT_SAME_LINE = "SELECT id FROM quarantine WHERE raw = ? AND reasons = ? ORDER BY id LIMIT 1"
SELECT_NEWEST_RAW = "SELECT id, raw FROM quarantine ORDER BY id DESC LIMIT ?"
CAUSE_ROWS_SCANNED_MAX = 10_000
SELECT_ONE = "SELECT " + QUARANTINE_COLUMNS + " FROM quarantine WHERE id = ?"  # noqa: S608  # constants
SELECT_LINKS_OF = (
    "SELECT " + LINK_COLUMNS + " FROM quarantine_links"  # noqa: S608  # constants
    " WHERE quarantine_id >= ? AND quarantine_id <= ? ORDER BY id"
)
# Per table: its tip, the next id after one, and the rows of a range of ids.
TABLE_STATEMENTS = {
    table: (
        "SELECT id, chain_hash FROM " + table + " ORDER BY id DESC LIMIT 1",  # noqa: S608  # constants
        "SELECT MIN(id) FROM " + table + " WHERE id > ?",  # noqa: S608  # constants
        "SELECT " + columns + " FROM " + table + " WHERE id >= ? AND id <= ? ORDER BY id",  # noqa: S608  # constants
    )
    for table, columns in ((QUARANTINE, QUARANTINE_COLUMNS), (LINKS, LINK_COLUMNS))
}


UNREADABLE_TIME = datetime(1, 1, 1, tzinfo=UTC)


def _time(stored: Any) -> datetime:
    """A stored time; one that no longer reads (edited past the triggers) reads as year 1,
    whose hash then fails, instead of raising."""
    try:
        moment = instant(stored)
    except (ValueError, TypeError):
        return UNREADABLE_TIME
    return moment if isinstance(moment, datetime) and moment.tzinfo is not None else UNREADABLE_TIME


def _previous(stored: Any) -> int:
    return -1 if stored is None else int(stored)  # NULL only where the upgrade failed to chain


def _record(r: tuple[Any, ...]) -> QuarantineRecord:
    return QuarantineRecord(
        r[0], _previous(r[1]), _time(r[2]), r[3], r[4], r[5], r[6], bytes(r[7]), bytes(r[8] or b""),
    )


def _link(r: tuple[Any, ...]) -> QuarantineLink:
    return QuarantineLink(
        r[0], _previous(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], _time(r[8]), bytes(r[9] or b""),
    )


def _tip(c: Cursor, table: str) -> tuple[int, bytes]:
    c.execute(TABLE_STATEMENTS[table][0])
    row = c.fetchone()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), bytes(row[1]))


# --- writing ------------------------------------------------------------------------------------
def append_lines(c: Cursor, lines: Sequence[QuarantinedLine], received_at: datetime) -> None:
    """Chain and insert rejected lines (inside the ingest's write transaction).

    Reading (issue 18): a line received again with the same bytes and refused for the same
    reasons is the same entry seen again: a ``seen_again`` link (where and when), not a second
    row, so the same bad file ingested twice is one entry per line with a count of 2. A new row
    refused for naming an entity another rejected line would have created gets a ``caused_by``
    link to the newest such row (``domain.quarantine_causes``)."""
    if not lines:
        return
    c.lock(QUARANTINE)
    c.lock(LINKS)  # order: the ledger, the quarantine, its links (as everywhere)
    last_id, previous = _tip(c, QUARANTINE)
    rows: list[tuple[Any, ...]] = []
    added: dict[tuple[bytes, str], int] = {}
    seen: list[tuple[int, QuarantinedLine]] = []
    for q in lines:
        known = added.get((q.raw, q.reasons)) or _same_line(c, q)
        if known is not None:
            seen.append((known, q))
            continue
        fields = (q.origin, q.line_no, q.event_id, q.reasons, q.raw)
        previous = record_hash(QUARANTINE_TAG, last_id + 1, last_id, previous, received_at, fields)
        rows.append((last_id + 1, last_id, c.time(received_at), *fields, previous))
        last_id += 1
        added[(q.raw, q.reasons)] = last_id
    c.executemany(INSERT_QUARANTINE, rows)
    for quarantine_id, q in seen:
        where = json.dumps({"origin": q.origin, "line": q.line_no})
        append_link(c, quarantine_id, SEEN_AGAIN, actor=INGEST_ACTOR, recorded_at=received_at, reason=where)
    _link_causes(c, [(i, raw, reasons) for (raw, reasons), i in added.items()], received_at)


def _same_line(c: Cursor, q: QuarantinedLine) -> int | None:
    c.execute(SELECT_SAME_LINE, (q.raw, q.reasons))
    row = c.fetchone()
    return None if row is None else int(row[0])


def _link_causes(c: Cursor, added: list[tuple[int, bytes, str]], recorded_at: datetime) -> None:
    """``caused_by`` links from the rows just added to the rows that would have created what
    they were refused for missing: the newest such row before each, among the newest
    ``CAUSE_ROWS_SCANNED_MAX`` rows (a cause is looked for where it is likely, near in time)."""
    missing = {i: m for i, raw, reasons in added if (m := missing_keys(raw, json.loads(reasons)))}
    if not missing:
        return
    creators: dict[EntityKey, list[int]] = {}
    c.execute(SELECT_NEWEST_RAW, (CAUSE_ROWS_SCANNED_MAX,))
    for row_id, raw in c.fetchall():
        for key in created_keys(bytes(raw)):
            creators.setdefault(key, []).append(int(row_id))  # newest first
    for quarantine_id in sorted(missing):
        causes: dict[int, list[str]] = {}
        for key, refusal in sorted(missing[quarantine_id].items()):
            cause = next((i for i in creators.get(key, ()) if i < quarantine_id), None)
            if cause is not None:
                causes.setdefault(cause, []).append(refusal)
        for cause, refusals in sorted(causes.items()):
            append_link(c, quarantine_id, CAUSED_BY, actor=INGEST_ACTOR, recorded_at=recorded_at,
                        related_id=cause, reason="; ".join(refusals))


def append_link(c: Cursor, quarantine_id: int, kind: str, *, actor: str, recorded_at: datetime,
                event_id: str | None = None, related_id: int | None = None,
                reason: str | None = None) -> QuarantineLink:
    """Chain and insert one link; the caller holds the links' lock (``c.lock(LINKS)``)."""
    last_id, previous = _tip(c, LINKS)
    draft = QuarantineLink(last_id + 1, last_id, quarantine_id, kind, event_id, related_id, actor,
                           reason, recorded_at, b"")
    link = replace(draft, chain_hash=expected_hash(draft, last_id, previous))
    c.execute(INSERT_LINK, _link_params(c, link))
    return link


def _record_params(c: Cursor, r: QuarantineRecord) -> tuple[Any, ...]:
    return (r.id, r.previous_id, c.time(r.received_at), *r.fields(), r.chain_hash)


def _link_params(c: Cursor, k: QuarantineLink) -> tuple[Any, ...]:
    return (k.id, k.previous_id, *k.fields(), c.time(k.recorded_at), k.chain_hash)


def insert_verbatim(c: Cursor, records: Sequence[QuarantineRecord], links: Sequence[QuarantineLink]) -> None:
    """Rows exported from another store, ids and hashes kept (checked by the caller)."""
    c.lock(QUARANTINE)
    c.lock(LINKS)
    c.executemany(INSERT_QUARANTINE, [_record_params(c, r) for r in records])
    c.executemany(INSERT_LINK, [_link_params(c, k) for k in links])


# --- reading ------------------------------------------------------------------------------------
def page_records(c: Cursor, limit: int, offset: int) -> list[QuarantineRecord]:
    c.execute(SELECT_PAGE, (limit, offset))
    return [_record(r) for r in c.fetchall()]


def record(c: Cursor, quarantine_id: int) -> QuarantineRecord | None:
    c.execute(SELECT_ONE, (quarantine_id,))
    row = c.fetchone()
    return None if row is None else _record(row)


def links_between(c: Cursor, low: int, high: int) -> list[QuarantineLink]:
    """The links of quarantine rows low..high, in link order."""
    c.execute(SELECT_LINKS_OF, (low, high))
    return [_link(r) for r in c.fetchall()]


def iter_table(read: Any, table: str) -> Iterator[QuarantineRecord | QuarantineLink]:
    """Every row of ``table`` in id order, in bounded ranges of ids; an id stored twice (a DBA
    can drop the primary key) comes back twice. ``read`` runs one statement and returns its rows."""
    build = _record if table == QUARANTINE else _link
    _, next_id, in_range = TABLE_STATEMENTS[table]
    [(low,)] = read(next_id, (-(2**62),))
    while low is not None:
        top = int(low) + RECORDS_PER_PAGE_MAX - 1
        for r in read(in_range, (low, top)):
            yield build(r)
        [(low,)] = read(next_id, (top,))


# --- export lines (regledger export / import) ------------------------------------------------------
EXPORTED = {QUARANTINE: ("quarantine", QuarantineRecord, QUARANTINE_FIELDS), LINKS: ("quarantine_link", QuarantineLink, LINK_FIELDS)}
TO_EXPORT: dict[str, Callable[[Any], Any]] = {
    "int": lambda v: v, "text": lambda v: v, "time": datetime.isoformat,
    "base64": lambda v: base64.b64encode(v).decode("ascii"), "hex": bytes.hex,
}
FROM_EXPORT: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "int": (int, lambda v: v), "text": (str, lambda v: v), "time": (str, datetime.fromisoformat),
    "base64": (str, lambda v: base64.b64decode(v, validate=True)), "hex": (str, bytes.fromhex),
}


def export_json(r: QuarantineRecord | QuarantineLink) -> dict[str, Any]:
    """A row as a line of an export: a ``record`` key that no ledger line has, then its fields."""
    tag, _, fields = EXPORTED[QUARANTINE if isinstance(r, QuarantineRecord) else LINKS]
    return {"record": tag, **{
        name: None if getattr(r, column) is None else TO_EXPORT[form](getattr(r, column))
        for column, name, form, _ in fields
    }}


def from_export(line: Mapping[str, Any]) -> QuarantineRecord | QuarantineLink:
    """A row from a line of an export; KeyError, ValueError or TypeError when it is not one."""
    for tag, build, fields in EXPORTED.values():
        if line["record"] == tag:
            return build(*(_exported_value(line, name, form, nullable) for _, name, form, nullable in fields))
    raise ValueError(f"unknown record {line['record']!r}")


def _exported_value(line: Mapping[str, Any], name: str, form: str, nullable: bool) -> Any:
    value = line[name]
    if value is None and nullable:
        return None
    kind, decode = FROM_EXPORT[form]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{name} is not a {kind.__name__}" + (" or null" if nullable else ""))
    return decode(value)


# --- upgrading a store made by older code ---------------------------------------------------------
def upgrade_legacy(c: Cursor, legacy_resubmissions: bool, clock: Callable[[], datetime]) -> None:
    """Chain the rows an older store holds, in id order as they are (ids and gaps kept), then
    turn each ``resubmitted_as`` into a link row recorded at ``clock()``. Runs in the
    migration's transaction, before the append-only triggers exist, on a table whose chain
    columns were just added."""
    last_id, previous = 0, GENESIS_HASH
    while True:  # in pages: an old quarantine can be large, and raw lines up to 4 KiB each
        c.execute(
            "SELECT id, received_at, origin, line_no, event_id, reasons, raw FROM quarantine"
            " WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, RECORDS_PER_PAGE_MAX),
        )
        rows = c.fetchall()
        updates = []
        for r in rows:
            fields = (r[2], r[3], r[4], r[5], bytes(r[6]))
            previous = record_hash(QUARANTINE_TAG, r[0], last_id, previous, instant(r[1]), fields)
            updates.append((last_id, previous, r[0]))
            last_id = r[0]
        c.executemany("UPDATE quarantine SET previous_id = ?, chain_hash = ? WHERE id = ?", updates)
        if len(rows) < RECORDS_PER_PAGE_MAX:
            break
    if legacy_resubmissions:
        recorded_at = clock()
        c.execute("SELECT id, resubmitted_as FROM quarantine WHERE resubmitted_as IS NOT NULL ORDER BY id")
        for quarantine_id, event_id in c.fetchall():
            append_link(c, quarantine_id, RESUBMITTED, actor=LEGACY_ACTOR, recorded_at=recorded_at,
                        event_id=event_id, reason=LEGACY_REASON)


def upgrade(c: Cursor, columns: set[str], add_columns: tuple[str, str], clock: Callable[[], datetime]) -> None:
    """Bring an older store's mutable quarantine (found with ``columns``) to the chained one;
    ``add_columns`` are the store's two ``ALTER TABLE`` statements adding the chain columns;
    ``clock`` is read only when there are legacy resubmissions to carry over."""
    if "chain_hash" not in columns:
        for column in add_columns:
            c.execute(column)
        upgrade_legacy(c, "resubmitted_as" in columns, clock)
    if "resubmitted_as" in columns:
        c.execute("ALTER TABLE quarantine DROP COLUMN resubmitted_as")


# --- what the CLI, the API and the report show ------------------------------------------------------
def line_json(r: QuarantineRecord, links: Sequence[QuarantineLink]) -> dict[str, Any]:
    """One quarantined line in the shape every reader has shown since before the chain, with
    its status derived from its links."""
    status, settled = status_of(links)
    sightings = sightings_of(r, links)
    return {
        "id": r.id, "received_at": r.received_at, "origin": r.origin, "line": r.line_no,
        "event_id": r.event_id, "reasons": json.loads(r.reasons), "raw": r.raw,
        "resubmitted_as": settled.event_id if settled is not None and status == RESUBMITTED else None,
        "status": status, "count": len(sightings), "sightings": sightings,
        "caused_by": [k.related_id for k in links if k.kind == CAUSED_BY],
    }


def listed(c: Cursor, limit: int, offset: int, status: str | None = None) -> list[dict[str, Any]]:
    """A page of rows in id order, of one status when ``status`` is given (open, resubmitted,
    dismissed), each with its links."""
    if status is None:
        records = page_records(c, limit, offset)
    else:
        c.execute(SELECT_PAGE_BY_STATUS[status], (limit, offset))
        records = [_record(r) for r in c.fetchall()]
    if not records:
        return []
    by_line: dict[int, list[QuarantineLink]] = {}
    if status is None:  # a page of consecutive ids: their links in one range
        for link in links_between(c, records[0].id, records[-1].id):
            by_line.setdefault(link.quarantine_id, []).append(link)
    else:  # ids spread over the quarantine: each row's own links
        by_line = {r.id: links_between(c, r.id, r.id) for r in records}
    return [line_json(r, by_line.get(r.id, [])) for r in records]
