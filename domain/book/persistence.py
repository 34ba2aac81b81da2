"""Saving and restoring the book as records, and draining what changed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from domain.book import records as r
from domain.book.book import Book
from domain.book.records import Json, ParameterTypes, canonical
from domain.book.table import Table
from domain.errors import StoreCorrupted

Record = tuple[str, str, str]
Change = tuple[str, str, str | None]
Codec = tuple[Callable[[Any], Json], Callable[[str, Json], Any]]


def codecs(types: ParameterTypes) -> dict[str, Codec]:
    """How each persisted table's rows are written and read, by record kind."""
    return {
        "amendment": (r.encode_amendment, r.amendment_decoder(types)),
        "asset": (r.encode_asset, r.decode_asset),
        "client": (r.encode_client, r.decode_client),
        "contract": (r.encode_contract, r.decode_contract),
        "insurance_fund": (r.encode_decimal, r.decode_decimal),
        "market_maker": (r.encode_market_maker, r.decode_market_maker),
        "obligation": (r.encode_obligation, r.decode_obligation),
        "order": (r.encode_order, r.decode_order),
        "status_regime": (r.encode_regime, r.decode_regime),
    }


def _tables(book: Book) -> dict[str, Table[Any]]:
    return {table.kind: table for table in book.tables if table.kind is not None}


def iter_records(book: Book) -> Iterator[Record]:
    """Every record of the book, sorted by (kind, key)."""
    encoders = codecs(book.parameter_types)
    for kind, table in sorted(_tables(book).items()):
        encode = encoders[kind][0]
        for key in sorted(table.keys()):
            yield kind, key, canonical(encode(table[key]))


def drain_changes(book: Book) -> list[Change]:
    """Records changed since the last drain, sorted; ``None`` for a deleted record."""
    encoders = codecs(book.parameter_types)
    changes: list[Change] = []
    for kind, table in sorted(_tables(book).items()):
        encode = encoders[kind][0]
        for key, row in table.drain():
            changes.append((kind, key, None if row is None else canonical(encode(row))))
    return changes


def load_records(book: Book, records: Iterable[Record]) -> None:
    """Fill an empty book from records; derived lookups are rebuilt by the tables' hooks and
    by ``rebuild_owners``."""
    decoders = codecs(book.parameter_types)
    tables = _tables(book)
    for kind, key, text in records:
        if kind not in tables:
            raise StoreCorrupted(f"unknown monitor record kind {kind!r}: written by a newer version?")
        tables[kind].load(key, decoders[kind][1](key, json.loads(text)))
    rebuild_owners(book)


def rebuild_owners(book: Book) -> None:
    for client_id, client in book.clients.items():
        for account_id in client.accounts:
            book.account_owner.load(account_id, client_id)
        for pledge_id in client.pledges:
            book.pledge_owner.load(pledge_id, client_id)
        for loan_id in client.loans:
            book.loan_owner.load(loan_id, client_id)
        for call_id in client.open_calls:
            book.call_owner.load(call_id, client_id)
