"""Projection drift: every read model (``projections.rebuild.READ_MODELS``) compared with a
rebuild of it from the log.

The stored models are read first, each with the position it is built through, all in one
snapshot of the store (so that rows and positions belong together). The log up to the tip is then imported
into a scratch SQLite store, which rebuilds each model exactly as ``regledger import`` does,
up to the stored model's own position: a monitor or audit index that is merely behind is
not drift. Then each table is compared row by row, in key order (or, for the findings, in
detection order), and the first difference is named: model, table, key, the stored and the
rebuilt values of the columns that differ (None: no such row on that side).

Both sides are held in memory one table at a time: the bound is the largest read model.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from projections.queue.owners import TRACKING_KEY as OWNERS_TRACKING_KEY
from projections.rebuild.models import (
    READ_MODELS,
    ComparedTable,
    built_through,
    import_log,
    log_rows,
)
from projections.sql import Cursor, Sql
from projections.store import open_store
from projections.store.base import Store

SHOWN_CHARS_MAX = 300
# The finding owners are filed lazily (on ingest, monitor and read), up to a tracked finding
# ``seq``: a finding the monitor has raised but nobody has filed yet is behind, not drift, as a
# monitor behind the log is. Its rebuilt rows are compared for the findings filed so far.
OWNERS_TABLE = "finding_owners"
FILED_FINDINGS = (
    "SELECT finding_id FROM findings WHERE seq <= "
    "(SELECT CAST(value AS BIGINT) FROM regledger_meta WHERE key = ?)"
)

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Checked:
    model: str
    position: int  # the position of the log the stored model is built through
    rows: int  # stored rows compared, over its tables


@dataclass(frozen=True, slots=True)
class Difference:
    model: str
    table: str
    key: dict[str, Any]
    stored: dict[str, Any] | None  # the differing columns; None: the row is not stored
    rebuilt: dict[str, Any] | None  # None: a rebuild has no such row

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model, "table": self.table, "key": _shown(self.key),
            "stored": None if self.stored is None else _shown(self.stored),
            "rebuilt": None if self.rebuilt is None else _shown(self.rebuilt),
        }

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in _shown(self.key).items())
        return (
            f"{self.model}: {self.table} row {key}: stored"
            f" {'(none)' if self.stored is None else json.dumps(_shown(self.stored))}, rebuilt"
            f" {'(none)' if self.rebuilt is None else json.dumps(_shown(self.rebuilt))}"
        )


@dataclass(frozen=True, slots=True)
class Drift:
    checked: tuple[Checked, ...]
    difference: Difference | None

    @property
    def intact(self) -> bool:
        return self.difference is None

    def as_json(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "models": [{"model": c.model, "position": c.position, "rows": c.rows} for c in self.checked],
            "difference": None if self.difference is None else self.difference.as_json(),
        }


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    """Values as JSON can carry them, long ones cut (a snapshot's records run to megabytes)."""
    shown: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, bytes):
            value = value.hex()
        elif isinstance(value, list | dict):
            value = json.dumps(value, separators=(",", ":"))
        if isinstance(value, str) and len(value) > SHOWN_CHARS_MAX:
            value = value[:SHOWN_CHARS_MAX] + "..."
        shown[name] = value
    return shown


def _normalised(sql: Sql, table: ComparedTable) -> Callable[[Row], Row]:
    converters: list[Callable[[Any], Any] | None] = []
    for name in table.columns:
        if name in table.times:
            converters.append(lambda v: None if v is None else sql.instant(v))
        elif name in table.decode:
            converters.append(table.decode[name])
        else:
            converters.append(None)

    def normalise(row: Row) -> Row:
        return tuple(
            (bytes(v) if isinstance(v, memoryview | bytearray) else v) if c is None else c(v)
            for c, v in zip(converters, row, strict=True)
        )

    return normalise


