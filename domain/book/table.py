"""A keyed collection of the book: journaled, change-tracked, with an optional change hook.

A table with a ``kind`` is persisted (one record per key); changes are collected for
``drain_changes``. A table without one is a derived lookup that only needs undoing.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView, ValuesView
from typing import Generic, TypeVar

from domain.book.journal import Journal

T = TypeVar("T")

ChangeHook = Callable[[str, T | None, T | None], None]


class Table(Generic[T]):
    __slots__ = ("_copy", "_created", "_journal", "_on_change", "_rows", "changed", "get", "kind", "tracked")

    get: Callable[[str], T | None]  # the row of a key, or None

    def __init__(
        self,
        journal: Journal,
        kind: str | None = None,
        *,
        copy: Callable[[T], T] | None = None,
        on_change: ChangeHook[T] | None = None,
    ) -> None:
        self._journal = journal
        self.kind = kind
        self._copy = copy
        self._on_change = on_change
        self._rows: dict[str, T] = {}
        # The dict's own ``get``, bound once: the book's hottest read, a million times in a
        # replay of 100,000 events, costs no Python call.
        self.get = self._rows.get
        self.changed: set[str] = set()  # keys changed since the last drain
        # Whether changes are collected: a persisted table's are, until ``stop_tracking``.
        self.tracked = kind is not None
        self._created: set[str] = set()  # of those, the keys that had no row then

    def __getitem__(self, key: str) -> T:
        return self._rows[key]

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def keys(self) -> KeysView[str]:
        return self._rows.keys()

    def values(self) -> ValuesView[T]:
        return self._rows.values()

    def items(self) -> ItemsView[str, T]:
        return self._rows.items()

    # With no journal open and no changes tracked (a replay), a change is only ``_set``: the
    # guards below skip the calls that would do nothing, on the book's commonest writes.
    def put(self, key: str, value: T) -> None:
        if self._journal.active or self.tracked:
            self._remember(key)
        self._set(key, value)

    def drop(self, key: str) -> None:
        if key in self._rows:
            if self._journal.active or self.tracked:
                self._remember(key)
            self._set(key, None)

    def edit(self, key: str) -> T:
        """The live row, to change in place; the journal snapshots it on the first edit."""
        assert self._copy is not None, f"rows of {self.kind} are replaced, not edited"
        row = self._rows[key]
        if self._journal.active and self._journal.first_edit((id(self), key)):
            snapshot = self._copy(row)
            self._journal.record(lambda: self._set(key, snapshot))
        if self.tracked:
            self._mark(key)
        return row

    def drain(self) -> list[tuple[str, T | None]]:
        """The rows changed since the last drain, by key (None: deleted), sorted. A row that
        appeared and went again in between is left out: it was never stored."""
        drained = [
            (key, self._rows.get(key))
            for key in sorted(self.changed)
            if key in self._rows or key not in self._created
        ]
        self.forget_changes()
        return drained

    def stop_tracking(self) -> None:
        """Collect no more changes (for a book that is never drained): ``drain`` then gives
        nothing."""
        self.tracked = False
        self.forget_changes()

    def forget_changes(self) -> None:
        self.changed.clear()
        self._created.clear()

    def load(self, key: str, value: T) -> None:
        """Put a restored row: no journal, no change record."""
        self._rows[key] = value
        if self._on_change is not None:
            self._on_change(key, None, value)

    def _remember(self, key: str) -> None:
        if self._journal.active:
            old = self._rows.get(key)  # rows are never None: None means absent
            self._journal.record(lambda: self._set(key, old))
        self._mark(key)

    def _mark(self, key: str) -> None:
        """Called before a change of ``key`` takes effect: the first since the last drain counts."""
        if self.tracked and key not in self.changed:
            self.changed.add(key)
            if key not in self._rows:
                self._created.add(key)
            if self._journal.active:  # (no undo to build outside a preview)
                self._journal.record(lambda: self._unmark(key))

    def _unmark(self, key: str) -> None:
        self.changed.discard(key)
        self._created.discard(key)

    def _set(self, key: str, value: T | None) -> None:
        rows, on_change = self._rows, self._on_change
        old = rows.get(key) if on_change is not None else None
        if value is None:
            rows.pop(key, None)
        else:
            rows[key] = value
        if on_change is not None:
            on_change(key, old, value)
