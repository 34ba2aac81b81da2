"""A quarantine entry as the CLI, the API and the console show it: named ``Q-000017`` (never a
bare number beside the ``line`` it came from), with its status, how often it was received and
the earlier rejected lines that caused it."""

from __future__ import annotations

from typing import Any

from domain.quarantine import QuarantineLink, entry_label


def link_json(link: dict[str, Any]) -> dict[str, Any]:
    related = link.get("related_id")
    return {**link, "related": None if related is None else entry_label(related)}


def quarantine_json(row: dict[str, Any]) -> dict[str, Any]:
    """A row of ``Store.quarantined`` or ``quarantined_line``, for output: the entry's label
    as ``id`` (the stored number is ``quarantine_id``), times in ISO 8601, the raw line as text."""
    shown = {
        **row, "id": entry_label(row["id"]), "quarantine_id": row["id"],
        "received_at": row["received_at"].isoformat(), "raw": row["raw"].decode("utf-8", errors="replace"),
        "caused_by": [entry_label(i) for i in row.get("caused_by", ())],
    }
    if "links" in row:
        shown["links"] = [link_json(k) for k in row["links"]]
    return shown


def listed_json(row: dict[str, Any]) -> dict[str, Any]:
    """An entry as a list shows it: one row each, its sightings counted (``count``) and listed
    only when the one entry is shown, so a line sent ten thousand times stays one short row."""
    shown = quarantine_json(row)
    del shown["sightings"]
    return shown


def reasons_text(reasons: list[dict[str, str]]) -> str:
    return "; ".join(f"{r['field']}: {r['reason']}" for r in reasons)


def dismissal_json(quarantine_id: int, link: QuarantineLink) -> dict[str, Any]:
    """A dismissal as the CLI and the API answer it; ``event_id`` is its event on the ledger."""
    return {"id": entry_label(quarantine_id), "quarantine_id": quarantine_id, "status": link.kind, **link.as_json()}
