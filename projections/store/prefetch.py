"""The ledger's catalogue events decoded, read and validated in a second process beside their
consumer: ``decoded_events(store, after, through)``.

A replay reads every row, decodes every envelope (it was strict pydantic, the dearer half of
the read, when the figures below were taken; since 2026-12-06 ``decode_admitted`` rebuilds the
ledger's rows without validating them again, so the threshold may deserve measuring again) and
then runs the monitor engine over it, all on one core. For a long range this module
moves the read and the validation into one child process, which sends the events on in
batches, so the engine in the parent no longer does that work and the replay uses two cores. A
short range, or a store another process cannot open (its ``reopen_spec()`` is None: SQLite
``:memory:``), is read in process as before: no process start-up for small replays and tests.

The transfer is what decides whether this pays: pickling a pydantic model the usual way costs
nearly as much as validating it again. The batches therefore travel through the codec of
``projections.speedups`` (``pickled_batch``, ``decode_batch``), which rebuilds the models
without validating them again; a rebuilt event is indistinguishable from one decoded in process.

The child is started with ``spawn`` (never ``fork``: the parent holds connections and
threads), so the program's main module must be importable without side effects (``if __name__
== "__main__":``), as for any multiprocessing program; a process that is itself a daemon (which
may not have children) reads in process. The child never outlives its consumer: closing the
generator (or leaving a ``for`` loop over it early) terminates and joins it; it is a daemon; and
it gives up on its own when the parent disappears. A failure in the child (store unreachable, a
row that does not decode) is raised in the parent after the events before it, as the same
exception where it can be carried across (the domain errors, with a note saying where),
otherwise as a ``RuntimeError`` saying where and what.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.queues
import os
import pickle
import queue as queues
from collections.abc import Generator, Sequence
from typing import Any, Final

import structlog

from domain.errors import EventRejected, Reason
from domain.events import RecordedEvent
from domain.ledger import decode_admitted, is_catalogue_topic
from projections.speedups import MODELS, decode_batch, pickled_batch
from projections.store.base import ReopenSpec, Store

__all__ = ["MODELS", "decode_batch", "decoded_events", "pickled_batch"]

log = structlog.get_logger("regledger.prefetch")

# Up to this many entries the range is read in process. On the benchmark machine (2 cores,
# nothing else running) the child took 0.7 s to start (a fresh interpreter importing regledger,
# opening the store) and then about 28 us of its CPU per event; the parent spent about 28 us
# per event beside it (engine and rebuilding) against 39 us alone (read, decode and engine,
# with the commands' collector tuning): 11 us saved per event, so the child pays from about
# 65,000 entries.
PREFETCH_ENTRIES_MIN: Final = 75_000
IN_PROCESS_ENTRIES_PER_PAGE_MAX: Final = 2_000  # read in process, as projections.asof always did
CHILD_ENTRIES_PER_PAGE: Final = 4_000  # read by the child: one batch per page
BATCHES_IN_FLIGHT_MAX: Final = 4  # batches waiting in the queue: memory stays flat
POLL_S: Final = 1.0  # how often a blocked side checks that the other is still alive
JOIN_S: Final = 5.0  # how long a finished child may take to exit before it is terminated

_BATCH: Final = "batch"
_END: Final = "end"
_ERROR: Final = "error"

# --- the reader -----------------------------------------------------------------------------


def decoded_events(
    store: Store,
    after: int = 0,
    through: int | None = None,
    *,
    prefetch: bool | None = None,
    prefetch_entries_min: int = PREFETCH_ENTRIES_MIN,
    child_page_entries: int = CHILD_ENTRIES_PER_PAGE,
) -> Generator[RecordedEvent, None, None]:
    """Every catalogue event with ``after < position <= through``, decoded, in ledger order.

    ``through`` None reads to the tip as it is when reading starts. The range is read in a
    child process when it spans more than ``prefetch_entries_min`` entries, this process may
    run on more than one core and another process can open the store; ``prefetch`` True reads
    there whatever the length and the cores, False never (None: decide as said). The events
    are the same either way. The child reads pages of ``child_page_entries`` entries and sends
    each page's events as one batch.
    """
    assert child_page_entries > 0
    bound = store.tip().position if through is None else through
    reopen = store.reopen_spec()
    wanted = prefetch if prefetch is not None else bound - after > prefetch_entries_min and _cores() > 1
    if wanted and reopen is not None and bound > after and not multiprocessing.current_process().daemon:
        return _from_child(reopen, after, bound, child_page_entries)
    return _in_process(store, after, bound)


def _cores() -> int:
    """The cores this process may run on: with one, a second process only adds its cost."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _in_process(store: Store, after: int, through: int) -> Generator[RecordedEvent, None, None]:
    # The ledger's own rows, validated when admitted: rebuilt without validating them again
    # (``decode_admitted``; a row it cannot rebuild is validated, and refused, as before).
    while after < through:
        entries = store.read_entries(after, min(IN_PROCESS_ENTRIES_PER_PAGE_MAX, through - after))
        if not entries:
            return
        after = entries[-1].position
        for entry in entries:
            if is_catalogue_topic(entry.type):
                yield decode_admitted(entry)


