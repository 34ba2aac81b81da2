"""The composition root: URLs become stores, stores become the ledger and the monitor."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.cases import CasePolicy, Cases
from domain.errors import InvalidRequest, StoreUnavailable
from domain.ledger import Ledger
from ops.settings import load_settings
from policies.registry import parameter_catalogue
from projections.audit import AuditIndex
from projections.cases import case_recorder
from projections.monitor.runner import MonitorRunner
from projections.replica import REPLAY_WAIT_MAX_S, current_lsn, route_writes, wait_for_replay
from projections.store import POSTGRES_PREFIXES
from projections.store import open_store as open_store_at
from projections.store.base import Store
from projections.store.postgres import PostgresStore
from projections.tokens import TokenStore

__all__ = ["build_audit_index", "build_cases", "build_ledger", "build_monitor", "open_read_store", "open_store", "wall_clock"]


def open_read_store(url: str, read_url: str | None) -> Store:
    """The store a read command reads: the hot standby at ``read_url`` when there is one (its
    writes, such as a read model catching up, go to the primary at ``url``), else ``url``."""
    if not read_url:
        return open_store(url)
    if not read_url.startswith(POSTGRES_PREFIXES):
        raise InvalidRequest(f"--read-db {read_url!r}: a read replica is a PostgreSQL hot standby (postgresql://...)")
    primary = open_store(url)
    try:
        # Opened as it is: a standby cannot migrate, it replays what its primary did.
        routed = route_writes(PostgresStore(read_url, clock=wall_clock), primary)
    except BaseException:
        primary.close()
        raise
    if not routed.is_migrated() and not (
        wait_for_replay(routed, current_lsn(primary), REPLAY_WAIT_MAX_S) and routed.is_migrated()
    ):
        routed.close()
        raise StoreUnavailable(f"the read replica {read_url!r} does not hold this version's schema: is it a standby of --db?")
    return routed


def wall_clock() -> datetime:
    """The wall clock, read here and injected: ``domain``, ``policies`` and ``projections``
    never read it."""
    return datetime.now(UTC)


def open_store(url: str, *, create: bool = False) -> Store:
    """A store stamping what comes without a time of its own with the wall clock."""
    return open_store_at(url, create=create, clock=wall_clock)


def build_ledger(store: Store) -> Ledger:
    return Ledger(store, parameter_catalogue(), clock=wall_clock)


def build_monitor(store: Store) -> MonitorRunner:
    return MonitorRunner(store)


def build_audit_index(store: Store) -> AuditIndex:
    return AuditIndex(store)


def known_officers(store: Store) -> frozenset[str]:
    """The names of active officer tokens, plus the configured list (REGLEDGER_OFFICERS)."""
    tokens = TokenStore(store).list()
    active = {str(t["name"]) for t in tokens if t["role"] == "officer" and t["revoked_at"] is None}
    return frozenset(active) | load_settings().names("officers")


def build_cases(store: Store, actor_source: str | None = None) -> Cases:
    """``actor_source``: where the actor names given to the cases come from (recorded)."""
    policy = CasePolicy(load_settings().names("four_eyes_severities"), known_officers(store))
    return Cases(case_recorder(store), clock=wall_clock, policy=policy, actor_source=actor_source)
