"""MM-04 Information barrier.

An affiliate market maker must not access the platform's client data (client orders,
positions or identities); only market data.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import DataAccessed
from policies.finding import Finding, finding
from policies.market_making.circular import CIRCULAR
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MM-04"
TITLE = "Information barrier"
SEVERITY: Severity = "critical"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()


def on_access(ctx: Context) -> Iterator[Finding]:
    access = ctx.data(DataAccessed)
    mm = ctx.book.market_maker(access.actor_entity)
    if mm is not None and mm.affiliate and access.dataset != "market_data":
        yield finding(
            RULE, ctx, mm.mm_id,
            f"{access.actor_id} of affiliate market maker {mm.mm_id} accessed "
            f"{access.record_count} records of {access.dataset.replace('_', ' ')}.",
            {"actor_id": access.actor_id, "dataset": access.dataset,
             "record_count": access.record_count},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(DataAccessed, "before", on_access),),
)
