"""The one place that calls eventsourcing's private methods, checked against eventsourcing 9.5.x
(9.5.6 installed; ``tests/store/test_eventsourcing_compat.py`` fails when a name below is gone).

The stores write the ledger, findings and tracking in one transaction of their own, so they need
the library's steps inside its transactions, which it keeps private:

- ``TrackingRecorder._insert_tracking(cursor, tracking)`` and ``_max_tracking_id(application,
  cursor)`` (SQLite and PostgreSQL): a projection's position, written and read in the caller's
  transaction.
- ``PostgresApplicationRecorder._lock_table(cursor)``: ``LOCK TABLE ... IN EXCLUSIVE MODE`` on
  the events table, so positions commit in order and the hash chain cannot fork.
- ``PostgresApplicationRecorder._notify_channel(cursor)``: the ``NOTIFY`` a subscriber listens
  for, sent with the rows.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

CHECKED_VERSIONS = "9.5"
# (class, method) for every call below: the compatibility test checks each exists.
PRIVATE_CALLS: tuple[tuple[type, str], ...] = (
    (SQLiteTrackingRecorder, "_insert_tracking"),
    (SQLiteTrackingRecorder, "_max_tracking_id"),
    (PostgresTrackingRecorder, "_insert_tracking"),
    (PostgresTrackingRecorder, "_max_tracking_id"),
    (PostgresApplicationRecorder, "_lock_table"),
    (PostgresApplicationRecorder, "_notify_channel"),
)

TrackingRecorder = SQLiteTrackingRecorder | PostgresTrackingRecorder


def insert_tracking(recorder: TrackingRecorder, cursor: Any, application: str, position: int) -> None:
    """Record ``application`` at ``position`` in the transaction of the driver's ``cursor``."""
    recorder._insert_tracking(cursor, Tracking(application, position))


def max_tracking_id(recorder: TrackingRecorder, cursor: Any, application: str) -> int:
    """``application``'s position as the transaction of ``cursor`` sees it (0 before any)."""
    return recorder._max_tracking_id(application, cursor) or 0


def lock_events_table(recorder: PostgresApplicationRecorder, cursor: Any) -> None:
    recorder._lock_table(cursor)


def notify_subscribers(recorder: PostgresApplicationRecorder, cursor: Any) -> None:
    recorder._notify_channel(cursor)
