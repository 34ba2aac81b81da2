"""Which subjects an event concerns: every id it names, and the owners of those ids.

A compliance officer asks about a client and means everything of that client's: its
accounts, pledges, loans, calls, deposits, orders and the trades that filled them. So an
event is indexed under each id it names (the ledger registry's reference table says which)
and under the owners of each: a ``CollateralReleased`` of P1 is also C1's, a trade is also
both orders' clients' and the contract's. Ownership is fixed when an entity is created and
never changes, so the index keeps its own id -> owners table, built from the creating events.

Readings: an order belongs to its client and to its contract (so a cancellation is in the
contract's trail too). A market maker's trail is what names it (its registration, controls,
data accesses, the onboarding of its trading accounts); its accounts' own activity is under
their client ids. Assets, rule ids (amendments) and data-access actors are subjects too.

Pure: the caller supplies the owners of ids created earlier.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.cases import CaseFact
from domain.registry.references import REFERENCES

EntityKey = tuple[str, str]  # (kind, id), as in the ledger registry
Owners = tuple[str, ...]

# The kinds that belong to someone, and the fields of the creating event naming the owners
# (a trade's owners are its orders' owners, added below).
OWNER_FIELDS: Mapping[str, tuple[str, ...]] = {
    "account": ("client_id",),
    "pledge": ("client_id",),
    "loan": ("client_id",),
    "call": ("client_id",),
    "deposit": ("client_id",),
    "order": ("client_id", "contract_id"),
    "trade": ("contract_id",),
}
# Ids an event names that are not registry entities but that officers ask about.
EXTRA_SUBJECTS: Mapping[str, tuple[str, ...]] = {
    "RuleParameterAmended": ("rule_id",),
    "DataAccessed": ("actor_id",),
}


@dataclass(slots=True)
class Concerns:
    subjects: set[str] = field(default_factory=set)
    created: dict[EntityKey, Owners] = field(default_factory=dict)  # owned ids this event creates


def owned_references(event_type: str, data: Mapping[str, Any]) -> list[EntityKey]:
    """The ids of owned kinds that the event names without creating them."""
    return [
        (ref.kind, data[ref.field])
        for ref in REFERENCES[event_type]
        if not ref.creates and ref.kind in OWNER_FIELDS and data.get(ref.field) is not None
    ]


def concerns(
    event_type: str, data: Mapping[str, Any], owners_of: Callable[[EntityKey], Owners]
) -> Concerns:
    """The subjects of one catalogue event. ``owners_of`` answers for ids created earlier
    (an empty tuple for one it does not know)."""
    found = Concerns()
    for ref in REFERENCES[event_type]:
        natural_id = data.get(ref.field)
        if natural_id is None or natural_id == ref.unless:
            continue
        found.subjects.add(natural_id)
        if ref.kind not in OWNER_FIELDS:
            continue
        if ref.creates:
            owners = tuple(data[name] for name in OWNER_FIELDS[ref.kind])
            if ref.kind == "trade":
                owners = _trade_owners(data, owners_of) + owners
            owners = tuple(dict.fromkeys(owners))
            found.created[(ref.kind, natural_id)] = owners
        else:
            owners = owners_of((ref.kind, natural_id))
        found.subjects.update(owners)
    for name in EXTRA_SUBJECTS.get(event_type, ()):
        if isinstance(value := data.get(name), str):
            found.subjects.add(value)
    return found


def _trade_owners(data: Mapping[str, Any], owners_of: Callable[[EntityKey], Owners]) -> Owners:
    return owners_of(("order", data["buy_order_id"])) + owners_of(("order", data["sell_order_id"]))


def case_concerns(fact: CaseFact) -> set[str]:
    """A case action is filed under its finding, its actor and the officer it assigns."""
    subjects = {fact.finding_id, fact.actor}
    if isinstance(assignee := fact.details.get("assignee"), str):
        subjects.add(assignee)
    return subjects
