"""The console's quarantine pages: every rejected line with its status, how often it was
received, its reasons and the earlier rejected lines that caused it; one entry in full, with a
dismissal form (a reason, the session's CSRF token) for officers. Dismissing here is what
``POST /v1/quarantine/{id}/dismiss`` does: an event on the ledger and a link row naming it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.errors import NotFound, RegledgerError
from domain.quarantine import QUARANTINE_STATUSES, entry_label, parse_entry
from domain.values import NOTE_CHARS_MAX
from ops.api.console import check_csrf, page, signed_in
from ops.api.deps import store_of
from ops.api.security import PERMISSIONS
from ops.quarantine_view import listed_json, quarantine_json, reasons_text
from ops.render import hk_time, table_time
from projections.quarantine import dismiss, quarantine_page, quarantined_line

QUARANTINE_PAGE_ROWS = 100
STATUSES = QUARANTINE_STATUSES


def console_time(moment: Any) -> Any:
    """An instant as officers read it everywhere (Hong Kong time, offset shown)."""
    if isinstance(moment, str):  # the JSON forms carry ISO 8601 text
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    return table_time(hk_time(moment)) if isinstance(moment, datetime) else moment


def shown(row: dict[str, Any], *, listed: bool = False) -> dict[str, Any]:
    entry = listed_json(row) if listed else quarantine_json(row)
    times: dict[str, Any] = {"received_at": console_time(row["received_at"])}
    if "sightings" in entry:
        times["sightings"] = [{**s, "received_at": console_time(s.get("received_at"))} for s in entry["sightings"]]
    if "links" in entry:
        times["links"] = [{**k, "recorded_at": console_time(k.get("recorded_at"))} for k in entry["links"]]
    return {**entry, **times, "reasons_text": reasons_text(entry["reasons"])}


def register_quarantine_console(app: FastAPI) -> None:
    @app.get("/console/quarantine", include_in_schema=False)
    def quarantine_list_page(request: Request, status: str | None = None,
                        offset: Annotated[int, Query(ge=0, le=2**62)] = 0) -> HTMLResponse:
        """A page of entries in id order, of one status when asked."""
        principal = signed_in(request, "read")
        wanted = status if status in STATUSES else None  # "any" (or nonsense) shows every status
        rows = [shown(q, listed=True) for q in quarantine_page(store_of(request), QUARANTINE_PAGE_ROWS, offset, wanted)]
        more = len(rows) == QUARANTINE_PAGE_ROWS
        return page(request, "quarantine.html", principal, rows=rows, status_filter=wanted or "", statuses=STATUSES,
                    offset=offset, next_offset=offset + QUARANTINE_PAGE_ROWS if more else None,
                    page_rows=QUARANTINE_PAGE_ROWS)

    def entry_page(request: Request, entry: str, status_code: int = 200, error: str | None = None) -> HTMLResponse:
        principal = signed_in(request, "read")
        quarantine_id = parse_entry(entry)
        row = quarantined_line(store_of(request), quarantine_id)
        if row is None:
            raise NotFound(f"no quarantined line {entry_label(quarantine_id)}")
        can_dismiss = "cases" in PERMISSIONS.get(principal.role, frozenset()) and row["status"] == "open"
        return page(request, "quarantine_entry.html", principal, status=status_code, error=error, q=shown(row),
                    can_dismiss=can_dismiss, reason_max=NOTE_CHARS_MAX)

    @app.get("/console/quarantine/{entry}", include_in_schema=False)
    def quarantine_entry_page(request: Request, entry: str) -> HTMLResponse:
        return entry_page(request, entry)

    @app.post("/console/quarantine/{entry}/dismiss", include_in_schema=False)
    def dismiss_form(request: Request, entry: str,
                     reason: Annotated[str | None, Form(max_length=NOTE_CHARS_MAX)] = None,
                     csrf: Annotated[str | None, Form(max_length=128)] = None) -> Response:
        principal = signed_in(request, "cases")
        check_csrf(request, csrf)
        quarantine_id = parse_entry(entry)
        try:
            dismiss(store_of(request), quarantine_id, actor=principal.name, reason=reason or "", at=datetime.now(UTC))
        except NotFound:
            raise  # a 404, as for the page itself
        except RegledgerError as e:
            return entry_page(request, entry, 409, str(e))
        return RedirectResponse(f"/console/quarantine/{entry_label(quarantine_id)}", status_code=303)
