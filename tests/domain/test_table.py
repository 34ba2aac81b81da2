"""A book table's changes: undone by an open journal, collected while tracked, and neither
(only set) when no journal is open and tracking is off, as in a replay."""

from __future__ import annotations

import pytest

from domain.book.entities import Asset
from domain.book.journal import Journal
from domain.book.table import Table


def _table(tracked: bool) -> tuple[Journal, Table[Asset], list[tuple[str, object, object]]]:
    journal, hooked = Journal(), []
    table: Table[Asset] = Table(journal, "asset", copy=Asset.copy, on_change=lambda k, o, n: hooked.append((k, o, n)))
    if not tracked:
        table.stop_tracking()
    return journal, table, hooked


@pytest.mark.parametrize("tracked", [True, False])
def test_changes_are_set_and_hooked_either_way_and_collected_only_while_tracked(tracked: bool) -> None:
    journal, table, hooked = _table(tracked)
    table.put("BTC", Asset("BTC"))
    table.edit("BTC").price = None
    table.put("ETH", Asset("ETH"))
    table.drop("ETH")
    table.drop("XRP")  # absent: nothing happens
    assert list(table.keys()) == ["BTC"]
    assert [(k, o is None, n is None) for k, o, n in hooked] == [
        ("BTC", True, False), ("ETH", True, False), ("ETH", False, True),
    ]
    assert table.drain() == ([("BTC", Asset("BTC"))] if tracked else [])
    assert journal.active is False


@pytest.mark.parametrize("tracked", [True, False])
def test_an_open_journal_undoes_every_change_and_closes_even_on_error(tracked: bool) -> None:
    journal, table, _ = _table(tracked)
    table.put("BTC", Asset("BTC", kind="va"))
    table.drain()
    with pytest.raises(RuntimeError), journal.rolled_back():
        assert journal.active is True
        table.edit("BTC").kind = "changed"
        table.put("ETH", Asset("ETH"))
        table.drop("BTC")
        raise RuntimeError("previewed event failed")
    assert journal.active is False
    assert list(table.items()) == [("BTC", Asset("BTC", kind="va"))]
    assert table.drain() == []  # what was undone was never a change
