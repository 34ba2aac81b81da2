"""The ingest pipeline the CLI and the API share: validated, batched appends, and every
tracked projection brought up to date batch by batch."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from domain.ledger import IngestSummary, InputLine
from ops.wiring import build_audit_index, build_ledger, build_monitor
from projections.queue import catch_up_owners
from projections.store.base import Store


class IngestPipeline:
    """One per process and store. Calls are serialised: the ledger's registry cache and the
    monitor's in-memory engine belong to one writer at a time."""

    def __init__(self, store: Store, projections: bool = True):
        """``projections=False``: append only, and leave the monitor and the audit index to a
        ``regledger monitor --follow`` running beside (on another core)."""
        self.store = store
        self.ledger = build_ledger(store)
        self.monitor = build_monitor(store) if projections else None
        # Other tracked projections, brought up to a position after the monitor.
        audit_index = build_audit_index(store)
        # The owners index files findings the audit index has reached, so it comes after it.
        self.catch_ups: list[Callable[[int | None], object]] = [
            lambda until: audit_index.catch_up(until=until),
            lambda until: catch_up_owners(store),
        ] if projections else []
        self._lock = threading.Lock()

    def ingest(
        self,
        lines: Iterator[InputLine],
        batch_size: int,
        on_batch: Callable[[IngestSummary], None] | None = None,
    ) -> IngestSummary:
        def after_batch(batch: IngestSummary) -> None:
            if on_batch is not None:
                on_batch(batch)
            # The monitor takes the batch's events as ingest decoded them.
            if self.monitor is not None:
                self.monitor.catch_up(until=batch.last_position, recorded=batch.recorded)
            for catch_up in self.catch_ups:
                catch_up(batch.last_position)

        with self._lock:
            summary = self.ledger.ingest(lines, batch_size, after_batch)
            if self.monitor is not None:
                self.monitor.catch_up()
            for catch_up in self.catch_ups:
                catch_up(None)
            return summary