def stored_rows(store: Store, table: ComparedTable, cursor: Cursor | None = None) -> list[Row]:
    sql = Sql(store)
    normalise = _normalised(sql, table)
    if cursor is None:
        raw = sql.rows(table.select())
    else:
        cursor.execute(table.select())
        raw = cursor.fetchall()
    rows = [normalise(r) for r in raw]
    if table.in_order is None:
        rows.sort(key=lambda r: r[: table.key_columns])
    return rows


def _stored_models(store: Store) -> tuple[dict[str, int], dict[str, list[Row]], set[str]]:
    """Every model's rows with the position each is built through, and the findings filed by
    owner, all read in one snapshot of the store: an ingest or a monitor running meanwhile
    changes nothing of what is read."""
    with Sql(store).reading(snapshot=True) as cursor:
        positions = {m.name: built_through(cursor, store, m) for m in READ_MODELS}
        rows = {t.name: stored_rows(store, t, cursor) for m in READ_MODELS for t in m.tables}
        cursor.execute(FILED_FINDINGS, (OWNERS_TRACKING_KEY,))
        filed = {finding_id for (finding_id,) in cursor.fetchall()}
    return positions, rows, filed


def first_difference(model: str, table: ComparedTable, stored: Sequence[Row], rebuilt: Sequence[Row]) -> Difference | None:
    n = table.key_columns
    stored_keys = {r[:n] for r in stored}
    rebuilt_keys = {r[:n] for r in rebuilt}
    for index in range(max(len(stored), len(rebuilt))):
        s = stored[index] if index < len(stored) else None
        r = rebuilt[index] if index < len(rebuilt) else None
        if s == r:
            continue
        if s is not None and r is not None and s[:n] == r[:n]:
            differing = [i for i, (a, b) in enumerate(zip(s, r, strict=True)) if a != b]
            return Difference(
                model, table.name, dict(zip(table.columns[:n], s[:n], strict=True)),
                {table.columns[i]: s[i] for i in differing}, {table.columns[i]: r[i] for i in differing},
            )
        if r is not None and r[:n] not in stored_keys:
            return Difference(model, table.name, dict(zip(table.columns[:n], r[:n], strict=True)), None,
                              dict(zip(table.columns[n:], r[n:], strict=True)))
        if s is not None and s[:n] not in rebuilt_keys:
            return Difference(model, table.name, dict(zip(table.columns[:n], s[:n], strict=True)),
                              dict(zip(table.columns[n:], s[n:], strict=True)), None)
        assert s is not None and r is not None  # both present elsewhere: the order differs
        return Difference(model, table.name, dict(zip(table.columns[:n], s[:n], strict=True)),
                          {"order": index + 1}, {"order": rebuilt.index(s) + 1 if s in rebuilt else None})
    return None


def rebuilt_store(store: Store, positions: dict[str, int], directory: Path) -> Store:
    """A scratch SQLite store holding the log up to the newest position and every read model
    rebuilt from it up to its own position in ``positions``."""
    scratch = open_store(f"sqlite:///{directory / 'rebuilt.db'}", create=True)
    try:
        import_log(scratch, log_rows(store, max(positions.values(), default=0)), lambda m: positions[m.name])
    except BaseException:
        scratch.close()
        raise
    return scratch


def check_projections(store: Store) -> Drift:
    positions, stored, filed = _stored_models(store)
    checked = tuple(
        Checked(m.name, positions[m.name], sum(len(stored[t.name]) for t in m.tables)) for m in READ_MODELS
    )
    with tempfile.TemporaryDirectory(prefix="regledger-rebuild-") as directory:
        scratch = rebuilt_store(store, positions, Path(directory))
        try:
            for model in READ_MODELS:
                for table in model.tables:
                    rebuilt = stored_rows(scratch, table)
                    if table.name == OWNERS_TABLE:
                        rebuilt = [r for r in rebuilt if r[table.columns.index("finding_id")] in filed]
                    found = first_difference(model.name, table, stored[table.name], rebuilt)
                    if found is not None:
                        return Drift(checked, found)
        finally:
            scratch.close()
    return Drift(checked, None)
