"""The clusters of the replication tests (``tests/supervise/clusters.py``): started once per
module, stopped and removed at its end, also when a test failed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from tests.supervise import clusters
from tests.supervise.clusters import Cluster

PRIMARY_SETTINGS = ("wal_level=logical", "max_wal_senders=20", "max_replication_slots=20", "wal_sender_timeout=5s")

REGULATOR_SETTINGS = ("max_logical_replication_workers=24", "max_worker_processes=40", "max_replication_slots=20",
                      "wal_receiver_timeout=5s", "wal_receiver_status_interval=1s", "wal_retrieve_retry_interval=500ms")


def _bindir() -> clusters.Path:
    found = clusters.bindir()
    if found is None:
        pytest.skip("the PostgreSQL 15 server programs (initdb, pg_basebackup) are not installed")
    return found


@pytest.fixture(scope="module")
def firm_primary() -> Iterator[Cluster]:
    cluster = clusters.primary("firm", _bindir(), *PRIMARY_SETTINGS)
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def firm_standby(firm_primary: Cluster) -> Iterator[Cluster]:
    cluster = clusters.standby("standby", firm_primary, *PRIMARY_SETTINGS)
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def regulator() -> Iterator[Cluster]:
    cluster = clusters.primary("regulator", _bindir(), *REGULATOR_SETTINGS)
    try:
        yield cluster
    finally:
        cluster.remove()


def new_database(cluster: Cluster, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    return cluster.url(name)
