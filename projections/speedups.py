"""The projections layer's speed-ups, in one module: each reads CPython's or pydantic's
internals for time that was measured before it was claimed (the figures: ``ops/bench``).

1. The prefetch codec (``pickled_batch``, ``decode_batch``), used by
   ``projections.store.prefetch`` to carry decoded events from its child process. The child's
   pickler reduces each model to a call rebuilding it from ``(model index, fields-set mask, the
   __dict__ validation built)`` and each event to one from ``(position, recorded_at,
   envelope)``; unpickling a batch rebuilds the models without validating them again (the
   child did, with the same code): ``__dict__``, ``model_fields_set``, and the extra and private
   attributes (None) set through pydantic's own slots, as its validation leaves them, so a
   rebuilt event is indistinguishable from one decoded in process (equal, same JSON, same
   fields set, same hash, ``Decimal`` exponents and offsets kept). It reads pydantic's
   internals (``__pydantic_fields_set__``, ``__pydantic_extra__``, ``__pydantic_private__``
   slots): pydantic is pinned to its minor version in ``pyproject.toml`` for it, and
   ``tests/store/test_prefetch.py`` holds every event type's round trip equal.
   Measured (``ops/bench/RESULTS-prefetch.md``, 2 cores, 2026-12-02): the pipelined replay runs
   at 1.33x the replay in one process on PostgreSQL (28,252/s against 21,290/s) and 1.26x on
   SQLite (24,395/s against 19,393/s); at 1M events on SQLite 19,078-20,320/s against
   12,574-12,954/s. Unpickling and rebuilding cost 4.2 to 4.8 us per event with the dispatch
   table against 5.1 before (``ops/bench/RESULTS.md``, 2026-12-04).
2. ``new_tuple`` (``tuple.__new__``): the monitor engine builds each event's ``Context`` named
   tuple with it, what ``Context(...)`` calls less a Python frame, once per event: 95 ns
   against 193 ns by ``Context(...)`` (2.0x; CPU time, best of 7 x 300,000, 2026-12-06); with the
   engine's other savings of that day 14,640M instructions before, 12,959M after (-11.5%,
   ``ops/bench/RESULTS.md``, 2026-12-04).
"""

from __future__ import annotations

import copyreg
import gc
import io
import pickle
import typing
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, Final

from pydantic import BaseModel

from domain.events import EVENT_TYPES, Envelope, Payload, RecordedEvent

__all__ = ["MODELS", "decode_batch", "new_tuple", "pickled_batch"]

new_tuple = tuple.__new__

# --- the prefetch codec ------------------------------------------------------------------------
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
