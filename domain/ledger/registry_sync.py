"""The ledger's registry kept in step with the store: it loads entity records only inside a
write transaction, is forgotten when another writer appended since the last batch, and
forgets what it cached when a transaction fails (it may hold what did not commit)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from domain.ledger_storage import LedgerStorage, LedgerWriter
from domain.registry import Registry

Loader = Callable[[Collection[tuple[str, str]]], Mapping[tuple[str, str], str]]


class SyncedRegistry:
    """The registry, the ledger position its cache is true at (None: unknown), and where it
    loads from."""

    def __init__(self, storage: LedgerStorage, parameter_catalogue: Mapping[str, Mapping[str, Any]]):
        self.storage = storage
        self._loader: Loader = self._load_unavailable
        self.registry = Registry(lambda keys: self._loader(keys), parameter_catalogue)
        self.position: int | None = None

    @staticmethod
    def _load_unavailable(keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        raise AssertionError("registry records load only inside a write transaction")

    @contextmanager
    def writing(self) -> Iterator[LedgerWriter]:
        """One write transaction holding the ledger's lock, the registry ready to load
        within it. When it fails, the registry's cache is forgotten."""
        try:
            with self.storage.writer() as writer:
                # Another writer appended since our last batch: what we cached may be stale.
                if self.position != writer.tip.position:
                    self.registry.clear()
                self._loader = writer.load_entities
                yield writer
        except BaseException:
            self.forget()
            raise

    def load_from(self, loader: Loader) -> None:
        self._loader = loader

    def forget(self) -> None:
        self.position = None
        self.registry.clear()
