"""A finding's explanation as a compliance officer reads and signs it: what the rule requires
and where it comes from, what happened, the arithmetic written out with the figures, the
parameters in force (since when, set by which amendment) and the events behind it.

Built from the explanation's JSON (``explain``), so the words never say more than the
record: every figure here is one of the judged state's, only rounded for reading (money to
cents, with thousands separators; the JSON keeps them exact).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

from projections.explain.citations import citation, plain_obligation

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
CENT = Decimal("0.01")
# Figures are exact decimal strings up to the value bounds (40 digits, and products of them):
# the arithmetic shown is worked in a context wide enough never to round or overflow them.
WIDE = Context(prec=400, Emax=10_000, Emin=-10_000)
EVENT_FIELDS_SHOWN_MAX = 6
# The families whose rules judge a client's lending value and debt, and its perpetual margin.
_LENDING = ("MF-",)
_PERPETUAL = ("PERP-", "PI-")


def money(value: str | Decimal | int | None, currency: str = "HKD") -> str:
    """``HKD 1,775,437.25``: to the cent, half up, as a statement of account rounds."""
    amount = Decimal(0 if value is None else value).quantize(CENT, ROUND_HALF_UP, context=WIDE)
    return f"{currency} {amount:,.2f}"


# Money in a finding's message: HKD (the one currency the ledger values in) next to an amount,
# shown to the cent with thousands separators. Asset quantities (BTC 0.12345678) are not money
# and keep every digit; JSON keeps the exact amounts.
HKD_AMOUNT = re.compile(r"\bHKD (-?[0-9]+(?:\.[0-9]+)?)\b")
AMOUNT_HKD = re.compile(r"(?<![\w.,-])(-?[0-9]+(?:\.[0-9]+)?) HKD\b")  # "of 20000 HKD"


def money_in_text(text: str) -> str:
    """``owes HKD 1775437.24647363578`` as ``owes HKD 1,775,437.25``; worked in ``WIDE`` so an
    amount of 40 digits (the value bounds) is rounded, never an error."""
    text = HKD_AMOUNT.sub(lambda m: money(m.group(1)), text)
    return AMOUNT_HKD.sub(lambda m: money(m.group(1))[len("HKD "):] + " HKD", text)


def quantity(value: str | Decimal) -> str:
    number = Decimal(value)
    return f"{number.normalize():,f}" if number == number.to_integral() else f"{number:,f}"


def when(text: str | None) -> str:
    if not text:
        return "-"
    try:
        moment = datetime.fromisoformat(text).astimezone(HONG_KONG)
    except OverflowError:  # a stored time at the very edge of the calendar: shown as sent
        return text
    return moment.strftime("%Y-%m-%d %H:%M:%S") + " HKT"


def plain(x: dict[str, Any]) -> dict[str, Any]:
    with localcontext(WIDE):
        return _plain(x)


def _plain(x: dict[str, Any]) -> dict[str, Any]:
    finding, rule = x["finding"], x["rule"]
    rule_id = finding["rule_id"]
    if "supervision" in x:
        return _plain_alert(x)
    cited = None if rule_id.startswith("SYS-") else citation(rule_id)
    judged = x.get("judged_state") or {}
    clients = judged.get("clients") or []
    return {
        "finding_id": finding["finding_id"],
        "headline": f"{rule_id} {rule['title']} ({finding['severity']})",
        "requires": plain_obligation(rule["obligation"]),
        "citation": None if cited is None else cited.text(),
        "citation_note": None if cited is None or not cited.note else cited.note,
        "happened": money_in_text(finding["message"]),
        "occurred_at": when(finding["occurred_at"]),
        "detected_at": when(finding["detected_at"]),
        "subject": finding["subject"],
        "client_id": clients[0]["client_id"] if clients else None,
        "case_status": x.get("case", {}).get("status", "open"),
        "arithmetic": [line for client in clients for line in arithmetic(rule_id, client)],
        "parameters": parameters(x),
        "events": [event_line(e, x["triggering_event"]["event_id"]) for e in x["evidence_events"]],
    }


def _plain_alert(x: dict[str, Any]) -> dict[str, Any]:
    """A supervisory alert (SUP-01..SUP-04): what the regulator's follower saw on the firm's
    feed, the position or finding concerned, its settings, and what to do next."""
    finding, rule, s = x["finding"], x["rule"], x["supervision"]
    trigger = (x["triggering_event"] or {}).get("event_id")
    options = {p["name"]: p["option"] for p in rule["parameters_declared"]}
    concerned = s["concerned"]
    lines = [f"ledger position {concerned['position']}"
             + (f": {concerned['what']}" if concerned.get("what") else "")]
    if concerned.get("regulator_copy"):
        lines.append(f"the regulator's copy {concerned['regulator_copy']}")
    if concerned.get("finding"):
        f = concerned["finding"]
        held = "the regulator's store holds it" if f["held_by_the_regulator"] else "the regulator's store does not hold it"
        lines.append(f"finding {f['finding_id']} ({f['rule_id']} on {f['subject']}): {held}")
    return {
        "finding_id": finding["finding_id"],
        "headline": f"{finding['rule_id']} {rule['title']} ({finding['severity']})",
        "requires": rule["obligation"],
        "citation": "the regulator's supervisory checks (regledger supervise run), not a rule of the rulebook",
        "citation_note": None,
        "happened": finding["message"],
        "occurred_at": when(finding["occurred_at"]),
        "detected_at": when(finding["detected_at"]),
        "subject": finding["subject"],
        "client_id": None,
        "case_status": x.get("case", {}).get("status", "open"),
        "arithmetic": [],
        "seen": [f"{k}: {_fact(v)}" for k, v in s["seen"].items()],
        "concerned": lines,
        "parameters": [
            {"name": f"{rule['rule_id']}.{name}", "value": ", ".join(value) if isinstance(value, list) else str(value),
             "since": f"the regulator's setting (regledger supervise run {options.get(name, '')})".replace(" )", ")"),
             "set_by": None}
            for name, value in (x["parameters_in_force"] or {}).items()
        ],
        "next_steps": s["next_steps"],
        "events": [event_line(e, trigger or "") for e in x["evidence_events"]],
    }


def arithmetic(rule_id: str, client: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if rule_id.startswith(_LENDING):
        lines += lending(client)
    if rule_id.startswith(_PERPETUAL) and (client["perpetual_positions"] or client["margin_assets"]):
        lines += perpetual(client)
    return lines


def lending(c: dict[str, Any]) -> list[str]:
    """Lending value and debt as the rulebook defines them, term by term."""
    who = c["client_id"]
    terms, lines = [], []
    for a in c["accounts"]:
        if a["open"]:
            terms.append(Decimal(a["marginable_value"]))
            lines.append(f"{who}: securities margin account {a['account_id']}: marginable value {money(a['marginable_value'])}")
    for p in c["pledges"]:
        if not p["open"]:
            continue
        if not p["eligible"]:
            lines.append(f"{who}: pledge {p['pledge_id']}: {quantity(p['quantity'])} {p['asset']} is not eligible collateral and adds nothing")
            continue
        terms.append(Decimal(p["lending_value"]))
        lines.append(
            f"{who}: pledge {p['pledge_id']}: {quantity(p['quantity'])} {p['asset']} x {money(p['price'])}"
            f" x (1 - {p['haircut_applied']}) = {money(p['lending_value'])}"
        )
    lv, debt = Decimal(c["lending_value"]), Decimal(c["debt"])
    lines.append(f"{who}: lending value = {' + '.join(money(t) for t in terms) or money(0)} = {money(lv)}")
    owed = [f"VA financing {loan['loan_id']} {money(loan['outstanding'])}" for loan in c["loans"]
            if Decimal(loan["outstanding"])]
    owed += [f"account {a['account_id']} loan balance {money(a['loan_balance'])}" for a in c["accounts"]
             if a["open"] and Decimal(a["loan_balance"])]
    lines.append(f"{who}: debt = {' + '.join(owed) or money(0)} = {money(debt)}")
    if debt > lv:
        lines.append(f"{who}: short by {money(debt)} - {money(lv)} = {money(debt - lv)}")
    else:
        lines.append(f"{who}: not short: lending value exceeds debt by {money(lv - debt)}")
    return lines


def perpetual(c: dict[str, Any]) -> list[str]:
    who = c["client_id"]
    lines = [
        f"{who}: margin {quantity(m['net_deposited'])} {m['asset']} x {money(m['price'])} = {money(m['value'])}"
        for m in c["margin_assets"]
    ]
    values = [money(m["value"]) for m in c["margin_assets"]]
    lines.append(f"{who}: margin balance = {' + '.join(values) or money(0)} + realised P&L {money(c['realised_pnl'])}"
                 f" = {money(c['margin_balance'])}")
    pnl = [f"{p['contract_id']} {money(p['unrealised_pnl'])}" for p in c["perpetual_positions"]]
    lines.append(f"{who}: equity = margin balance {money(c['margin_balance'])}"
                 f"{''.join(' + unrealised ' + t for t in pnl)} = {money(c['equity'])}")
    equity, initial, maintenance = (Decimal(c[k]) for k in ("equity", "initial_requirement", "maintenance_requirement"))
    lines.append(f"{who}: initial margin requirement {money(initial)}; maintenance requirement {money(maintenance)}")
    if equity < maintenance:
        lines.append(f"{who}: below maintenance by {money(maintenance)} - {money(equity)} = {money(maintenance - equity)}")
    elif equity < initial:
        lines.append(f"{who}: below the initial requirement by {money(initial - equity)}")
    return lines


def parameters(x: dict[str, Any]) -> list[dict[str, Any]]:
    """Each parameter the verdict used, its value, and the amendment that set it (the latest
    one in force at the triggering event), else the rulebook default."""
    rule = x["rule"]
    owner = {p["name"]: rule["rule_id"] for p in rule["parameters_declared"]}
    owner.update({name.split(".", 1)[1]: name.split(".", 1)[0] for name in rule["uses"]})
    moment = datetime.fromisoformat(x["triggering_event"]["occurred_at"])
    amendments = [e for e in x["evidence_events"] if e["type"] == "RuleParameterAmended"]
    shown = []
    for name, value in (x["parameters_in_force"] or {}).items():
        rule_id = owner.get(name, rule["rule_id"])
        setting = [
            e for e in amendments
            if e["data"]["rule_id"] == rule_id and e["data"]["parameter"] == name
            and datetime.fromisoformat(e["data"]["effective_from"]) <= moment
        ]
        latest = max(setting, key=lambda e: (e["data"]["effective_from"], e["position"]), default=None)
        shown.append({
            "name": f"{rule_id}.{name}",
            "value": ", ".join(value) if isinstance(value, list) else str(value),
            "since": "the rulebook's default, in force from the beginning" if latest is None
            else when(latest["data"]["effective_from"]),
            "set_by": None if latest is None else {
                "event_id": latest["event_id"], "position": latest["position"],
                "notice_ref": latest["data"].get("notice_ref"),
            },
        })
    return shown


def event_line(e: dict[str, Any], trigger_id: str) -> dict[str, Any]:
    fields = [(k, v) for k, v in e["data"].items() if k != "event_id" and not isinstance(v, (dict, list))]
    return {
        "position": e["position"], "type": e["type"], "event_id": e["event_id"],
        "occurred_at": when(e["occurred_at"]), "trigger": e["event_id"] == trigger_id,
        "summary": ", ".join(f"{k} {_fact(v)}" for k, v in fields[:EVENT_FIELDS_SHOWN_MAX]),
    }


def _fact(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def as_text(p: dict[str, Any]) -> str:
    out = [f"Finding {p['finding_id']}: {p['headline']}", ""]
    out += ["What the rule requires", f"  {p['requires']}"]
    if p["citation"]:
        out.append(f"  Source: {p['citation']}" + (f" ({p['citation_note']})" if p["citation_note"] else ""))
    out += ["", "What happened", f"  {p['happened']}",
            f"  Occurred {p['occurred_at']}; detected {p['detected_at']}; subject {p['subject']}"
            + (f"; client {p['client_id']}" if p["client_id"] else "") + f"; case {p['case_status']}"]
    if p["arithmetic"]:
        out += ["", "The arithmetic", *(f"  {line}" for line in p["arithmetic"])]
    if "seen" in p:
        out += ["", "What the regulator's follower saw", *(f"  {line}" for line in p["seen"])]
        out += ["", "What it concerns", *(f"  {line}" for line in p["concerned"])]
    out += ["", "Parameters in force"]
    for q in p["parameters"] or [{"name": "none", "value": "", "since": "", "set_by": None}]:
        source = "" if q["set_by"] is None else (
            f", set by amendment {q['set_by']['event_id']} at position {q['set_by']['position']}"
            + (f" (notice {q['set_by']['notice_ref']})" if q["set_by"]["notice_ref"] else ""))
        out.append(f"  {q['name']} = {q['value']}" + (f", since {q['since']}{source}" if q["since"] else ""))
    out += ["", "The events behind it (ledger position, time, type, id)"]
    for e in p["events"]:
        mark = "  <- triggered the finding" if e["trigger"] else ""
        out.append(f"  {e['position']:>8}  {e['occurred_at']}  {e['type']}  {e['event_id']}{mark}")
    if not p["events"]:
        out.append("  none: the alert is about the feed or a row the regulator's copy does not hold")
    if "next_steps" in p:
        out += ["", "What the regulator should do next", *(f"  - {step}" for step in p["next_steps"])]
    return "\n".join(out) + "\n"
