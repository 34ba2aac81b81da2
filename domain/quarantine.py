"""The quarantine as a record: what upstream sent and why it was refused, and what became of it.

Two append-only, hash-chained tables. A quarantine row is one rejected line; a link row says
what happened to a row later (``resubmitted`` as an event, ``dismissed`` with a reason, or any
later kind) and is never an edit of it. A row's status is derived from its links: the first
settling link (resubmitted or dismissed) decides it, anything else leaves it open.

Each row carries ``hash = SHA-256(encoding)`` over

    the table's tag (b"regledger-quarantine-v1\\n" or b"regledger-quarantine-link-v1\\n")
    + decimal id + b"\\n" + decimal previous_id + b"\\n"
    + lower-case hex of the previous row's hash + b"\\n"
    + the row's time as UTC "YYYY-MM-DDTHH:MM:SS.ffffffZ" + b"\\n"
    + each field of the table in order, framed: NULL as b"-\\n", an integer in decimal + b"\\n",
      text or bytes as its byte length, b":", the bytes, b"\\n"

``previous_id`` is the id of the row it was chained after (0 for the first; 32 zero bytes as
its hash). Ids of new rows run without gaps; rows chained by the upgrade of an older store keep
the ids they had, gaps included, which ``previous_id`` makes checkable. ``ops/VERIFYING.md``
restates this for regulators.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.chain import GENESIS_HASH, format_recorded_at
from domain.errors import InvalidRequest

QUARANTINE_TAG = b"regledger-quarantine-v1\n"
LINK_TAG = b"regledger-quarantine-link-v1\n"
RESUBMITTED, DISMISSED = "resubmitted", "dismissed"
SETTLING_KINDS = (RESUBMITTED, DISMISSED)
QUARANTINE_STATUSES = ("open", *SETTLING_KINDS)
# Links that leave the status as it is: the same line received again (``reason`` holds where,
# as JSON ``{"origin", "line"}``), and a line refused for naming an entity whose own creating
# line was refused earlier (``related_id`` is that earlier row, ``reason`` the refusal).
SEEN_AGAIN, CAUSED_BY = "seen_again", "caused_by"
INGEST_ACTOR = "ingest"  # the actor of the links ingestion writes itself
ENTRY_PREFIX = "Q-"
ENTRY_DIGITS = 6

Field = str | int | bytes | None


def _framed(value: Field) -> bytes:
    if value is None:
        return b"-\n"
    if isinstance(value, int):
        return b"%d\n" % value
    data = value.encode("utf-8") if isinstance(value, str) else value
    return b"%d:%s\n" % (len(data), data)


def record_hash(tag: bytes, record_id: int, previous_id: int, previous: bytes, at: datetime,
                fields: Sequence[Field]) -> bytes:
    assert record_id > previous_id >= 0 and len(previous) == 32
    digest = hashlib.sha256(tag)
    digest.update(b"%d\n%d\n%s\n" % (record_id, previous_id, previous.hex().encode("ascii")))
    digest.update(format_recorded_at(at).encode("ascii") + b"\n")
    for value in fields:
        digest.update(_framed(value))
    return digest.digest()


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """One rejected line as stored."""

    id: int
    previous_id: int
    received_at: datetime
    origin: str
    line_no: int | None
    event_id: str | None
    reasons: str  # JSON array of {"field", "reason"}, exactly as stored
    raw: bytes
    chain_hash: bytes

    tag = QUARANTINE_TAG

    @property
    def at(self) -> datetime:
        return self.received_at

    def fields(self) -> tuple[Field, ...]:
        return (self.origin, self.line_no, self.event_id, self.reasons, self.raw)


@dataclass(frozen=True, slots=True)
class QuarantineLink:
    """What became of a quarantined line: a new row, never an edit of the old one."""

    id: int
    previous_id: int
    quarantine_id: int
    kind: str
    event_id: str | None  # resubmitted: the event the corrected line became
    related_id: int | None  # another quarantine row this one is linked with (issue 18)
    actor: str
    reason: str | None
    recorded_at: datetime
    chain_hash: bytes

    tag = LINK_TAG

    @property
    def at(self) -> datetime:
        return self.recorded_at

    def fields(self) -> tuple[Field, ...]:
        return (self.quarantine_id, self.kind, self.event_id, self.related_id, self.actor, self.reason)

    def as_json(self) -> dict[str, object]:
        return {
            "link_id": self.id, "kind": self.kind, "event_id": self.event_id,
            "related_id": self.related_id, "actor": self.actor, "reason": self.reason,
            "recorded_at": self.recorded_at.isoformat(),
        }


ChainedRecord = QuarantineRecord | QuarantineLink


def expected_hash(record: ChainedRecord, previous_id: int, previous: bytes) -> bytes:
    return record_hash(record.tag, record.id, previous_id, previous, record.at, record.fields())


def entry_label(quarantine_id: int) -> str:
    """How a quarantine entry is named wherever it is shown: ``Q-000017``, never a bare number
    that reads like a line of the file it came from."""
    return f"{ENTRY_PREFIX}{quarantine_id:0{ENTRY_DIGITS}d}"


def parse_entry(text: str) -> int:
    """An entry named as shown (``Q-000017``, any case, any number of digits) or by its bare
    number (``17``)."""
    digits = text.strip()
    if digits[: len(ENTRY_PREFIX)].upper() == ENTRY_PREFIX:
        digits = digits[len(ENTRY_PREFIX):]
    if not digits.isascii() or not digits.isdigit() or int(digits) < 1 or len(digits) > 18:
        raise InvalidRequest(f"quarantine entry: expected an id like {entry_label(17)} or 17, got {text!r}")
    return int(digits)


def sightings_of(record: QuarantineRecord, links: Iterable[QuarantineLink]) -> list[dict[str, object]]:
    """Every time the line was received: first as the row itself, then one per ``seen_again``."""
    seen: list[dict[str, object]] = [
        {"origin": record.origin, "line": record.line_no, "received_at": record.received_at.isoformat()},
    ]
    for link in sorted(links, key=lambda k: k.id):
        if link.kind == SEEN_AGAIN:
            where = json.loads(link.reason or "{}")
            seen.append({"origin": where.get("origin"), "line": where.get("line"),
                         "received_at": link.recorded_at.isoformat()})
    return seen


def status_of(links: Iterable[QuarantineLink]) -> tuple[str, QuarantineLink | None]:
    """``open``, or the kind of the first settling link, with that link."""
    for link in sorted(links, key=lambda k: k.id):
        if link.kind in SETTLING_KINDS:
            return link.kind, link
    return "open", None


@dataclass(frozen=True, slots=True)
class RecordBreak:
    table: str  # "quarantine" or "quarantine_links"
    id: int
    reason: str

    def __str__(self) -> str:
        what = "quarantine row" if self.table == "quarantine" else "quarantine link"
        return f"{what} {self.id}: {self.reason}"


class RecordChainCheck:
    """Feed one table's rows in id order (repeats kept); ``broken`` is the first problem."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.last_id, self.last_hash = 0, GENESIS_HASH
        self._before_id = 0
        self.checked = 0
        self.broken: RecordBreak | None = None

    def feed(self, records: Iterable[ChainedRecord]) -> RecordBreak | None:
        for record in records:
            if self.broken is None:
                self.broken = self._check(record)
            if self.broken is not None:
                break
        return self.broken

    def _break(self, record_id: int, reason: str) -> RecordBreak:
        return RecordBreak(self.table, record_id, reason)

    def _check(self, r: ChainedRecord) -> RecordBreak | None:
        if r.id <= self.last_id:
            return self._break(
                r.id, f"id {r.id} is not above the id before it ({self.last_id}): repeated or inserted",
            )
        if r.previous_id > self.last_id:
            return self._break(
                r.previous_id,
                f"missing: row {r.id} was chained after it, and it is not there (it was deleted,"
                f" or row {r.id} was edited)",
            )
        if r.previous_id < self.last_id:
            if r.previous_id == self._before_id:
                return self._break(
                    self.last_id,
                    f"inserted out of order: row {r.id} was chained right after row {r.previous_id}",
                )
            return self._break(
                r.id,
                f"chained after row {r.previous_id} but stored after row {self.last_id}:"
                " rows were inserted before it, or it was edited",
            )
        if expected_hash(r, r.previous_id, self.last_hash) != r.chain_hash:
            return self._break(
                r.id,
                "the stored chain hash does not match the one recomputed from the row's fields"
                " and the previous hash: the row was edited, or replaced",
            )
        self._before_id = self.last_id
        self.last_id, self.last_hash = r.id, r.chain_hash
        self.checked += 1
        return None
