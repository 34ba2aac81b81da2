"""The composition root: URLs become stores, stores become the ledger and the monitor."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.cases import CasePolicy, Cases
from domain.ledger import Ledger
from ops.settings import load_settings
from policies.registry import parameter_catalogue
from projections.audit import AuditIndex
from projections.cases import case_recorder
from projections.monitor.runner import MonitorRunner
from projections.store import open_store as open_store_at
from projections.store.base import Store
from projections.tokens import TokenStore

__all__ = ["build_audit_index", "build_cases", "build_ledger", "build_monitor", "open_store", "wall_clock"]


def wall_clock() -> datetime:
    return datetime.now(UTC)


def open_store(url: str, *, create: bool = False) -> Store:
    """A store stamping what comes without a time of its own with the wall clock."""
    return open_store_at(url, create=create, clock=wall_clock)


def build_ledger(store: Store) -> Ledger:
    return Ledger(store, store.recorder, parameter_catalogue())


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
    return Cases(case_recorder(store), policy=policy, actor_source=actor_source)
