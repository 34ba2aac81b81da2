"""Events posted over HTTP in batches of 1,000 beside the file ingest of the same stream, in
the same run, on both stores. Goal: HTTP at least 80 % of the file rate.

Both paths run the whole pipeline (validate, append, monitor, audit index); the HTTP figure
adds request parsing, JSON Lines splitting and uvicorn on loopback. The client is a thread of
this process, so it shares the two cores with the server, as an upstream system would not."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import httpx
import uvicorn

from ops.api.app import create_app
from ops.bench.stores import STORES, write_lines
from ops.bench.stream import simulated_stream
from ops.lines import open_inputs
from ops.pipeline import IngestPipeline
from ops.wiring import open_store
from projections.tokens import TokenStore

BATCH_EVENTS = 1_000
STARTUP_TIMEOUT_S = 30
Report = Callable[[str], None]


def file_rate(url: str, path: Path) -> float:
    store = open_store(url, create=True)
    try:
        started = time.perf_counter()
        summary = IngestPipeline(store).ingest(open_inputs([str(path)]), BATCH_EVENTS)
        elapsed = time.perf_counter() - started
    finally:
        store.close()
    assert summary.rejected == 0
    return summary.accepted / elapsed


def batches(path: Path) -> Iterator[bytes]:
    with path.open("rb") as lines:
        while chunk := list(islice(lines, BATCH_EVENTS)):
            yield b"".join(chunk)


def http_rate(url: str, path: Path) -> float:
    store = open_store(url, create=True)
    token = TokenStore(store).create("bench", "ingest", datetime.now(UTC))
    store.close()
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=0, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    accepted = 0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300,
                          headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}) as client:
            started = time.perf_counter()
            for body in batches(path):
                response = client.post("/v1/events", content=body)
                assert response.status_code == 200, response.text[:300]
                accepted += response.json()["accepted"]
            elapsed = time.perf_counter() - started
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
    return accepted / elapsed


def section(size: int, report: Report) -> str:
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "stream.jsonl"
        write_lines(path, simulated_stream(size))
        for store, fresh in STORES:
            with fresh() as url:
                by_file = file_rate(url, path)
            with fresh() as url:
                over_http = http_rate(url, path)
            report(f"{store}: file {by_file:,.0f}/s, HTTP {over_http:,.0f}/s ({over_http / by_file:.0%})")
            rows.append(f"| {store} | {by_file:,.0f} | {over_http:,.0f} | {over_http / by_file:.0%} |")
    return "\n".join([
        f"## Ingest over HTTP, {size:,} events in batches of {BATCH_EVENTS:,} (`ops/bench/http.py`)",
        "",
        "Both with the monitor and the audit index. Goal: HTTP at least 80 % of the file rate.",
        "",
        "| store | file ingest events/s | HTTP events/s | HTTP / file |",
        "|---|---:|---:|---:|",
        *rows,
        "",
    ])
