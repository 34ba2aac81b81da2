"""The rulebook: every rule, once, in rulebook order; the client statuses the rules watch; and
the tables the monitor dispatches on. The monitor reads rules and statuses from here only."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.events import Payload
from domain.parameters import ParameterType, ParameterValue
from policies.margin_financing import (
    mf_01_securities_margin_clients,
    mf_02_no_credit_limit_increase,
    mf_03_within_credit_limit,
    mf_04_eligible_collateral,
    mf_05_min_haircut,
    mf_06_within_lending_value,
    mf_07_timely_margin_call,
    mf_08_margin_call_enforced,
    mf_09_no_advance_during_call,
    mf_10_no_rehypothecation,
)
from policies.margin_financing.collateral import SHORT
from policies.market_making import (
    mm_01_affiliate_safeguards,
    mm_02_activity_identified,
    mm_03_client_orders_first,
    mm_04_information_barrier,
)
from policies.perpetuals import (
    perp_01_eligible_reference,
    perp_02_permitted_margin_assets,
    perp_03_no_credit_for_margin,
    perp_04_margin_before_order,
    perp_05_platform_settlement,
    perp_06_timely_liquidation,
    perp_07_insurance_fund_first,
    perp_08_daily_funding,
)
from policies.perpetuals.maintenance import BELOW_MAINTENANCE
from policies.professional_investors import (
    pi_01_professional_only,
    pi_02_pi_evidence,
    pi_03_derivatives_knowledge,
    pi_04_risk_disclosure,
)
from policies.rule import Rule, Trigger
from policies.status import ClientStatus

RULES: tuple[Rule, ...] = (
    pi_01_professional_only.RULE,
    pi_02_pi_evidence.RULE,
    pi_03_derivatives_knowledge.RULE,
    pi_04_risk_disclosure.RULE,
    mf_01_securities_margin_clients.RULE,
    mf_02_no_credit_limit_increase.RULE,
    mf_03_within_credit_limit.RULE,
    mf_04_eligible_collateral.RULE,
    mf_05_min_haircut.RULE,
    mf_06_within_lending_value.RULE,
    mf_07_timely_margin_call.RULE,
    mf_08_margin_call_enforced.RULE,
    mf_09_no_advance_during_call.RULE,
    mf_10_no_rehypothecation.RULE,
    perp_01_eligible_reference.RULE,
    perp_02_permitted_margin_assets.RULE,
    perp_03_no_credit_for_margin.RULE,
    perp_04_margin_before_order.RULE,
    perp_05_platform_settlement.RULE,
    perp_06_timely_liquidation.RULE,
    perp_07_insurance_fund_first.RULE,
    perp_08_daily_funding.RULE,
    mm_01_affiliate_safeguards.RULE,
    mm_02_activity_identified.RULE,
    mm_03_client_orders_first.RULE,
    mm_04_information_barrier.RULE,
)

RULES_BY_ID: Mapping[str, Rule] = MappingProxyType({rule.rule_id: rule for rule in RULES})
assert len(RULES_BY_ID) == len(RULES), "a rule id is registered twice"


def parameter_catalogue() -> dict[str, dict[str, ParameterType]]:
    """Every rule's declared parameters and their types (what an amendment may name)."""
    return {rule.rule_id: {p.name: p.type for p in rule.parameters} for rule in RULES}


def default_parameters() -> dict[tuple[str, str], ParameterValue]:
    """The rulebook default of every parameter, by (rule id, parameter)."""
    return {(rule.rule_id, p.name): p.default for rule in RULES for p in rule.parameters}


def _triggers() -> Mapping[type[Payload], tuple[tuple[Rule, Trigger], ...]]:
    table: dict[type[Payload], list[tuple[Rule, Trigger]]] = {}
    for rule in RULES:
        for trigger in rule.triggers:
            table.setdefault(trigger.event, []).append((rule, trigger))
    return MappingProxyType({event: tuple(pairs) for event, pairs in table.items()})


TRIGGERS = _triggers()  # payload class -> the rules that name it, in rulebook order
STATUS_WATCHERS: tuple[Rule, ...] = tuple(r for r in RULES if r.status_watch is not None)
AMENDMENT_WATCHERS: tuple[Rule, ...] = tuple(r for r in RULES if r.amendment_watch is not None)
# Step (5): the statuses stored on every client, in the order the monitor evaluates them.
CLIENT_STATUSES: tuple[ClientStatus, ...] = (SHORT, BELOW_MAINTENANCE)
assert all(
    r.status_watch.status in CLIENT_STATUSES for r in STATUS_WATCHERS if r.status_watch is not None
), "a rule watches a status the registry does not list"
