"""The ingest pipeline the CLI and the API share: the ledger admits the input batch by batch,
and the pipeline hands each admitted batch on to every tracked projection.

A fact's way from ``regledger ingest`` to a finding (a trade, ``PerpTradeExecuted``, and a
price tick, ``PriceObserved``, alike), one direction, five stations::

    ops.cli -> ops.pipeline -> domain.ledger -> projections.store   (parse, admit, write: a batch)
               ops.pipeline -> projections.monitor.runner -> projections.store  (its findings)

The ledger yields each batch once it is written and knows nothing of what follows. Before
issue 19 the monitor ran inside a callback the ledger made: ``ops.cli -> ops.pipeline ->
domain.ledger -> ops.pipeline -> projections.monitor.runner -> projections.store``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from domain.ledger import AdmittedBatch, IngestSummary, InputLine
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
        # Brought up to a position after the monitor; the owners index (``catch_up_owners``)
        # files findings the audit index has reached, so it comes after it.
        self.audit_index = build_audit_index(store) if projections else None
        self._lock = threading.Lock()

    def ingest(
        self,
        lines: Iterable[InputLine],
        batch_size: int,
        on_batch: Callable[[IngestSummary], None] | None = None,
    ) -> IngestSummary:
        """Admit ``lines`` and bring the projections up to date after each batch, then up to
        the tip (another writer may have appended). ``on_batch`` sees each batch's summary
        first (the CLI reports its rejections as they come)."""
        total = IngestSummary()
        with self._lock:
            for batch in self.ledger.admit(lines, batch_size):
                total.add(batch.summary)
                if on_batch is not None:
                    on_batch(batch.summary)
                self._project(batch)
                del batch  # its events, not kept while the next batch is admitted (peak memory)
            self._project(None)
        return total

    def _project(self, batch: AdmittedBatch | None) -> None:
        """Every projection up to ``batch`` (None: the tip). The monitor and the audit index
        take the batch's events as the ledger recorded them, without reading them back."""
        until = None if batch is None else batch.last_position
        recorded = () if batch is None else batch.recorded
        if self.monitor is not None:
            self.monitor.catch_up(until=until, recorded=recorded)
        if self.audit_index is not None:
            self.audit_index.catch_up(until=until, recorded=recorded)
            catch_up_owners(self.store)
