"""The ledger's catalogue events decoded, read and validated in a second process beside their
consumer: ``decoded_events(store, after, through)``.

A replay reads every row, validates every envelope (strict pydantic, the dearer half of the
read) and then runs the monitor engine over it, all on one core. For a long range this module
moves the read and the validation into one child process, which sends the events on in
batches, so the engine in the parent no longer does that work and the replay uses two cores. A
short range, or a store another process cannot open (SQLite ``:memory:``, a store that is not
one of the two), is read in process as before: no process start-up for small replays and tests.

The transfer is what decides whether this pays: pickling a pydantic model the usual way costs
nearly as much as validating it again. So the child's pickler reduces each model to a call
rebuilding it from ``(model index, fields-set mask, the __dict__ validation built)`` and each
event to one from ``(position, recorded_at, envelope)``, and pickles a batch at once; unpickling
it in the parent rebuilds the models without validating them again (the child did, with the
same code): ``__dict__``, ``model_fields_set``, and the extra and private attributes (None) as
pydantic's own validation leaves them, so a rebuilt event is indistinguishable from one decoded
in process (equal, same JSON, same fields set, same hash, ``Decimal`` exponents and offsets
kept).

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

import copyreg
import gc
import io
import multiprocessing
import multiprocessing.queues
import os
import pickle
import queue as queues
import typing
from collections.abc import Generator, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, Final

import psycopg
import structlog
from pydantic import BaseModel

from domain.errors import EventRejected, Reason
from domain.events import EVENT_TYPES, Envelope, Payload, RecordedEvent
from domain.ledger import decode_entry, is_catalogue_topic
from projections.store.base import Store
from projections.store.postgres import PostgresStore
from projections.store.sqlite import SQLiteStore

__all__ = ["decoded_events"]

log = structlog.get_logger("regledger.prefetch")

# Up to this many entries the range is read in process. On the benchmark machine (2 cores,
# nothing else running) the child took 0.7 s to start (a fresh interpreter importing regledger,
# opening the store) and then about 28 us of its CPU per event; the parent spent about 28 us
# per event beside it (engine and rebuilding) against 39 us alone (read, decode and engine,
# with the commands' collector tuning): 11 us saved per event, so the child pays from about
# 65,000 entries.
PREFETCH_ENTRIES_MIN: Final = 75_000
ENTRIES_PER_PAGE_MAX: Final = 2_000  # read in process, as projections.asof always did
CHILD_ENTRIES_PER_PAGE: Final = 4_000  # read by the child: one batch per page
BATCHES_IN_FLIGHT_MAX: Final = 4  # batches waiting in the queue: memory stays flat
POLL_S: Final = 1.0  # how often a blocked side checks that the other is still alive
JOIN_S: Final = 5.0  # how long a finished child may take to exit before it is terminated

_BATCH: Final = "batch"
_END: Final = "end"
_ERROR: Final = "error"

# --- the codec ------------------------------------------------------------------------------
# The child's pickler (its dispatch table) reduces each model to a call ``_model(model index,
# fields-set mask, its __dict__)``: the very dict pydantic's validation built, which the C
# pickler writes and reads fast (the field names repeat, so a batch's pickle holds each once),
# and the fields set as a bit per field, in field order. A model held in a field (the envelope's payload, a nested
# assessment) is reduced the same way where it stands, and each event to ``_recorded(position,
# recorded_at, envelope)``: unpickling a batch is then all the rebuilding there is, with no
# Python loop over intermediate tuples. Every other value (str, int, bool, Decimal, datetime,
# date, tuple of str) pickles as it is: a Decimal keeps its exponent, a datetime its offset.
# The child's pickler gives the datetimes of one offset one shared ``timezone`` object (equal
# to each one's own), which a batch's pickle holds once.


def _types_in(annotation: object) -> Iterator[type]:
    """The classes an annotation can hold (``X | None``, ``Annotated[X, ...]``, ``tuple[X, ...]``)."""
    if isinstance(annotation, type):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _types_in(argument)


def _models_in(annotation: object) -> Iterator[type[BaseModel]]:
    return (t for t in _types_in(annotation) if issubclass(t, BaseModel))


def _all_models() -> tuple[type[BaseModel], ...]:
    """The envelope, the 35 payloads and the models nested in them (``Payload`` itself, the
    annotation of ``Envelope.data``, is never instantiated: it is left out)."""
    found: list[type[BaseModel]] = [Envelope, *EVENT_TYPES.values()]
    pending = list(found)
    while pending:
        for field in pending.pop().model_fields.values():
            for model in _models_in(field.annotation):
                if model not in found and model is not Payload:
                    found.append(model)
                    pending.append(model)
    for model in found:  # what the codec leaves out must always be empty
        assert model.model_config.get("extra") == "forbid" and not model.__private_attributes__, model
        assert model.__pydantic_post_init__ is None and not model.__pydantic_root_model__, model
    return tuple(found)


MODELS: Final[tuple[type[BaseModel], ...]] = _all_models()
_INDEX: Final[dict[type[BaseModel], int]] = {model: i for i, model in enumerate(MODELS)}
_NAMES: Final[tuple[tuple[str, ...], ...]] = tuple(tuple(m.model_fields) for m in MODELS)
_ALL_SET: Final = tuple((1 << len(names)) - 1 for names in _NAMES)
_MASKS: Final[tuple[dict[frozenset[str], int], ...]] = tuple({} for _ in MODELS)
_FIELDS_SETS: Final[tuple[dict[int, frozenset[str]], ...]] = tuple({} for _ in MODELS)
_TIMEZONES: Final[dict[tuple[object, ...], timezone]] = {}


def _reduce_datetime(moment: datetime) -> tuple[Any, ...]:
    """How pickle writes a datetime, but with one shared ``timezone`` object per offset (and
    name), equal to the datetime's own: a batch's pickle then writes each offset once."""
    # (datetime, (state, tz)); protocol 5 as the batch's, so that the state keeps ``fold``
    reduced: tuple[Any, ...] = moment.__reduce_ex__(5)  # type: ignore[assignment]
    rebuild, arguments = reduced
    if len(arguments) == 2 and type(tz := arguments[1]) is timezone:
        key = tz.__getinitargs__()  # type: ignore[attr-defined]  # what pickling rebuilds it from
        return (rebuild, (arguments[0], _TIMEZONES.setdefault(key, tz)))
    return reduced


def _mask(index: int, fields_set: set[str]) -> int:
    key = frozenset(fields_set)
    mask = _MASKS[index].get(key)
    if mask is None:
        mask = sum(1 << i for i, name in enumerate(_NAMES[index]) if name in key)
        _MASKS[index][key] = mask
    return mask


def _reduce_model(model: BaseModel) -> tuple[Any, ...]:
    """A model as a call of ``_model``: its index, its fields set as a mask, its ``__dict__``."""
    index = _INDEX[type(model)]
    fields_set = model.__pydantic_fields_set__
    mask = _ALL_SET[index] if len(fields_set) == len(_NAMES[index]) else _mask(index, fields_set)
    return (_model, (index, mask, model.__dict__))


def _reduce_recorded(event: RecordedEvent) -> tuple[Any, ...]:
    return (_recorded, (event.position, event.recorded_at, event.envelope))


# By exact type, as pickle consults it: the models, the events, and datetimes (any other value
# pickles as usual, with no Python call of ours).
_DISPATCH: Final[dict[type, Any]] = {
    **copyreg.dispatch_table, datetime: _reduce_datetime, RecordedEvent: _reduce_recorded,
    **dict.fromkeys(MODELS, _reduce_model),
}


def pickled_batch(batch: list[RecordedEvent]) -> bytes:
    """A batch of decoded events as bytes (``decode_batch`` reads them back)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(batch)
    return buffer.getvalue()


