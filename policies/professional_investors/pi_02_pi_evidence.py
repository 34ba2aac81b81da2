"""PI-02 Professional-investor evidence.

A professional client that is not institutional may place perpetual orders or deposit
perpetual margin only with a current professional-investor assessment on file: one assessed
no more than ``evidence_validity_days`` before the event's date (counted in whole days in
Hong Kong time) that meets the Cap. 571D threshold for its client type: individuals a
portfolio of at least ``individual_portfolio``; corporations and partnerships a portfolio of
at least ``corporate_portfolio`` or total assets of at least ``corporate_total_assets``;
trust corporations total assets of at least ``trust_total_assets``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.book.entities import Client, PIEvidence
from domain.events import PerpMarginDeposited, PerpOrderPlaced
from policies.finding import Finding, finding
from policies.professional_investors.citations import PI_RULES
from policies.rule import Context, Parameter, ParamsInForce, Rule, Severity, Trigger

RULE_ID = "PI-02"
TITLE = "Professional-investor evidence"
SEVERITY: Severity = "high"
CITATION = PI_RULES
PARAMETERS = (
    Parameter("individual_portfolio", "decimal", Decimal("8000000")),
    Parameter("corporate_portfolio", "decimal", Decimal("8000000")),
    Parameter("corporate_total_assets", "decimal", Decimal("40000000")),
    Parameter("trust_total_assets", "decimal", Decimal("40000000")),
    Parameter("evidence_validity_days", "positive_int", 365),
)
HONG_KONG = ZoneInfo("Asia/Hong_Kong")


def _at_least(value: Decimal | None, threshold: Decimal) -> bool:
    return value is not None and value >= threshold


def _meets_threshold(client_type: str, pi: PIEvidence, params: ParamsInForce) -> bool:
    def p(name: str) -> Decimal:
        return params.decimal(RULE_ID, name)

    if client_type == "individual":
        return _at_least(pi.portfolio, p("individual_portfolio"))
    if client_type in ("corporation", "partnership"):
        return _at_least(pi.portfolio, p("corporate_portfolio")) or _at_least(
            pi.total_assets, p("corporate_total_assets")
        )
    if client_type == "trust_corporation":
        return _at_least(pi.total_assets, p("trust_total_assets"))
    raise AssertionError(f"no threshold for client type {client_type!r}")


def shortcomings(client: Client, ctx: Context) -> list[str]:
    """What is wrong with the client's evidence at the event's time (empty when nothing)."""
    pi = client.pi_assessment
    if pi is None:
        return ["no professional-investor assessment is on file"]
    found = []
    validity_days = ctx.params.integer(RULE_ID, "evidence_validity_days")
    # Reading: an assessment dated after the event (negative age) is not stale.
    age_days = (ctx.now.astimezone(HONG_KONG).date() - pi.assessed_on).days
    if age_days > validity_days:
        found.append(
            f"the assessment of {pi.assessed_on.isoformat()} is {age_days} days old, "
            f"more than the {validity_days} allowed"
        )
    if not _meets_threshold(client.client_type, pi, ctx.params):
        found.append(f"the assessment is below the Cap. 571D threshold for client type {client.client_type}")
    return found


def _judge(ctx: Context, client_id: str, action: str) -> Iterator[Finding]:
    client = ctx.book.client(client_id)
    if client is None or client.investor_class != "professional":
        return
    if client.client_type == "institutional":
        return
    found = shortcomings(client, ctx)
    if found:
        pi = client.pi_assessment
        yield finding(
            RULE, ctx, client_id,
            f"Professional client {client_id} {action} but {'; and '.join(found)}.",
            {
                "client_type": client.client_type,
                "shortcomings": found,
                "portfolio": None if pi is None else pi.portfolio,
                "total_assets": None if pi is None else pi.total_assets,
                "assessed_on": None if pi is None else pi.assessed_on,
                "event_date_hk": ctx.now.astimezone(HONG_KONG).date(),
            },
        )


def on_order(ctx: Context) -> Iterator[Finding]:
    order = ctx.data(PerpOrderPlaced)
    return _judge(ctx, order.client_id, f"placed perpetual order {order.order_id}")


def on_deposit(ctx: Context) -> Iterator[Finding]:
    deposit = ctx.data(PerpMarginDeposited)
    return _judge(ctx, deposit.client_id, f"deposited perpetual margin ({deposit.deposit_id})")


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(
        Trigger(PerpOrderPlaced, "before", on_order),
        Trigger(PerpMarginDeposited, "before", on_deposit),
    ),
)
