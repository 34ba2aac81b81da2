"""The ledger: validated, idempotent, batched appends of upstream facts.

Every accepted envelope is one stored event whose ``originator_id`` is its ``event_id``
(version 1), whose topic is its type and whose state is the line exactly as sent. The store's
primary key on ``(originator_id, originator_version)`` is therefore a unique key on
``event_id``: idempotency is enforced by the database, not only in memory.

``Ledger.admit`` (``application``) yields the input's admitted batches, each written when it
is yielded. A batch goes through three steps, each one module:

1. ``parse``: outside the lock, every line becomes an envelope or a rejection;
2. ``admission``: inside one write transaction holding the ledger's exclusive lock,
   duplicates and conflicts are decided against what is stored, and each new event is
   checked by the registry (the aggregates validation needs), first brought up to date with
   what other writers appended (``registry_sync``);
3. ``writing``: accepted events, changed records and quarantined lines are appended in that
   same transaction, so they commit together.

``values`` holds the value types and bounds, ``stored`` reads the stored log, ``importing``
fills a store from an exported log and rebuilds the registry. What happens to an admitted
batch next (the monitor, the audit index) is the caller's: ``ops.pipeline`` takes each one on.
"""

from domain.ledger.admission import conflict
from domain.ledger.application import Ledger
from domain.ledger.parse import batches, reasons_json
from domain.ledger.stored import decode_admitted, decode_entry, is_catalogue_topic
from domain.ledger.values import (
    EVENTS_PER_BATCH_MAX,
    REGISTRY_RECORDS_MAX,
    AdmittedBatch,
    Clock,
    IngestSummary,
    InputLine,
    Rejection,
)

__all__ = [
    "EVENTS_PER_BATCH_MAX",
    "REGISTRY_RECORDS_MAX",
    "AdmittedBatch",
    "Clock",
    "IngestSummary",
    "InputLine",
    "Ledger",
    "Rejection",
    "batches",
    "conflict",
    "decode_admitted",
    "decode_entry",
    "is_catalogue_topic",
    "reasons_json",
]
