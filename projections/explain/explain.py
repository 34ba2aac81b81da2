"""Why a finding fired: the finding, its rule, the parameters in force, the triggering event,
and the state it judged with the events that produced it.

The judged state is the book right after the triggering event in ledger order (for a missed
deadline, the event that opened the obligation; for a rule judging "the state before E", the
state before and after E differ only by E, which is shown). Evidence events are looked up in
the audit index: the scope's own events of the rule family's types, the latest price of every
asset valued, and the amendments of the parameters the rule uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from domain.book.money import exact
from domain.errors import NotFound
from policies import system
from policies.registry import RULES_BY_ID
from policies.rule import Rule
from projections.asof.replay import Replay, replay
from projections.asof.state import client_figures, contract_figures, header, market_maker_state
from projections.audit.query import (
    AuditEntry,
    AuditQuery,
    audit_events,
    entries_at,
    event_at,
    owners_of,
)
from projections.explain.citations import citation, plain_obligation
from projections.explain.supervisory import explain_alert, is_supervisory
from projections.store.base import FindingRow, Store

EVIDENCE_PER_SUBJECT_MAX = 200

_ACCOUNTS = ("SecuritiesMarginAccountOpened", "CreditLimitChanged", "SecuritiesMarginAccountClosed",
             "SecuritiesMarginPositionReported")
_COLLATERAL = ("CollateralPledged", "CollateralHaircutChanged", "CollateralReleased", "CollateralTransferred")
_FINANCING = ("VAFinancingDrawn", "VAFinancingRepaid", "MarginCallIssued", "MarginCallResolved")
_PROFILE = ("ClientOnboarded", "ClientReclassified", "DerivativesKnowledgeAssessed",
            "RiskDisclosureAcknowledged")
_PERPS = ("PerpContractListed", "PerpContractDelisted", "PerpMarginDeposited", "PerpMarginWithdrawn",
          "PerpOrderPlaced", "PerpOrderCancelled", "PerpTradeExecuted", "PerpTradeSettled",
          "PositionLiquidated", "FundingSettled", "LossAllocated", "InsuranceFundChanged")
_MARKET_MAKING = ("MarketMakerRegistered", "MarketMakerControlsChanged", "DataAccessed")
# The event types whose facts a family of rules judges.
FAMILY_TYPES: dict[str, tuple[str, ...]] = {
    "MF": (*_PROFILE, *_ACCOUNTS, *_COLLATERAL, *_FINANCING),
    "PI": (*_PROFILE, "PerpOrderPlaced", "PerpMarginDeposited", "VAFinancingDrawn"),
    "PERP": (*_PROFILE, *_PERPS),
    "MM": (*_PROFILE, *_MARKET_MAKING, "PerpOrderPlaced", "PerpOrderCancelled", "PerpTradeExecuted"),
}


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "rule_id": rule.rule_id, "title": rule.title, "severity": rule.severity,
        "citation": citation(rule.rule_id).text(), "citation_detail": citation(rule.rule_id).as_json(),
        "obligation": plain_obligation(rule.obligation),
        "parameters_declared": [
            {"name": p.name, "type": p.type,
             "default": list(p.default) if isinstance(p.default, tuple) else str(p.default)}
            for p in rule.parameters
        ],
        "uses": [f"{rule_id}.{name}" for rule_id, name in rule.uses],
    }


def explain(store: Store, finding: FindingRow) -> dict[str, Any]:
    if is_supervisory(finding.rule_id):
        return explain_alert(store, finding)
    trigger = event_at(store, finding.event_id)
    if trigger is None:
        raise NotFound(f"the triggering event {finding.event_id!r} is not in the ledger")
    if finding.rule_id == system.RULE_ID:
        return _unevaluable(finding, trigger)
    rule = RULES_BY_ID[finding.rule_id]
    detected = None
    if finding.position != trigger.position:
        detected = next(iter(entries_at(store, [finding.position])), None)
    state = replay(store, through=trigger.position, from_snapshot=True)
    scope = _scope(store, state, finding.subject)
    judged, assets = _judged(state, scope)
    types = FAMILY_TYPES[finding.rule_id.split("-")[0]]
    evidence = _evidence(store, scope.all, types, trigger.position)
    evidence.update(_by_position(_price_events(store, state, assets)))
    evidence.update(_by_position(_amendments(store, rule, trigger.position)))
    evidence[trigger.position] = trigger
    _attach_event_ids(judged, evidence.values())
    return {
        "rule": rule_json(rule),
        "parameters_in_force": _parameters(finding),
        "triggering_event": trigger.as_json(),
        "detected_by": None if detected is None else detected.as_json(),
        "judged_state": {**header(state), **judged},
        "evidence_events": [evidence[p].as_json() for p in sorted(evidence)],
    }


def _unevaluable(finding: FindingRow, trigger: AuditEntry) -> dict[str, Any]:
    """SYS-01: the event no rule could judge, as the ledger holds it. No state is shown: the
    event changed none, and replaying up to it may meet what made it fail."""
    return {
        "rule": {
            "rule_id": system.RULE_ID, "title": system.TITLE, "severity": system.SEVERITY,
            "citation": None, "obligation": system.OBLIGATION, "parameters_declared": [],
            "uses": [],
        },
        "parameters_in_force": _parameters(finding),
        "triggering_event": trigger.as_json(),
        "detected_by": None,
        "judged_state": None,
        "evidence_events": [trigger.as_json()],
    }


def _parameters(finding: FindingRow) -> Any:
    return json.loads(finding.parameters)


class _Scope:
    def __init__(self) -> None:
        self.clients: list[str] = []
        self.contracts: list[str] = []
        self.market_makers: list[str] = []
        self.others: list[str] = []

    @property
    def all(self) -> list[str]:
        return list(dict.fromkeys([*self.others, *self.clients, *self.contracts, *self.market_makers]))


def _scope(store: Store, state: Replay, subject: str) -> _Scope:
    """The entities a finding's subject stands for: itself, and the owners of it."""
    book = state.engine.book
    scope = _Scope()
    candidates = [subject]
    for owners in owners_of(store, subject).values():
        scope.others.append(subject)
        candidates.extend(owners)
    for natural_id in dict.fromkeys(candidates):
        if book.client(natural_id) is not None:
            scope.clients.append(natural_id)
        elif book.contract(natural_id) is not None:
            scope.contracts.append(natural_id)
        elif book.market_maker(natural_id) is not None:
            scope.market_makers.append(natural_id)
        elif natural_id not in scope.others:
            scope.others.append(natural_id)
    return scope


