"""Every handler table is keyed by the event catalogue's payload classes and covers it.

Two world models read the events: admission (``domain.registry``: what validation needs) and
monitoring (``domain.book``: what the rules read); the rules trigger on events too. Each table
names events by their payload class, so a typo cannot hide an event, and each model accounts
for all 35 types: handled, or listed as changing nothing with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from domain.book.apply import HANDLERS, NOT_APPLIED
from domain.events import EVENT_TYPES, Payload, RuleParameterAmended
from domain.registry.invariants import CHECKS
from domain.registry.references import REFERENCES
from domain.registry.transitions import APPLIES, UNCHANGED
from policies.registry import RULES, TRIGGERS

CATALOGUE = frozenset(EVENT_TYPES.values())
TABLES: dict[str, Iterable[type[Payload]]] = {
    "book HANDLERS": HANDLERS,
    "book NOT_APPLIED": NOT_APPLIED,
    "registry APPLIES": APPLIES,
    "registry UNCHANGED": UNCHANGED,
    "registry CHECKS": CHECKS,
    "rule TRIGGERS": TRIGGERS,
    "rule triggers": [trigger.event for rule in RULES for trigger in rule.triggers],
}


def test_the_catalogue_has_35_event_types_one_class_each() -> None:
    assert len(EVENT_TYPES) == len(CATALOGUE) == 35


@pytest.mark.parametrize("table", TABLES)
def test_every_key_of_every_handler_table_is_a_catalogue_event_class(table: str) -> None:
    assert [key for key in TABLES[table] if key not in CATALOGUE] == []


def test_the_book_handles_every_event_type_or_says_why_not() -> None:
    handled, ignored = set(HANDLERS), set(NOT_APPLIED)
    recorded_apart = {RuleParameterAmended}  # ``apply.record_amendment``: it needs the position
    assert handled.isdisjoint(ignored) and recorded_apart.isdisjoint(handled | ignored)
    assert handled | ignored | recorded_apart == CATALOGUE
    assert all(reason.strip() for reason in NOT_APPLIED.values())


def test_the_registry_transitions_every_event_type_or_says_why_not() -> None:
    assert set(APPLIES).isdisjoint(UNCHANGED)
    assert set(APPLIES) | set(UNCHANGED) == CATALOGUE
    assert all(reason.strip() for reason in UNCHANGED.values())


def test_every_event_that_creates_an_entity_records_it_so_its_id_is_taken() -> None:
    # events.md "Rejections": an id already used is refused, which needs the record.
    creating = {EVENT_TYPES[name] for name, refs in REFERENCES.items() if any(r.creates for r in refs)}
    assert creating - set(APPLIES) == set()


def test_every_state_check_judges_an_event_that_names_what_it_checks() -> None:
    # A state check runs only once every entity the event names exists (``Registry.check``).
    assert [kind.__name__ for kind in CHECKS if not REFERENCES[kind.__name__]] == []


def test_references_name_every_event_type_of_the_catalogue() -> None:
    assert {EVENT_TYPES[name] for name in REFERENCES} == CATALOGUE
