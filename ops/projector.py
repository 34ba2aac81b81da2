"""The projections' process beside ``regledger ingest``: while the ingesting process parses,
admits and appends, a second process (this module's ``project``) brings the monitor, the audit
index and the owners' filing up to date behind it, on the other core. The user still runs one
command: ``ingest`` starts the process, tells it where the ledger ended, waits until every
projection has reached that position, and only then returns, as the one-process pipeline does.

Why a process and not a thread: both halves are CPU-bound Python, and one interpreter runs one
thread at a time. Why it is safe: the projections are tracked (each commits its rows with its
position, and re-reads it under its lock), so they are the same whichever process runs them
and however their pages fall; the one-process pipeline and ``regledger monitor --follow``
already rely on that, and the tests compare the two ways findings for findings.

Started with ``spawn`` (a fresh interpreter, no inherited connections or pool threads); the
start costs about a second of the other core, so ``ingest`` uses it only for inputs large
enough to pay for it (the setting ``REGLEDGER_INGEST_PROCESS_MIN_BYTES``, 8 MiB: some
35,000 events) on a machine with two cores or more, and on PostgreSQL only (``worth_a_process``).

The protocol over the pipe is two messages: the parent sends the position the ledger reached
(``Finish``); the child answers with what it did, or with the reason it stopped. A fault in
the child never passes in silence: ``finish`` raises ``ProjectorFailed`` (the events are
stored all the same; ``regledger monitor`` resumes from the tracked positions).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

# The monitor catches up in slices of this many events, the audit index and the owners' filing
# following after each, so none of them is left with the whole backlog at the end.
SLICE_EVENTS = 5_000
IDLE_WAIT_S = 0.05  # when the projections have reached the ledger's tip and the parent still appends


@dataclass(frozen=True, slots=True)
class Finish:
    position: int


@dataclass(frozen=True, slots=True)
class Finished:
    position: int
    events: int
    findings: int


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str


class ProjectorFailed(RuntimeError):
    pass


def worth_a_process(url: str, input_bytes: int | None, min_bytes: int) -> bool:
    """Whether ``ingest`` should project in a second process: PostgreSQL, a large input and a
    second core. ``input_bytes`` is None for standard input (its size is unknown: one process).
    Not on SQLite: it has one writer at a time, and the two processes would take turns at its
    lock (its busy handler sleeps between tries), which measured slower than one process."""
    return (
        url.startswith("postgresql") and input_bytes is not None and input_bytes >= min_bytes
        and (os.cpu_count() or 1) >= 2
    )


class ProjectorProcess:
    """The parent's handle: ``start`` beside an ingest, ``finish`` when the ledger is written."""

    def __init__(self, url: str):
        context = multiprocessing.get_context("spawn")
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(target=project, args=(url, child_end), name="regledger-projector", daemon=True)
        self._process.start()
        child_end.close()

    def finish(self, position: int) -> Finished:
        """Wait until every projection has reached ``position``, then until the child ends."""
        # If it stopped already, its answer (why) may still be in the pipe.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._pipe.send(Finish(position))
        try:
            answer = self._pipe.recv()
        except (EOFError, ConnectionResetError):
            answer = Failed(f"the projections' process ended unexpectedly (exit code {self._wait()})")
        self._wait()
        if isinstance(answer, Failed):
            raise ProjectorFailed(answer.reason)
        assert isinstance(answer, Finished)
        return answer

    def stop(self) -> None:
        """The ingest failed or was interrupted: end the child without waiting for its work
        (what it committed stays committed; the tracked positions say where to resume)."""
        if self._process.is_alive():
            self._process.terminate()
        self._wait()

    def _wait(self) -> int | None:
        self._process.join()
        self._pipe.close()
        return self._process.exitcode


def project(url: str, parent: Connection) -> None:
    """The child: follow the ledger until the parent says where it ends, then catch up to
    there (and to whatever else is stored by then) and answer."""
    # Imported here: the child is a fresh interpreter and these are what it needs.
    from ops.logging import configure_logging
    from ops.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        answer: Any = _follow(url, parent)
    except KeyboardInterrupt:
        return
    except Exception as error:  # reported to the parent, which reports it to the user
        answer = Failed(f"the projections' process failed: {_why(error)}")
    parent.send(answer)
    parent.close()


def _why(error: Exception) -> str:
    """One line, worded as the one-process ingest words the same failure (``ops.cli``)."""
    from domain.errors import RegledgerError
    from ops.commands.core import DATABASE_ERRORS, first_line
    from policies.system import reason_of

    if isinstance(error, DATABASE_ERRORS):
        return f"database error: {first_line(error)}"
    if isinstance(error, RegledgerError):  # a store it cannot reach, a store damaged: said plainly
        return first_line(error)
    return reason_of(error)


def _follow(url: str, parent: Connection) -> Finished:
    from ops.wiring import build_audit_index, build_monitor, open_store
    from projections.queue import catch_up_owners

    store = open_store(url)
    try:
        monitor, audit_index = build_monitor(store), build_audit_index(store)
        monitor.restore()
        events = findings = 0
        finish: Finish | None = None
        while True:
            if finish is None and parent.poll(0):
                finish = parent.recv()
            recorded = _decoded_page(store, monitor.position)
            until = recorded[-1].position if recorded else monitor.position + SLICE_EVENTS
            done = monitor.catch_up(until=until, recorded=recorded)
            indexed = audit_index.catch_up(until=monitor.position, recorded=recorded)
            catch_up_owners(store)
            events, findings = events + done.events, findings + done.findings
            if done.events or indexed.events:
                continue
            if finish is not None:  # nothing left to project: every projection is at the tip
                return Finished(monitor.position, events, findings)
            if parent.poll(IDLE_WAIT_S):
                finish = parent.recv()
    finally:
        store.close()


def _decoded_page(store: Any, after: int) -> list[Any]:
    """The next slice of the log decoded once, for the monitor and the audit index both (each
    takes a contiguous run of catalogue events as given, as in the ingesting process); empty
    when the slice holds anything else (a case action), which each then reads for itself."""
    from domain.ledger import decode_admitted, is_catalogue_topic

    entries = store.read_entries(after, SLICE_EVENTS)
    if not entries or not all(is_catalogue_topic(e.type) for e in entries):
        return []
    # The ledger's own rows, just appended by the ingesting process (or by an earlier one):
    # validated when admitted, so rebuilt without validating them a second time.
    return [decode_admitted(e) for e in entries]
