"""An undo journal: how ``preview`` leaves the book exactly as it found it.

Every mutation of the book (and of the monitor's derived indexes) records its inverse here
while a journal is open; rolling back runs the inverses newest first. The cost of a preview
is therefore proportional to what the previewed event touched, never to the size of the book.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

Undo = Callable[[], None]


class Journal:
    __slots__ = ("_snapshotted", "_undo", "active")

    def __init__(self) -> None:
        self._undo: list[Undo] | None = None
        self._snapshotted: set[Hashable] = set()
        # Whether a journal is open: an attribute, not a property, as every change of the
        # book reads it (read only: ``rolled_back`` sets it).
        self.active = False

    def record(self, undo: Undo) -> None:
        if self._undo is not None:
            self._undo.append(undo)

    def first_edit(self, token: Hashable) -> bool:
        """True the first time ``token`` is edited under this journal (snapshot it then)."""
        if self._undo is None or token in self._snapshotted:
            return False
        self._snapshotted.add(token)
        return True

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        """Everything done inside the block is undone when it ends, whatever happens."""
        self.open()
        try:
            yield
        finally:
            self.undo()

    def open(self) -> None:
        """Start recording what changes, to ``undo`` it or ``keep`` it: how the monitor takes
        back the partial effect of an event whose evaluation raised. Plain calls rather than a
        context manager: this runs for every event the monitor processes."""
        assert self._undo is None, "journals do not nest"
        self._undo = []
        self.active = True

    def keep(self) -> None:
        """Close the journal, keeping every change."""
        self._undo = None
        self.active = False
        self._snapshotted.clear()

    def undo(self) -> None:
        """Close the journal, undoing every change since ``open``, newest first."""
        undo = self._undo or []
        self.keep()
        for step in reversed(undo):
            step()