Message = tuple[str, Any]  # (_BATCH, pickled batch) | (_END, last position) | (_ERROR, error)
Channel = multiprocessing.queues.Queue


def _from_child(
    reopen: ReopenSpec, after: int, through: int, page_entries: int = CHILD_ENTRIES_PER_PAGE
) -> Generator[RecordedEvent, None, None]:
    context = multiprocessing.get_context("spawn")  # never fork: the parent holds connections and threads
    channel: Channel[Message] = context.Queue(BATCHES_IN_FLIGHT_MAX)
    child = context.Process(
        target=_child_main, args=(reopen, after, through, page_entries, channel), name="regledger-prefetch", daemon=True
    )
    child.start()
    log.info("prefetch_started", pid=child.pid, store=reopen.kind, after=after, through=through, entries=through - after)
    ended = False  # the child has sent its last message and exits by itself
    try:
        while True:
            kind, payload = _receive(channel, child)
            ended = kind != _BATCH
            if kind == _BATCH:
                yield from decode_batch(payload)
            elif kind == _END:
                return
            else:
                raise _error_from(payload)
    finally:
        _stop(child, channel, ended)


def _receive(channel: Channel[Message], child: multiprocessing.process.BaseProcess) -> tuple[str, Any]:
    while True:
        try:
            return channel.get(timeout=POLL_S)
        except queues.Empty:
            if child.is_alive():
                continue
        try:  # whatever it sent before it exited is in the pipe already
            return channel.get(timeout=POLL_S)
        except queues.Empty:
            raise RuntimeError(
                f"the prefetch reader (pid {child.pid}) exited with code {child.exitcode}"
                " before sending all the events"
            ) from None


def _stop(child: multiprocessing.process.BaseProcess, channel: Channel[Message], ended: bool) -> None:
    """The child joined (terminated first unless it has ended), and the queue closed."""
    if ended:
        child.join(JOIN_S)
    if child.is_alive():
        child.terminate()
        child.join(JOIN_S)
    if child.is_alive():
        child.kill()
        child.join()
    child.close()
    channel.close()
    channel.join_thread()


# --- errors across the process boundary ------------------------------------------------------


def _error_from(payload: tuple[str, Any]) -> BaseException:
    form, value = payload
    if form == "rejected":
        cls, reasons, event_id, notes = value
        error: BaseException = cls(reasons, event_id)
    elif form == "pickled":
        error = pickle.loads(value)
        notes = ()
    else:
        error, notes = RuntimeError(value), ()
    for note in notes:
        error.add_note(note)
    return error


def _portable(error: BaseException, doing: str) -> tuple[str, Any]:
    """The child's exception in a form the parent can raise again."""
    where = f"in the prefetch reader process, {doing}"
    if isinstance(error, EventRejected):
        reasons: Sequence[Reason] = error.reasons
        return ("rejected", (type(error), tuple(reasons), error.event_id, [*getattr(error, "__notes__", ()), where]))
    try:
        error.add_note(where)
        data = pickle.dumps(error, protocol=5)
        copy = pickle.loads(data)
        if type(copy) is type(error) and str(copy) == str(error):
            return ("pickled", data)
    except Exception:  # an exception that does not survive pickling: described instead
        pass
    return ("text", f"{where}: {type(error).__name__}: {error}")


# --- the child ------------------------------------------------------------------------------


def _child_main(
    reopen: ReopenSpec,
    after: int,
    through: int,
    page_entries: int,
    channel: Channel[Message],
) -> None:
    """Read, decode and encode ``after < position <= through``, one batch per page. On a
    failure, the events decoded before it are sent first, then the error.

    The cyclic collector runs once per page, not every 700 allocations: nearly everything a
    page allocates is freed by reference counting when it has been sent, and what start-up
    allocated (modules, schemas) is left out of every collection."""
    gc.collect()
    gc.freeze()
    gc.disable()
    parent = multiprocessing.parent_process()
    position = after
    batch: list[RecordedEvent] = []
    doing = f"opening the {reopen.kind} store"
    try:
        store = reopen.open()
        try:
            while position < through:
                doing = f"reading the entries after position {position}"
                entries = store.read_entries(position, min(page_entries, through - position))
                if not entries:
                    break
                for entry in entries:
                    position = entry.position
                    if is_catalogue_topic(entry.type):
                        doing = f"decoding the entry at position {position}"
                        batch.append(decode_admitted(entry))
                if batch and not _send(channel, (_BATCH, pickled_batch(batch)), parent):
                    return
                batch = []
                gc.collect()
        finally:
            store.close()
    except BaseException as error:
        if batch and not _send(channel, (_BATCH, pickled_batch(batch)), parent):
            return
        _send(channel, (_ERROR, _portable(error, doing)), parent)
        return
    _send(channel, (_END, position), parent)


def _send(
    channel: Channel[Message], item: tuple[str, Any], parent: multiprocessing.process.BaseProcess | None
) -> bool:
    """Put ``item`` on the bounded queue; False when the parent is gone."""
    while True:
        try:
            channel.put(item, timeout=POLL_S)
            return True
        except queues.Full:
            if parent is not None and not parent.is_alive():
                channel.cancel_join_thread()
                return False

