"""One quarantined line with its links, settling a line (resubmitted or dismissed) by a new link
row, and the quarantine's chains checked row by row."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import InvalidRequest, NotFound, StoreCorrupted
from domain.quarantine import (
    DISMISSED,
    RESUBMITTED,
    ChainedRecord,
    QuarantineLink,
    QuarantineRecord,
    RecordBreak,
    RecordChainCheck,
    entry_label,
    status_of,
)
from domain.quarantine_decisions import DISMISSED_TOPIC, QuarantineDecisions, decode_dismissal
from domain.values import ACTOR_CHARS_MAX, NOTE_CHARS_MAX
from projections.quarantine_recorders import decision_recorder
from projections.sql import Sql
from projections.store import quarantine_log
from projections.store.base import Store
from projections.store.quarantine_log import LINKS, QUARANTINE

SELECT_DISMISSALS = "SELECT originator_id, state FROM ledger_events WHERE topic = ?"


def quarantined_line(store: Store, quarantine_id: int) -> dict[str, Any] | None:
    """The line as ``quarantine list`` shows it, with every link of it (oldest first)."""
    with Sql(store).reading() as c:
        found = quarantine_log.record(c, quarantine_id)
        links = quarantine_log.links_between(c, quarantine_id, quarantine_id) if found else []
    if found is None:
        return None
    return {**quarantine_log.line_json(found, links), "links": [k.as_json() for k in links]}


def quarantine_page(store: Store, limit: int, offset: int, status: str | None = None) -> list[dict[str, Any]]:
    """A page of the quarantine as ``Store.quarantined`` gives it, of one status when asked."""
    if status is not None and status not in quarantine_log.SELECT_PAGE_BY_STATUS:
        raise InvalidRequest(f"status: one of open, resubmitted, dismissed, got {status!r}")
    with Sql(store).reading() as c:
        return quarantine_log.listed(c, limit, offset, status)


def settling_link(store: Store, quarantine_id: int) -> QuarantineLink | None:
    """The link that settled the line, None while it is open."""
    with Sql(store).reading() as c:
        if quarantine_log.record(c, quarantine_id) is None:
            raise NotFound(f"no quarantined line {entry_label(quarantine_id)}")
        return status_of(quarantine_log.links_between(c, quarantine_id, quarantine_id))[1]


def settle(store: Store, quarantine_id: int, kind: str, *, actor: str, at: datetime,
           event_id: str | None = None, reason: str | None = None) -> tuple[QuarantineLink, bool]:
    """Link the line as resubmitted (as ``event_id``) or dismissed (for ``reason``), unless it
    is settled already: then its earlier settling link is returned (with False) and nothing
    is written.
    Reading: a line is settled once; a dismissed line is not resubmitted later, and a
    resubmitted one not dismissed (upstream sends a corrected line through ingest instead)."""
    assert kind in (RESUBMITTED, DISMISSED)
    _checked_text("actor", actor, ACTOR_CHARS_MAX)
    if kind == DISMISSED:
        _checked_text("reason", reason or "", NOTE_CHARS_MAX)
    with Sql(store).writing() as c:
        c.lock(LINKS)  # the settled check and the new link see the same links
        if quarantine_log.record(c, quarantine_id) is None:
            raise NotFound(f"no quarantined line {entry_label(quarantine_id)}")
        _, settled = status_of(quarantine_log.links_between(c, quarantine_id, quarantine_id))
        if settled is not None:
            return settled, False
        link = quarantine_log.append_link(
            c, quarantine_id, kind, actor=actor, recorded_at=at, event_id=event_id, reason=reason,
        )
        return link, True


def dismiss(store: Store, quarantine_id: int, *, actor: str, reason: str, at: datetime) -> QuarantineLink:
    """Dismiss the line for ``reason``: an event on the ledger (covered by its signed digests)
    and the ``dismissed`` link naming it, in one transaction (``domain.quarantine_decisions``)."""
    _checked_text("actor", actor, ACTOR_CHARS_MAX)
    _checked_text("reason", reason, NOTE_CHARS_MAX)
    with Sql(store).reading() as c:
        found = quarantine_log.record(c, quarantine_id)
        links = quarantine_log.links_between(c, quarantine_id, quarantine_id) if found else []
    if found is None:
        raise NotFound(f"no quarantined line {entry_label(quarantine_id)}")
    settled = status_of(links)[1]
    if settled is not None:  # checked again in the dismissal's transaction, under the lock
        raise InvalidRequest(f"quarantined line {entry_label(quarantine_id)} was already {settled_text(settled)}")
    QuarantineDecisions(decision_recorder(store)).dismiss(quarantine_id, found.chain_hash, actor, reason, at)
    link = settling_link(store, quarantine_id)
    assert link is not None and link.kind == DISMISSED
    return link


def settled_text(link: QuarantineLink) -> str:
    if link.kind == RESUBMITTED:
        return f"resubmitted as {link.event_id}"
    return f"dismissed by {link.actor}: {link.reason}"


def _checked_text(name: str, value: str, chars_max: int) -> None:
    if not value.strip():
        raise InvalidRequest(f"{name}: must not be blank")
    if len(value) > chars_max:
        raise InvalidRequest(f"{name}: at most {chars_max} characters, got {len(value)}")


@dataclass(frozen=True, slots=True)
class QuarantineVerification:
    rows: int  # quarantine rows whose hash recomputed
    links: int
    broken: RecordBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None

    def as_json(self) -> dict[str, Any]:
        broken = self.broken
        return {
            "intact": self.intact, "rows": self.rows, "links": self.links,
            "first_bad": None if broken is None else {"table": broken.table, "id": broken.id},
            "reason": None if broken is None else str(broken),
        }


def verify_quarantine(store: Store) -> QuarantineVerification:
    """Both chains recomputed from every stored row, then every link checked to name a row
    that is there (so that removing a settled line is seen even at the end of the rows, where
    the chain alone cannot see it): the first problem of the rows, else of the links."""
    sql = Sql(store)
    rows, links = RecordChainCheck(QUARANTINE), RecordChainCheck(LINKS)
    ids: set[int] = set()  # one int per quarantined line: bounded by the quarantine itself

    def kept(records: Iterator[ChainedRecord]) -> Iterator[ChainedRecord]:
        for r in records:
            ids.add(r.id)
            yield r

    broken = rows.feed(kept(quarantine_log.iter_table(sql.rows, QUARANTINE)))
    if broken is None:
        broken = links.feed(quarantine_log.iter_table(sql.rows, LINKS))
    if broken is None:
        broken = _dangling(sql, ids)
    return QuarantineVerification(rows.checked, links.checked, broken)


def _dangling(sql: Sql, ids: set[int]) -> RecordBreak | None:
    """A link naming a row that is not there, then a dismissal whose link and ledger event
    disagree or lack each other (a link deleted at the end of its chain, an event's link
    rewritten): the ledger's signed digests vouch for each dismissal through its event."""
    on_ledger = {str(r[0]): r[1] for r in sql.rows(SELECT_DISMISSALS, (DISMISSED_TOPIC,))}
    for link in quarantine_log.iter_table(sql.rows, LINKS):
        assert isinstance(link, QuarantineLink)
        for named in (link.quarantine_id, link.related_id):
            if named is not None and named not in ids:
                return RecordBreak(LINKS, link.id, f"names quarantine row {named}, which is not there (deleted)")
        if link.kind == DISMISSED and link.event_id is not None:  # None: dismissed before they were events
            state = on_ledger.pop(link.event_id, None)
            if state is None:
                return RecordBreak(LINKS, link.id, f"names ledger event {link.event_id}, which is not on the ledger")
            event = decode_dismissal(sql.blob(state))
            if (event["quarantine_id"], event["actor"], event["reason"]) != (link.quarantine_id, link.actor, link.reason):
                return RecordBreak(LINKS, link.id, "differs from its dismissal event on the ledger (edited)")
    if on_ledger:
        event = decode_dismissal(sql.blob(min(on_ledger.values())))
        return RecordBreak(QUARANTINE, event["quarantine_id"],
                           "dismissed by an event on the ledger whose dismissed link is not there (deleted)")
    return None


def quarantine_is_empty(store: Store) -> bool:
    return not Sql(store).rows("SELECT id FROM quarantine UNION ALL SELECT id FROM quarantine_links LIMIT 1")


def import_quarantine(store: Store, records: Sequence[QuarantineRecord], links: Sequence[QuarantineLink]) -> None:
    """Load an exported quarantine into this store's empty one, ids and hashes kept, after both
    chains recompute from the exported rows themselves (else nothing is written)."""
    for table, rows in ((QUARANTINE, records), (LINKS, links)):
        broken = RecordChainCheck(table).feed(rows)
        if broken is not None:
            raise StoreCorrupted(f"the export's {broken}; no quarantine row was imported")
    with Sql(store).writing() as c:
        if quarantine_log.page_records(c, 1, 0) or quarantine_log.links_between(c, 0, 2**62):
            raise InvalidRequest("import needs an empty store: this one already holds quarantined lines")
        quarantine_log.insert_verbatim(c, records, links)
