"""One client on one page, for the CLI (``regledger client ID``) and the console: identity and
classification, accounts, the current state (lending value, debt, shortfall, perpetual equity
and margins), its findings with their cases (open first) and its recent activity.

"Current" is the ledger's tip, replayed from the newest midnight snapshot. A finding belongs to
the client when its subject is the client or one of its entities (account, pledge, loan,
margin call, order, trade: the audit index's owners); contract- and market-maker-wide
findings (PERP-01, MM-01 ...) belong to no one client and are not shown here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.errors import NotFound
from ops.render import finding_json
from projections.asof import client_state, replay
from projections.asof.replay import Replay
from projections.audit import AuditQuery, audit_events
from projections.audit.query import owners_of
from projections.cases import case_summary
from projections.explain.plain import WIDE
from projections.store.base import FindingFilter, Store

RECENT_EVENTS = 25
FINDINGS_SCANNED_MAX = 20_000  # a client page reads at most this many findings of the ledger


def owning_client(state: Replay, store: Store, subject: str) -> str | None:
    """The client a subject is or belongs to, if any."""
    book = state.engine.book
    if book.client(subject) is not None:
        return subject
    for owners in owners_of(store, subject).values():
        for owner in owners:
            if book.client(owner) is not None:
                return owner
    return None


def client_view(store: Store, subject: str) -> dict[str, Any]:
    state = replay(store, from_snapshot=True)
    client_id = owning_client(state, store, subject)
    if client_id is None:
        raise NotFound(f"{subject!r} is not a client and belongs to none in the ledger")
    figures = client_state(state, client_id)
    shortfall = max(WIDE.subtract(Decimal(figures["debt"]), Decimal(figures["lending_value"])), Decimal(0))
    onboarded = audit_events(store, AuditQuery(subject=client_id, types=("ClientOnboarded",), limit=1))
    return {
        "client_id": client_id,
        "ledger_position": figures["ledger_position"],
        "identity": {
            "client_type": figures["client_type"], "investor_class": figures["investor_class"],
            "pi_assessment": figures["pi_assessment"], "market_maker_id": figures["market_maker_id"],
            "derivatives_knowledge": figures["derivatives_knowledge"],
            "risk_disclosures": figures["risk_disclosures"],
            "onboarded_at": onboarded[0].occurred_at.isoformat() if onboarded else None,
        },
        "accounts": figures["accounts"],
        "state": {
            "lending_value": figures["lending_value"], "debt": figures["debt"], "short": figures["short"],
            "shortfall": str(shortfall),
            "margin_balance": figures["margin_balance"], "equity": figures["equity"],
            "initial_requirement": figures["initial_requirement"],
            "maintenance_requirement": figures["maintenance_requirement"],
            "below_maintenance": figures["below_maintenance"],
        },
        "pledges": figures["pledges"], "loans": figures["loans"],
        "open_margin_calls": figures["open_margin_calls"],
        "perpetual_positions": figures["perpetual_positions"], "margin_assets": figures["margin_assets"],
        "findings": _findings(store, state, client_id, figures),
        "recent_activity": [
            e.as_json() for e in audit_events(store, AuditQuery(subject=client_id, limit=RECENT_EVENTS, newest_first=True))
        ][::-1],
    }


def _findings(store: Store, state: Replay, client_id: str, figures: dict[str, Any]) -> list[dict[str, Any]]:
    mine = {client_id, *(a["account_id"] for a in figures["accounts"]), *(p["pledge_id"] for p in figures["pledges"]),
            *(loan["loan_id"] for loan in figures["loans"]), *(c["call_id"] for c in figures["open_margin_calls"])}
    book = state.engine.book
    owner: dict[str, bool] = {}
    found = []
    for row in store.findings(FindingFilter(limit=FINDINGS_SCANNED_MAX)):
        subject = row.subject
        if subject not in mine:
            if subject not in owner:  # an order, trade, closed pledge ...: asked of the audit index once
                owner[subject] = book.client(subject) is None and owning_client(state, store, subject) == client_id
            if not owner[subject]:
                continue
        summary = case_summary(store, row.finding_id)
        found.append({
            **finding_json(row),
            "case_status": "open" if summary is None else summary.status,
            "assignee": None if summary is None else summary.assignee,
        })
    # Open and acknowledged cases first, each group newest first: what needs work on top.
    found.sort(key=lambda f: (f["case_status"] == "resolved", -f["position"]))
    return found


def as_text(view: dict[str, Any]) -> str:
    from projections.explain.plain import money, money_in_text, when

    i, s = view["identity"], view["state"]
    out = [f"Client {view['client_id']} (ledger position {view['ledger_position']})", ""]
    out.append(f"  {i['client_type']}, {i['investor_class']} investor; onboarded {when(i['onboarded_at'])}"
               + (f"; market maker {i['market_maker_id']}" if i["market_maker_id"] else ""))
    if i["pi_assessment"]:
        pi = i["pi_assessment"]
        out.append(f"  professional-investor evidence: portfolio {money(pi['portfolio'])}, assessed on {pi['assessed_on']}")
    out.append(f"  derivatives knowledge: {'yes' if i['derivatives_knowledge'] else 'no'};"
               f" risk disclosures: {', '.join(i['risk_disclosures']) or 'none'}")
    out += ["", "Accounts"]
    out += [f"  {a['account_id']} {'open' if a['open'] else 'closed'}: credit limit {money(a['credit_limit'])},"
            f" marginable value {money(a['marginable_value'])}, loan balance {money(a['loan_balance'])}"
            for a in view["accounts"]] or ["  none"]
    out += ["", "Current state",
            f"  lending value {money(s['lending_value'])}; debt {money(s['debt'])};"
            f" shortfall {money(s['shortfall'])}{' (SHORT)' if s['short'] else ''}",
            f"  perpetuals: margin balance {money(s['margin_balance'])}; equity {money(s['equity'])};"
            f" initial requirement {money(s['initial_requirement'])}; maintenance {money(s['maintenance_requirement'])}"
            f"{' (BELOW MAINTENANCE)' if s['below_maintenance'] else ''}"]
    out += ["", "Findings and cases"]
    out += [f"  {f['case_status']:<12} {f['severity']:<8} {f['rule_id']:<7} {f['finding_id']}  {money_in_text(f['message'])}"
            for f in view["findings"]] or ["  none"]
    out += ["", f"Recent activity (last {len(view['recent_activity'])} events)"]
    out += [f"  {e['position']:>8}  {when(e['occurred_at'])}  {e['type']}  {e['event_id']}" for e in view["recent_activity"]]
    return "\n".join(out) + "\n"
