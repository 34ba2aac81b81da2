"""The records the registry has seen, loaded from the store on demand.

Least recently used first, so that ``trim`` can bound memory without losing a change that
the store has not taken yet.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from itertools import islice
from typing import TypeVar

from pydantic import ValidationError

from domain.errors import StoreCorrupted
from domain.registry.aggregates import RECORD_TYPES, EntityKey, Record

Loader = Callable[[Collection[EntityKey]], Mapping[EntityKey, str]]

R = TypeVar("R", bound=Record)


class RecordCache:
    def __init__(self, loader: Loader):
        self._loader = loader
        # ``None`` remembers that the store has no such record, so it is not asked again.
        self._records: OrderedDict[EntityKey, Record | None] = OrderedDict()
        self._dirty: dict[EntityKey, Record] = {}

    def load(self, keys: Iterable[EntityKey]) -> None:
        """Ask the store, in one call, for the records of ``keys`` not known yet."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._records]
        if not missing:
            return
        found = self._loader(missing)
        for key in missing:
            text = found.get(key)
            self._records[key] = None if text is None else _decoded(key, text)

    def exists(self, key: EntityKey) -> bool:
        return self._lookup(key) is not None

    def get(self, record_type: type[R], natural_id: str) -> R | None:
        key = (record_type.KIND, natural_id)
        record = self._lookup(key)
        assert record is None or isinstance(record, record_type), f"{key} is a {record!r}"
        return record

    def _lookup(self, key: EntityKey) -> Record | None:
        if key in self._records:
            self._records.move_to_end(key)
        else:  # not prefetched: correct, one store round trip slower
            self.load([key])
        return self._records[key]

    def add(self, record: Record) -> None:
        assert self._records.get(record.key) is None, f"{record.key} already exists"
        self._records[record.key] = record
        self.changed(record)

    def changed(self, record: Record) -> None:
        self._records[record.key] = record
        self._records.move_to_end(record.key)
        self._dirty[record.key] = record

    def drain(self) -> list[tuple[str, str, str]]:
        changes = [
            (kind, key, record.model_dump_json()) for (kind, key), record in self._dirty.items()
        ]
        self._dirty.clear()
        return changes

    def clear(self) -> None:
        self._records.clear()
        self._dirty.clear()

    def trim(self, max_records: int) -> None:
        excess = len(self._records) - max_records
        if excess <= 0:
            return
        clean = (key for key in self._records if key not in self._dirty)
        for key in list(islice(clean, excess)):
            del self._records[key]


def _decoded(key: EntityKey, text: str) -> Record:
    kind, natural_id = key
    try:
        record = RECORD_TYPES[kind].model_validate_json(text)
    except ValidationError:
        raise StoreCorrupted(f"the stored {kind} record {natural_id!r} is not readable") from None
    if record.key != key:
        raise StoreCorrupted(f"the store returned {record.key} for {key}")
    return record
