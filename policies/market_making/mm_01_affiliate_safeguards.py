"""MM-01 Affiliate market-making only with its safeguards.

An affiliate of the platform operator may make markets only while it keeps all four
safeguards: an information barrier, functional independence, conflict monitoring and
client priority. Every order from its account is judged with its controls at that time.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import PerpOrderPlaced
from policies.finding import Finding, finding
from policies.market_making.circular import CIRCULAR
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MM-01"
TITLE = "Affiliate market-making only with its safeguards"
SEVERITY: Severity = "high"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()


def on_order(ctx: Context) -> Iterator[Finding]:
    order = ctx.data(PerpOrderPlaced)
    client = ctx.book.client(order.client_id)
    mm = None if client is None else ctx.book.affiliate_of(client)
    if mm is not None and mm.missing_controls:
        missing = mm.missing_controls
        yield finding(
            RULE, ctx, mm.mm_id,
            f"Affiliate market maker {mm.mm_id} placed order {order.order_id} through account "
            f"{order.client_id} without {', '.join(m.replace('_', ' ') for m in missing)}.",
            {"order_id": order.order_id, "client_id": order.client_id,
             "missing_controls": list(missing)},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(PerpOrderPlaced, "before", on_order),),
)
