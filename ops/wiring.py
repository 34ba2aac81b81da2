"""The composition root: URLs become stores, stores become the ledger and the monitor."""

from __future__ import annotations

from domain.cases import Cases
from domain.ledger import Ledger
from policies.registry import parameter_catalogue
from projections.audit import AuditIndex
from projections.cases import case_recorder
from projections.monitor.runner import MonitorRunner
from projections.store import open_store
from projections.store.base import Store

__all__ = ["build_audit_index", "build_cases", "build_ledger", "build_monitor", "open_store"]

def build_ledger(store: Store) -> Ledger:
    return Ledger(store, store.recorder, parameter_catalogue())


def build_monitor(store: Store) -> MonitorRunner:
    return MonitorRunner(store)


def build_audit_index(store: Store) -> AuditIndex:
    return AuditIndex(store)


def build_cases(store: Store) -> Cases:
    return Cases(case_recorder(store))
