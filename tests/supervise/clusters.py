"""Throw-away PostgreSQL 15 clusters on loopback for the replication tests.

Each cluster lives in a temporary directory owned by ``postgres`` (we may run as root: the
server refuses to), listens on a free port of 127.0.0.1 only, and is stopped and removed by
``stop()`` whatever happened. The shared server on 5432 is never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60
FALLBACK_BINDIR = "/usr/lib/postgresql/15/bin"


def bindir() -> Path | None:
    try:
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        found = ""
    for candidate in (found, FALLBACK_BINDIR):
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_basebackup").exists():
            return Path(candidate)
    return None


def as_postgres(args: list[str]) -> list[str]:
    """Run as the postgres user when we are root (the server will not run as root)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    name: str
    root: Path
    port: int
    bin: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def run(self, program: str, *args: str) -> None:
        subprocess.run(as_postgres([str(self.bin / program), *args]), check=True, capture_output=True,
                       timeout=START_TIMEOUT_S)

    def start(self, *settings: str) -> None:
        options = " ".join(f"-c {s}" for s in (
            f"port={self.port}", "listen_addresses=127.0.0.1", f"unix_socket_directories={self.root}",
            "fsync=off", "synchronous_commit=off", "full_page_writes=off", "shared_buffers=32MB",
            "max_connections=40", *settings))
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w",
                 "-t", str(START_TIMEOUT_S), "start")

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
                       capture_output=True, timeout=START_TIMEOUT_S, check=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join((self.root / "log").read_text().splitlines()[-lines:])
        except OSError:
            return ""


def new_root(name: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix=f"regledger-{name}-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    return root


def primary(name: str, bin: Path, *settings: str) -> Cluster:
    cluster = Cluster(name, new_root(name), free_port(), bin)
    try:
        cluster.run("initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--no-sync", "--locale=C")
        cluster.start(*settings)
    except BaseException:
        cluster.remove()
        raise
    return cluster


def standby(name: str, of: Cluster, *settings: str) -> Cluster:
    """A hot standby streaming from ``of`` (pg_basebackup -R writes its primary_conninfo);
    ``settings`` are the primary's: a standby needs limits at least as high."""
    cluster = Cluster(name, new_root(name), free_port(), of.bin)
    try:
        cluster.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(of.port), "-U", "postgres", "-D",
                    str(cluster.data), "-R", "-X", "stream", "--no-sync")
        cluster.start(*settings, "hot_standby=on")
    except BaseException:
        cluster.remove()
        raise
    return cluster