def _fields_set(index: int, mask: int) -> frozenset[str]:
    known = _FIELDS_SETS[index].get(mask)
    if known is None:
        known = frozenset(n for i, n in enumerate(_NAMES[index]) if mask >> i & 1)
        _FIELDS_SETS[index][mask] = known
    return known


_new = object.__new__
_set = object.__setattr__
# BaseModel's slots, set through their descriptors (a little faster than by name).
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _model(index: int, mask: int, values: dict[str, Any]) -> BaseModel:
    """The model the child's pickler reduced, rebuilt as validation built it, without
    validating again (the child did, with the same code): its ``__dict__`` (fresh from
    unpickling, taken over; a nested model in it is rebuilt already) and fields set, and no
    extra or private attributes, as pydantic's own validation leaves them."""
    fields_set = _FIELDS_SETS[index].get(mask)
    if fields_set is None:
        fields_set = _fields_set(index, mask)
    model = _new(MODELS[index])
    _set(model, "__dict__", values)
    _set_fields_set(model, set(fields_set))
    _set_extra(model, None)
    _set_private(model, None)
    return model


# RecordedEvent's slots, set through their descriptors: its frozen ``__init__`` makes an
# ``object.__setattr__`` call per field, a measurable share of the rebuilding.
_set_position = RecordedEvent.__dict__["position"].__set__
_set_recorded_at = RecordedEvent.__dict__["recorded_at"].__set__
_set_envelope = RecordedEvent.__dict__["envelope"].__set__


