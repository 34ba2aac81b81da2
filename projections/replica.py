"""Read replicas: a PostgreSQL hot standby answers the reads, the primary takes every write.

``route_writes`` joins a store opened on the standby to one opened on the primary: read
transactions run on the standby, write transactions (a read model catching up lazily, a
migration) on the primary, so a read command works whatever the standby has replayed. The
standby's position in the primary's write-ahead log is what ``lag`` reports and what
``wait_for_replay`` waits for (read-your-writes after a write just made on the primary).
All times here are the servers' own (``now()``), never this process's clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import Any

from domain.errors import InvalidRequest
from projections.store.base import Store

REPLAY_POLL_S = 0.005  # between two looks at the standby's replay position while waiting
REPLAY_WAIT_MAX_S = 30.0  # no caller waits longer than this, whatever it asks


def lsn_bytes(lsn: str) -> int:
    """``16/B374D848`` as a byte offset in the write-ahead log."""
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def _datastore(store: Store) -> Any:
    if store.kind != "postgresql":
        raise InvalidRequest("a read replica is a PostgreSQL hot standby: --read-db and --db must both be postgresql://")
    return store.datastore  # type: ignore[attr-defined]  # PostgreSQL stores hold eventsourcing's datastore


def _one(store: Store, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any]:
    with _datastore(store).transaction(commit=False) as curs:
        curs.execute(sql, params)
        row: dict[str, Any] = curs.fetchone()
        return row


def route_writes(replica: Store, primary: Store) -> Store:
    """``replica`` with its write transactions sent to ``primary``; closing it closes both."""
    replica_data, primary_data = _datastore(replica), _datastore(primary)
    read_transaction = replica_data.transaction

    def transaction(*, commit: bool = False) -> AbstractContextManager[Any]:
        return primary_data.transaction(commit=True) if commit else read_transaction(commit=False)

    close_replica = replica.close

    def close() -> None:
        try:
            close_replica()
        finally:
            primary.close()

    # Assigned on the instances (every recorder of the replica holds this same datastore), so
    # that the store layer needs no notion of replicas at all.
    replica_data.transaction = transaction
    replica.close = close  # type: ignore[method-assign]  # the routed store owns both stores
    replica.primary = primary  # type: ignore[attr-defined]  # read by primary_of
    return replica


def primary_of(store: Store) -> Store:
    """The store that takes the writes: the primary of a routed replica, else itself."""
    primary: Store = getattr(store, "primary", store)
    return primary


def is_routed(store: Store) -> bool:
    return primary_of(store) is not store


def current_lsn(primary: Store) -> str:
    """The primary's log position now: a write committed before this call lies at or below it.
    The insert position, not ``pg_current_wal_lsn()`` (the written one): with asynchronous
    commit a transaction can have committed before its log records were written."""
    return str(_one(primary, "SELECT pg_current_wal_insert_lsn()::text AS lsn")["lsn"])


def replayed(replica: Store, lsn: str) -> bool:
    row = _one(replica, "SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, true) AS done", (lsn,))
    return bool(row["done"])


def wait_for_replay(replica: Store, lsn: str, timeout_s: float, sleep: Callable[[float], None] = time.sleep,
                    monotonic: Callable[[], float] = time.monotonic) -> bool:
    """True once the standby has replayed the primary's log up to ``lsn``; False after
    ``timeout_s`` (bounded by REPLAY_WAIT_MAX_S), when the caller should read the primary."""
    deadline = monotonic() + min(timeout_s, REPLAY_WAIT_MAX_S)
    while not replayed(replica, lsn):
        if monotonic() >= deadline:
            return False
        sleep(REPLAY_POLL_S)
    return True


@dataclass(frozen=True, slots=True)
class Lag:
    """How far a standby is behind its primary, in log bytes, seconds and ledger positions."""

    in_recovery: bool
    primary_lsn: str
    replay_lsn: str | None
    lag_bytes: int
    replay_delay_s: float  # 0 once replayed up to the primary; else the standby's now() less the
    # commit time of the last transaction it replayed
    primary_position: int
    replica_position: int

    @property
    def lag_positions(self) -> int:
        return max(0, self.primary_position - self.replica_position)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "lag_positions": self.lag_positions}


def lag(replica: Store, primary: Store) -> Lag:
    primary_lsn = current_lsn(primary)
    row = _one(
        replica,
        "SELECT pg_is_in_recovery() AS in_recovery, pg_last_wal_replay_lsn()::text AS replay_lsn,"
        " coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8 AS delay_s",
    )
    replay_lsn = row["replay_lsn"]
    behind = 0 if replay_lsn is None else max(0, lsn_bytes(primary_lsn) - lsn_bytes(replay_lsn))
    return Lag(
        in_recovery=bool(row["in_recovery"]), primary_lsn=primary_lsn, replay_lsn=replay_lsn,
        lag_bytes=behind, replay_delay_s=round(float(row["delay_s"]), 3) if behind else 0.0,
        primary_position=primary.tip().position, replica_position=replica.tip().position,
    )

