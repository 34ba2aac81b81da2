"""One quarantined line, and the link from it to the event its corrected resubmission became."""

from __future__ import annotations

import json
from typing import Any

from projections.sql import Sql
from projections.store.base import Store


def quarantined_line(store: Store, quarantine_id: int) -> dict[str, Any] | None:
    sql = Sql(store)
    rows = sql.rows(
        "SELECT id, received_at, origin, line_no, event_id, reasons, raw, resubmitted_as"
        " FROM quarantine WHERE id = ?",
        (quarantine_id,),
    )
    if not rows:
        return None
    r = rows[0]
    return {
        "id": r[0], "received_at": sql.instant(r[1]), "origin": r[2], "line": r[3],
        "event_id": r[4], "reasons": json.loads(r[5]), "raw": sql.blob(r[6]),
        "resubmitted_as": r[7],
    }


def link_resubmission(store: Store, quarantine_id: int, event_id: str) -> bool:
    """Record that the line was resubmitted as ``event_id``; False when it already was."""
    sql = Sql(store)
    with sql.writing() as cursor:
        cursor.execute(
            "UPDATE quarantine SET resubmitted_as = ? WHERE id = ? AND resubmitted_as IS NULL",
            (event_id, quarantine_id),
        )
        cursor.execute("SELECT resubmitted_as FROM quarantine WHERE id = ?", (quarantine_id,))
        row = cursor.fetchone()
    return row is not None and row[0] == event_id
