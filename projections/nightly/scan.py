"""One pass over the ledger for the facts a report needs besides the findings: which
positions occurred by the cut-off, what happened during the day, and the insurance fund.

Only ``occurred_at`` and the type are read from most rows (a pattern on the stored bytes,
never a full decode); the few event types whose content the report shows are decoded."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.book.money import exact
from domain.events import InsuranceFundChanged, LossAllocated, parse_line
from domain.ledger import is_catalogue_topic
from domain.ledger_storage import StoredEntry
from projections.nightly.window import Window
from projections.store.base import Store

SCAN_ENTRIES_PER_PAGE_MAX = 5_000
_OCCURRED_AT = re.compile(rb'"occurred_at"\s*:\s*"([^"\\]{1,64})"')
DECODED_TYPES = ("InsuranceFundChanged", "LossAllocated")


def occurred_at(entry: StoredEntry) -> datetime:
    found = _OCCURRED_AT.findall(entry.state)
    if len(found) == 1:
        try:
            return datetime.fromisoformat(found[0].decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            pass
    return parse_line(entry.state, stored=True)[0].occurred_at  # the exact reading, for anything unusual


@dataclass(frozen=True, slots=True)
class FundMove:
    position: int
    event_id: str
    occurred_at: datetime
    kind: str  # "change" or "loss"
    amount: Decimal
    detail: str  # the reason, or the contract and method of a loss


@dataclass(slots=True)
class LedgerScan:
    tip: int = 0
    covered: int = 0  # the last position that occurred at or before the cut-off
    prefix: int = 0  # every position up to this one occurred at or before the cut-off
    events: int = 0  # catalogue events at or before the cut-off
    day_events: Counter[str] = field(default_factory=Counter)
    fund_before_day: Decimal = Decimal(0)
    fund_at_cutoff: Decimal = Decimal(0)
    fund_moves: list[FundMove] = field(default_factory=list)  # of the day


def scan(store: Store, window: Window) -> LedgerScan:
    found = LedgerScan()
    in_prefix = True
    after = 0
    while True:
        entries = store.read_entries(after, SCAN_ENTRIES_PER_PAGE_MAX)
        if not entries:
            return found
        after = found.tip = entries[-1].position
        for entry in entries:
            if not is_catalogue_topic(entry.type):  # an officer's case action: no business time
                if in_prefix:
                    found.prefix = entry.position
                continue
            moment = occurred_at(entry)
            if moment > window.cutoff:
                in_prefix = False
                continue
            found.events += 1
            found.covered = entry.position
            if in_prefix:
                found.prefix = entry.position
            if window.contains(moment):
                found.day_events[entry.type] += 1
            if entry.type in DECODED_TYPES:
                _fund(found, entry, window)


def _fund(found: LedgerScan, entry: StoredEntry, window: Window) -> None:
    envelope = parse_line(entry.state, stored=True)[0]
    data = envelope.data
    of_day = window.contains(envelope.occurred_at)
    if isinstance(data, InsuranceFundChanged):
        with exact():  # the default context would round a sum of 40-digit deltas silently
            found.fund_at_cutoff += data.delta
            if not of_day:
                found.fund_before_day += data.delta
        move = FundMove(entry.position, envelope.event_id, envelope.occurred_at, "change", data.delta, data.reason)
    else:
        assert isinstance(data, LossAllocated)
        move = FundMove(entry.position, envelope.event_id, envelope.occurred_at, "loss", data.amount,
                        f"{data.contract_id} by {data.method.replace('_', ' ')}")
    if of_day:
        found.fund_moves.append(move)
