"""The ledger's aggregates: what must hold before an event becomes a fact.

The storage layer drives it: ``references`` and ``prefetch`` for a batch, then ``accept``
per event in ledger order, then ``drain_changes`` to write the records it changed in the
same transaction as the events. ``clear`` when another writer may have changed the store.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from domain.errors import EventRejected, Reason
from domain.events import Envelope, RuleParameterAmended
from domain.events.reasons import quoted
from domain.parameters import ParameterType, coerce_parameter
from domain.registry.aggregates import EntityKey, OrderRecord
from domain.registry.cache import Loader, RecordCache
from domain.registry.invariants import CHECKS
from domain.registry.references import already_exists, referenced, unknown
from domain.registry.transitions import APPLIES

ParameterCatalogue = Mapping[str, Mapping[str, ParameterType]]

_TYPE_WORDS: Mapping[ParameterType, str] = {
    "rate": "a rate",
    "decimal": "a decimal",
    "positive_int": "a whole number greater than 0",
    "asset_list": "a list of asset symbols",
}


class Registry:
    def __init__(self, loader: Loader, parameter_catalogue: ParameterCatalogue):
        self._records = RecordCache(loader)
        self._catalogue = parameter_catalogue

    def references(self, envelope: Envelope) -> set[EntityKey]:
        """The keys the event reads or creates (first level only)."""
        return {key for _, key in referenced(envelope.type, envelope.data)}

    def prefetch(self, keys: Collection[EntityKey]) -> None:
        """Load ``keys`` in one call, then the clients of the orders among them in another."""
        self._records.load(keys)
        clients = []
        for kind, natural_id in keys:
            if kind == OrderRecord.KIND and (order := self._records.get(OrderRecord, natural_id)):
                clients.append(("client", order.client_id))
        self._records.load(clients)

    def check(self, envelope: Envelope, stored: bool = False) -> None:
        """Raise ``EventRejected`` with every reason the event is impossible now.
        ``stored``: an event the ledger already holds (an import), in its stored form."""
        taken, missing = self._reference_reasons(envelope)
        reasons = taken + missing
        if isinstance(envelope.data, RuleParameterAmended):
            reasons += self._amendment_reasons(envelope.data, stored)
        # State checks judge entities that exist; after a missing one they would only echo it.
        if not missing and (check := CHECKS.get(type(envelope.data))):
            reasons += check(self._records, envelope.data)
        if reasons:
            raise EventRejected(reasons, envelope.event_id)

    def apply(self, envelope: Envelope) -> None:
        """Change the records for an event already checked."""
        if apply := APPLIES.get(type(envelope.data)):
            apply(self._records, envelope.data)

    def accept(self, envelope: Envelope, stored: bool = False) -> None:
        self.check(envelope, stored)
        self.apply(envelope)

    def drain_changes(self) -> list[tuple[str, str, str]]:
        """``(kind, natural id, JSON)`` of each record changed since the last drain."""
        return self._records.drain()

    def clear(self) -> None:
        """Forget every record, changed ones included: the store is the truth again."""
        self._records.clear()

    def trim(self, max_records: int) -> None:
        """Evict the least recently used unchanged records beyond ``max_records``."""
        self._records.trim(max_records)

    def _reference_reasons(self, envelope: Envelope) -> tuple[list[Reason], list[Reason]]:
        """Reasons for ids already taken, and for entities that do not exist."""
        taken, missing = [], []
        for reference, key in referenced(envelope.type, envelope.data):
            exists = self._records.exists(key)
            if reference.creates and exists:
                taken.append(Reason(f"data.{reference.field}", already_exists(reference, key[1])))
            elif not reference.creates and not exists:
                missing.append(Reason(f"data.{reference.field}", unknown(reference, key[1])))
        return taken, missing

    def _amendment_reasons(self, data: RuleParameterAmended, stored: bool) -> list[Reason]:
        parameters = self._catalogue.get(data.rule_id)
        if parameters is None:
            return [Reason("data.rule_id", f"unknown rule {quoted(data.rule_id)}")]
        kind = parameters.get(data.parameter)
        if kind is None:
            declared = ", ".join(sorted(parameters)) or "none"
            reason = f"rule {data.rule_id} has no parameter {quoted(data.parameter)}"
            return [Reason("data.parameter", f"{reason} (it has: {declared})")]
        try:
            coerce_parameter(kind, data.value, stored)
        except ValueError as error:
            reason = f"{error} ({data.parameter} is {_TYPE_WORDS[kind]})"
            return [Reason("data.value", reason)]
        return []