def _recorded(position: int, recorded_at: datetime, envelope: Envelope) -> RecordedEvent:
    """The event, built as its ``__init__`` would (no validation: the child validated it)."""
    event = _new(RecordedEvent)
    _set_position(event, position)
    _set_recorded_at(event, recorded_at)
    _set_envelope(event, envelope)
    return event


def decode_batch(data: bytes) -> list[RecordedEvent]:
    """A batch the child pickled, rebuilt. The cyclic collector is held off meanwhile: the
    batch's objects are all alive until consumed, so its young collections (one every 700
    allocations by default) would scan them again and again for nothing; it resumes after,
    and it sees them once."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        events: list[RecordedEvent] = pickle.loads(data)
        return events
    finally:
        if enabled:
            gc.enable()


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
    reopen = _reopening(store)
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
    while after < through:
        entries = store.read_entries(after, min(ENTRIES_PER_PAGE_MAX, through - after))
        if not entries:
            return
        after = entries[-1].position
        for entry in entries:
            if is_catalogue_topic(entry.type):
                yield decode_entry(entry)


Reopening = tuple[str, str]  # (store kind, SQLite file path or PostgreSQL conninfo)
Message = tuple[str, Any]  # (_BATCH, pickled batch) | (_END, last position) | (_ERROR, error)
Channel = multiprocessing.queues.Queue


def _reopening(store: Store) -> Reopening | None:
    """How another process opens the same store, when it can."""
    if isinstance(store, SQLiteStore):
        return None if store.path == ":memory:" else ("sqlite", os.path.abspath(store.path))
    if isinstance(store, PostgresStore):
        return ("postgresql", psycopg.conninfo.make_conninfo(**store.conninfo))
    return None


def _open(reopen: Reopening) -> Store:
    kind, target = reopen
    if kind == "sqlite":
        return SQLiteStore(target)
    return PostgresStore(target, pool_size=1)


def _from_child(
    reopen: Reopening, after: int, through: int, page_entries: int = CHILD_ENTRIES_PER_PAGE
) -> Generator[RecordedEvent, None, None]:
    context = multiprocessing.get_context("spawn")  # never fork: the parent holds connections and threads
    channel: Channel[Message] = context.Queue(BATCHES_IN_FLIGHT_MAX)
    child = context.Process(
        target=_child_main, args=(reopen, after, through, page_entries, channel), name="regledger-prefetch", daemon=True
    )
    child.start()
    log.info("prefetch_started", pid=child.pid, store=reopen[0], after=after, through=through, entries=through - after)
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
    reopen: Reopening,
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
    doing = f"opening the {reopen[0]} store"
    try:
        store = _open(reopen)
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
                        batch.append(decode_entry(entry))
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