def _judged(state: Replay, scope: _Scope) -> tuple[dict[str, Any], set[str]]:
    book = state.engine.book
    assets: set[str] = set()
    clients, contracts = [], []
    with exact():
        for client_id in scope.clients:
            client = book.clients[client_id]
            clients.append({"client_id": client_id, **client_figures(state, client)})
            assets.update(p.asset for p in client.pledges.values() if p.is_open)
            assets.update(client.margin)
            for contract_id in client.positions:
                contract = book.contracts[contract_id]
                assets.add(contract.reference_asset)
        for contract_id in scope.contracts:
            contract = book.contracts[contract_id]
            contracts.append({"contract_id": contract_id, **contract_figures(state, contract)})
            assets.add(contract.reference_asset)
    makers = [market_maker_state(state, mm_id) for mm_id in scope.market_makers]
    for maker in makers:
        for key in ("as_of", "ledger_position", "events_applied", "left_out", "left_out_count"):
            maker.pop(key, None)
    return {"clients": clients, "contracts": contracts, "market_makers": makers}, assets


def _evidence(store: Store, subjects: Iterable[str], types: tuple[str, ...], through: int) -> dict[int, AuditEntry]:
    found: dict[int, AuditEntry] = {}
    for subject in subjects:
        query = AuditQuery(
            subject=subject, types=types, through=through, limit=EVIDENCE_PER_SUBJECT_MAX,
            newest_first=True,
        )
        found.update(_by_position(audit_events(store, query)))
    return found


def _price_events(store: Store, state: Replay, assets: Iterable[str]) -> list[AuditEntry]:
    positions = [
        event.position for asset in sorted(assets)
        if (event := state.last("PriceObserved", asset)) is not None
    ]
    return entries_at(store, positions)


def _amendments(store: Store, rule: Rule, through: int) -> list[AuditEntry]:
    rule_ids = dict.fromkeys([rule.rule_id, *(rule_id for rule_id, _ in rule.uses)])
    found: list[AuditEntry] = []
    for rule_id in rule_ids:
        query = AuditQuery(subject=rule_id, types=("RuleParameterAmended",), through=through,
                           limit=EVIDENCE_PER_SUBJECT_MAX, newest_first=True)
        found.extend(audit_events(store, query))
    return found


def _by_position(entries: Iterable[AuditEntry]) -> dict[int, AuditEntry]:
    return {entry.position: entry for entry in entries}


def _attach_event_ids(judged: dict[str, Any], evidence: Iterable[AuditEntry]) -> None:
    """Beside each pledge, loan, account, call, margin asset and position: the ids of the
    evidence events that name it (and for a valued asset, its price event)."""
    events = sorted(evidence, key=lambda e: e.position)
    prices = {e.data.get("asset"): e.event_id for e in events if e.type == "PriceObserved"}
    for client in judged["clients"]:
        for key, field in (("accounts", "account_id"), ("pledges", "pledge_id"), ("loans", "loan_id"),
                           ("open_margin_calls", "call_id"), ("perpetual_positions", "contract_id")):
            for item in client[key]:
                item["event_ids"] = [e.event_id for e in events if e.data.get(field) == item[field]]
        for pledge in client["pledges"]:
            pledge["price_event_id"] = prices.get(pledge["asset"])
        for margin in client["margin_assets"]:
            margin["price_event_id"] = prices.get(margin["asset"])
